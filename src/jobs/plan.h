// The plan of a batch: inputs ordered, numbered and given their outputs;
// output collisions found before anything runs; existing outputs skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "util/status.h"

namespace headroom {

// --order: how inputs of one priority are ordered.
enum class Order { kGiven, kName, kMtime, kSize };

// What MakePlan needs of the options.
struct PlanConfig {
  std::vector<std::string> command;  // COMMAND [ARG...], placeholders unexpanded
  std::vector<std::string> cpu_command;  // --cpu-command, split into words; empty = none
  Order order = Order::kGiven;       // --order
  std::string output_dir;            // --output-dir; empty = no managed output
  std::string output_name = "{/}";   // --output-name
  bool skip_existing = false;        // --skip-existing
  std::string batch_results;         // --batch-results FILE template; empty = none
  int slots = 1;                     // -j: units that may run at once
  bool shell = false;                // --shell: commands are shell scripts
};

struct Plan {
  std::vector<Job> to_run;   // in the order the queue should start them
  std::vector<Job> skipped;  // --skip-existing: final output already there
};

// What one stat(2) of an input found; `known` is false when it failed.
struct InputStat {
  bool known = false;
  bool regular = false;
  int64_t bytes = 0;
  int64_t mtime_s = 0;
  int64_t mtime_ns = 0;
};

// One stat per input, in the same order.
std::vector<InputStat> StatInputs(const std::vector<RawInput>& inputs);

// Stable-sorts by priority (higher first), then by `order`: given, name
// (byte order of the input), mtime (oldest first), size (smallest first).
// Inputs that cannot be stat'ed sort last for mtime/size.
void OrderInputs(Order order, std::vector<RawInput>* inputs);

// The same, with `stats` (StatInputs of `inputs`) used for mtime and size
// and reordered along with the inputs, so that each input is stat'ed once.
void OrderInputs(Order order, std::vector<RawInput>* inputs, std::vector<InputStat>* stats);

// Orders `inputs`, numbers them ({#} = 1-based position), carries their
// declared gpu_mem and ram, sets input_bytes (one stat per input), sets each
// job's output (output_dir / ExpandArg(output_name)) and temp_output (a
// hidden name in the same directory with the same extension), then applies
// --skip-existing (--max-count is applied by whoever knows which jobs are
// left to run: sched/rerun_policy.h). Errors (exit 2): two inputs with one output
// path (names both inputs and the path), --output-name that expands to an
// empty name, ".", ".." or contains '/', an output that is the same file as
// an input ("would overwrite its input"), {out} or {@out} used without
// --output-dir, --skip-existing without --output-dir, a job with no command
// at all, {results} used without --batch-results, --batch-results without
// {#} or {%} while -j > 1 (units running at once would share the file).
// With --batch-size these checks, outputs and skipping stay per job.
// Numbering happens before skipping and --max-count, so {#} is stable.
// temp_output is "<dir>/.<name without ext>.headroom-<pid>-<number><ext>".
// `pid` goes into temp names so that two runs never share one.
Status MakePlan(const PlanConfig& config, std::vector<RawInput> inputs, int pid, Plan* plan);

// --max-count N: keeps the first N jobs of plan->to_run; the rest are not run
// (nor counted as skipped).
void ApplyMaxCount(std::optional<int64_t> max_count, Plan* plan);

}  // namespace headroom
