// The subcommands of headroom-simgpu and what they share. Each returns the
// process's exit code: 0 done, 1 failed (out of memory, no device, I/O),
// 2 bad usage, 128+N stopped by signal N.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "probe/sim_gpu.h"
#include "util/status.h"

namespace headroom::simgpu {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Prints "headroom-simgpu: error: <message>" to stderr and returns `code`.
int Fail(const std::string& message, int code);

// A subcommand's options: "--name VALUE" or "--name=VALUE" for each of
// `names`; `values` may hold defaults beforehand. Words that do not start
// with '-' are ignored: they are the input that headroom appends to a
// command without placeholders, so `-- headroom-simgpu alloc ...` works as
// a job as it is; `inputs`, when given, receives them in order.
Status ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& names,
                  std::map<std::string, std::string>* values,
                  std::vector<std::string>* inputs = nullptr);
// `--name`'s value as a number >= 0 ("0.5", "12").
Status ParseNonNegative(const std::string& name, const std::string& text, double* value);
// `--name`'s value as a whole number (negative allowed when `allow_negative`).
Status ParseWhole(const std::string& name, const std::string& text, bool allow_negative,
                  long* value);

int Alloc(SimGpu& sim, const std::vector<std::string>& args);

}  // namespace headroom::simgpu
