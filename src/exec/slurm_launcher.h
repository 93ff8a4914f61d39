// SlurmLauncher: runs the ProcessRunner's prepared processes as Slurm jobs
// (--executor slurm). Each process becomes one `sbatch` whose script is
// `headroom slurm-exec SPEC` (exec/slurm_exec.h): the node runs exactly the
// prepared argv and environment, writes the logs the ProcessRunner named,
// and leaves a result file. All files live in one directory that the nodes
// share with the submitting machine (under the state dir).
//
// Polling: a result file ends a job as soon as it appears (checked every
// tenth of a second); once per `poll`, one `squeue --name` call for the
// whole batch finds jobs that left the queue without one, and `sacct`
// (every step; when the cluster has accounting) or `scontrol show job`
// (without) says how they ended: cancelled, timed out, node failure, or
// OUT_OF_MEMORY, which is reported as such.
// `sbatch` failures that are the controller's (socket timeouts) are retried
// with backoff; a rejection ("Invalid partition name specified") fails the
// start with Slurm's message.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/launcher.h"

namespace headroom {

struct SlurmConfig {
  std::string self;      // the headroom binary the nodes run (slurm-exec)
  std::string dir;       // specs, results, Slurm's own output; shared with the nodes
  std::string job_name;  // every job of the batch: squeue finds them by it
  std::string cwd;       // sbatch --chdir
  std::string partition, account, time;  // --slurm-partition, --slurm-account, --slurm-time
  std::vector<std::string> extra;        // --slurm-extra, as words
  std::string gpus_per_job;              // --gpus-per-job N|TYPE:N; empty = none
  int cpus_per_job = 0;                  // --cpus-per-job; 0 = Slurm's default
  std::optional<uint64_t> mem;           // --ram-per-job, bytes: sbatch --mem
  Millis poll{2000};                     // --slurm-poll
  // --slurm-array auto: the jobs started together with the same request
  // go as job arrays (chunked below the cluster's MaxArraySize), submitted
  // at the next Wait; off: one sbatch per job, at once.
  bool arrays = true;
};

// A Slurm job that a killed headroom submitted for a batch and that a resume
// can take back (FindSlurmLeftovers): queued, running, or ended meanwhile
// with its result file.
struct SlurmLeftover {
  std::string base;          // <its run's dir>/<n>: .spec.json, .result.json, .jobid
  std::string job_id;        // "42", or "42_3"
  std::string job_name;      // its run's, for squeue --name
  std::string slurm_output;  // what Slurm itself printed for it
  bool ended = false;        // its result file is there
  LaunchTag tag;
  std::vector<std::string> argv;
  std::string stdout_path, stderr_path;
  std::optional<uint64_t> memory;
};

// The Slurm jobs earlier runs of batch `batch` submitted and left without
// their end being seen (<state_dir>/slurm/batch-<batch>-*/). A job is known
// by the id its run wrote once sbatch answered, or, when that run was
// killed before, by its job name and comment in one squeue. What cannot be
// taken back goes: a job of an older headroom (no tag) is cancelled; one
// that Slurm no longer knows and that left no result is forgotten (its
// jobs run again).
std::vector<SlurmLeftover> FindSlurmLeftovers(const std::string& state_dir, int64_t batch,
                                              ProcessSet* processes);

class SlurmLauncher : public Launcher {
 public:
  // `processes` runs sbatch, squeue, scontrol and scancel, and takes the
  // interrupts; it must outlive the launcher. Creates `config.dir`.
  SlurmLauncher(SlurmConfig config, ProcessSet* processes);

  // Reads what the cluster offers: fails (with Slurm's message) when its
  // commands are missing or the controller does not answer, so that a
  // batch stops before submitting anything.
  Status Connect();
  // The most memory a job can get, as Connect read it: the largest node's
  // RealMemory (the partition's MaxMemPerNode when lower); nullopt when
  // unknown. `why` says it for people ("no node of partition gpu has more").
  std::optional<uint64_t> MaxMemory(std::string* why) const {
    *why = max_memory_why_;
    return max_memory_;
  }

  Status Launch(const SpawnSpec& spec, std::optional<uint64_t> memory, const LaunchTag& tag,
                pid_t* handle) override;
  // A resume: what FindSlurmLeftovers found, for Adopt to take back.
  void SetLeftovers(std::vector<SlurmLeftover> leftovers);
  std::vector<std::string> Leftovers() const override;
  bool Adopt(const std::string& unit, AdoptedLaunch* out) override;
  std::vector<LaunchTag> DropLeftovers() override;
  void Signal(pid_t handle, int signal) override;
  void Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt) override;
  bool Places() const override { return true; }
  // "slurm 42_3 PENDING (Priority)", "slurm 42_3 RUNNING on node7", from
  // the last squeue; "slurm 42_3" before one; "" before submission.
  std::string Where(pid_t handle) const override;

  // The sbatch arguments for the spec at `spec_path` (for tests and docs).
  // `array_size` > 0: an array of that many tasks, `spec_path` then being
  // the list of their specs.
  // `--comment` is the spec's (or the list's) file name without its
  // extension: with the job name, it finds a job whose id was never written.
  std::vector<std::string> SbatchArgv(const std::string& spec_path,
                                      const std::string& slurm_output,
                                      std::optional<uint64_t> memory = std::nullopt,
                                      size_t array_size = 0) const;

 private:
  struct Submitted {
    std::string base;  // <dir>/<n>: its .spec.json, .result.json, .jobid
    std::string job_id;  // "42", or "42_3" for task 3 of array 42; "" until submitted
    std::string result_path;
    std::string slurm_output;  // what Slurm itself printed for it
    std::optional<uint64_t> memory;
    bool cancelled = false;
    std::string state, reason, node;  // from the last squeue
    // Since when it is gone from the queue with neither a result nor an end
    // scontrol or sacct knows (CheckQueue asks again for a while).
    std::optional<std::chrono::steady_clock::time_point> unknown_since;
  };
  // Submits what Launch queued (arrays on): one sbatch per group of the
  // same request and chunk of MaxArraySize; a group that Slurm refuses
  // ends its jobs with Slurm's message.
  void Flush();
  // One sbatch for `argv`, retried while the controller does not answer;
  // the job id, or an error with Slurm's message.
  Status Submit(const std::vector<std::string>& argv, std::string* id);
  void Submitted_(pid_t handle, const std::string& id);  // records the id (and its .jobid file)
  void EndUnsubmitted(pid_t handle, const std::string& why, int signal = 0);
  void CheckResults(std::vector<ProcessExit>* exits);
  void CancelAsked();  // scancel what Signal asked for, in chunks
  void CheckQueue(std::vector<ProcessExit>* exits);
  // How job `id` ended, for a job that left no result: from scontrol, or
  // sacct with accounting; false (and `exit` says it left without a result)
  // when neither knows it.
  bool EndOf(pid_t handle, const std::string& id, ProcessExit* exit);
  // Runs a Slurm command; `out` gets its stdout and stderr together.
  Status Run(const std::vector<std::string>& argv, std::string* out);

  SlurmConfig config_;
  ProcessSet* processes_;
  pid_t next_handle_;
  std::map<pid_t, Submitted> active_;
  std::map<std::string, SlurmLeftover> leftovers_;  // by LaunchTag::unit, until adopted or dropped
  std::string queue_names_;  // squeue --name: this run's job name and those of adopted jobs
  std::vector<std::string> to_cancel_;  // job ids Signal asked to cancel: one scancel per Wait
  std::vector<pid_t> queued_;           // launched, not submitted yet (arrays)
  std::vector<ProcessExit> ended_;      // ended before Slurm saw them: the next Wait reports them
  size_t max_array_size_ = 1000;        // from scontrol show config (MaxArraySize)
  int arrays_submitted_ = 0;
  std::chrono::steady_clock::time_point last_queue_check_{};
  bool accounting_ = false;  // sacct works (AccountingStorageType is not none)
  std::optional<uint64_t> max_memory_;
  std::string max_memory_why_;
};

// A resume of batch `batch` after its headroom was killed: cancels the
// batch's Slurm jobs that earlier runs submitted (the `N.jobid` files under
// <state_dir>/slurm/batch-<batch>-*/) and that left no result, so that
// what runs again never runs twice at once. Returns how many it asked
// Slurm to cancel (scancel of a job that has ended meanwhile is harmless).
int CancelSlurmLeftovers(const std::string& state_dir, int64_t batch, ProcessSet* processes);

// One line of `squeue --noheader --array --format="%i %T %r %N"`: a job (or
// array task, "42_3") in the queue, its state, why it waits ("" for None)
// and its node ("" while pending).
struct SlurmQueued {
  std::string state, reason, node;
};
std::map<std::string, SlurmQueued> ParseSqueue(const std::string& text);

// How `scontrol show job --oneliner` says a job ended.
struct SlurmJobEnd {
  std::string state;   // JobState: FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, ...
  std::string reason;  // Reason, "" for None
  int exit_code = 0;   // ExitCode=3:0 -> 3
  int signal = 0;      // ExitCode=0:9 -> 9
};
// False when the text names no job ("Job 42 not found", an error).
bool ParseScontrolJob(const std::string& text, SlurmJobEnd* out);

// How `sacct -j ID --noheader --parsable2 --format=JobID,State,ExitCode,Reason`
// says job `id` ("42", "42_3") ended, reading every step: one that ran out
// of memory makes the end OUT_OF_MEMORY ("step 42.0"), where the job's own
// row says FAILED. False when it has no row for the job.
bool ParseSacctJob(const std::string& text, const std::string& id, SlurmJobEnd* out);

// Reads a result file the wrapper wrote; false when it is not there (yet)
// or not complete.
bool ReadSlurmResult(const std::string& path, ProcessExit* exit);

}  // namespace headroom
