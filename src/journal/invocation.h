// Invocation: how a batch was started (its command line, working directory,
// and whether its inputs came from stdin), kept as the batch's first
// "invocation" event so that `headroom resume` can continue it without the
// command line being typed again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace headroom {

inline constexpr std::string_view kInvocationEvent = "invocation";

struct Invocation {
  std::vector<std::string> args;  // after the program name: "run", options, "--", command...
  std::string cwd;                // where it ran: relative paths in `args` are relative to it
  bool stdin_inputs = false;      // its inputs were read from stdin (lines, or NUL-separated)
};

std::string InvocationJson(const Invocation& invocation);
Status ParseInvocation(const std::string& json, Invocation* out);

// What `headroom resume` runs instead of itself.
struct ResumeCommand {
  int64_t batch = 0;
  std::vector<std::string> args;  // for `headroom` (no program name)
  std::string cwd;
  // NUL-separated inputs for its stdin, from the journal, when the batch
  // read its inputs from stdin (then `args` has -0); nullopt otherwise.
  std::optional<std::string> stdin_data;
};

// The batch's run arguments as `run --resume[-failed] --batch ID` takes
// them: its own, with any --resume, --resume-failed and --batch of its own
// (before "--") left out.
std::vector<std::string> ResumeArgs(const Invocation& invocation, int64_t batch, bool failed);

// `headroom resume [ID] [--failed]`: batch `batch` (the latest when unset)
// of the journal in `state_dir`, and how to continue it. Errors are one
// line: the journal's, "no batch 9", a batch from a headroom that did not
// record its command line, a batch whose jobs file came from stdin.
Status PlanResume(const std::string& state_dir, std::optional<int64_t> batch, bool failed,
                  ResumeCommand* out);

}  // namespace headroom
