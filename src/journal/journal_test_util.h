// Shared by the journal, status and report tests: a journal in a temp dir holding one
// small batch whose every figure is known, written with the Journal API the
// way the recorder writes it.
//
// Batch 1 started at t = 1000 (unix seconds), command "upscale {}":
//   #1 a.mp4  succeeded  attempt 1: gpu 0 slot 1, 1010-1030, 2 GiB VRAM, 1 GiB RSS
//   #2 b.mp4  succeeded  attempt 1: gpu 0 slot 2, 1005-1008, out of memory (exit 1)
//                        attempt 2: gpu 0 slot 2, 1040-1060, 5 GiB VRAM
//   #3 c.mp4  failed     attempt 1: gpu 1 slot 3, 1010-1012, exit 3, log "c.err"
//   #4 d.mp4  skipped
//   #5 e.mp4  queued
// Samples: gpu 0 at 1000 (1 GiB of 24, 60 C, 50 %) and 1050 (20 GiB, 70 C,
// 100 %); host at 1000 (8 of 64 GiB) and 1050 (12 GiB). Events: limit gpu 0
// -> 4 "start", "waiting" "vram gpu0", limit gpu 0 -> 2 "gpu0 limit 4 -> 2:
// out of memory", "waiting" "slots".
// Finished (ended 1070, exit 1) unless `end` is false.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "journal/journal.h"

namespace headroom::journal_test {

constexpr uint64_t kGiB = 1ull << 30;

inline AttemptRecord Attempt(const std::string& key, int number, int slot, int gpu, double start) {
  AttemptRecord attempt;
  attempt.job_key = key;
  attempt.attempt = number;
  attempt.slot = slot;
  attempt.gpu = gpu;
  attempt.start = start;
  attempt.stdout_log = key + ".out";
  attempt.stderr_log = key + ".err";
  return attempt;
}

inline AttemptRecord Ended(AttemptRecord attempt, double end, int exit_code, std::string outcome) {
  attempt.end = end;
  attempt.exit_code = exit_code;
  attempt.outcome = std::move(outcome);
  attempt.wall_seconds = end - attempt.start;
  return attempt;
}

inline JobRecord Job(const std::string& key, int64_t number) {
  JobRecord job;
  job.key = key;
  job.number = number;
  job.name = key;
  job.input = "in/" + key;
  job.argv = {"upscale", job.input};
  job.output = "out/" + key;
  return job;
}

inline SampleRecord Sample(double t, int gpu, uint64_t used, uint64_t total,
                           std::optional<int> temperature = std::nullopt,
                           std::optional<int> utilization = std::nullopt) {
  SampleRecord sample;
  sample.t = t;
  sample.gpu = gpu;
  sample.used = used;
  sample.total = total;
  sample.temperature_c = temperature;
  sample.utilization_pct = utilization;
  return sample;
}

inline EventRecord Event(double t, std::string kind, int gpu, int64_t value, std::string text) {
  return EventRecord{t, std::move(kind), gpu, value, std::move(text)};
}

// Writes the batch above into <state_dir>/journal.db; returns its id.
inline int64_t WriteSampleBatch(const std::string& state_dir, bool end = true) {
  std::unique_ptr<Journal> journal;
  Status status = Journal::Open(state_dir, &journal);
  EXPECT_TRUE(status.ok()) << status.message();
  if (!status.ok()) return 0;
  BatchRecord batch;
  batch.started_at = 1000;
  batch.host = "box";
  batch.command_template = "upscale {}";
  batch.input_source = "--input-dir in";
  batch.options_json = R"({"jobs":3})";
  batch.pid = 4242;
  EXPECT_TRUE(journal->CreateBatch(&batch).ok());
  int64_t id = batch.id;
  EXPECT_TRUE(journal
                  ->UpsertJobs(id, {Job("a.mp4", 1), Job("b.mp4", 2), Job("c.mp4", 3),
                                    Job("d.mp4", 4), Job("e.mp4", 5)})
                  .ok());
  AttemptRecord a1 = Attempt("a.mp4", 1, 1, 0, 1010);
  AttemptRecord b1 = Attempt("b.mp4", 1, 2, 0, 1005);
  AttemptRecord b2 = Attempt("b.mp4", 2, 2, 0, 1040);
  AttemptRecord c1 = Attempt("c.mp4", 1, 3, 1, 1010);
  for (const AttemptRecord& attempt : {b1, a1, c1, b2}) {
    EXPECT_TRUE(journal->StartAttempt(id, attempt).ok());
  }
  AttemptRecord a1_end = Ended(a1, 1030, 0, "succeeded");
  a1_end.peak_vram = 2 * kGiB;
  a1_end.peak_rss = kGiB;
  AttemptRecord b1_end = Ended(b1, 1008, 1, "oom");
  b1_end.oom = true;
  AttemptRecord b2_end = Ended(b2, 1060, 0, "succeeded");
  b2_end.peak_vram = 5 * kGiB;
  AttemptRecord c1_end = Ended(c1, 1012, 3, "failed");
  for (const AttemptRecord& attempt : {b1_end, a1_end, c1_end, b2_end}) {
    EXPECT_TRUE(journal->EndAttempt(id, attempt).ok());
  }
  EXPECT_TRUE(journal->SetJobState(id, "a.mp4", JobState::kSucceeded).ok());
  EXPECT_TRUE(journal->SetJobState(id, "b.mp4", JobState::kSucceeded).ok());
  EXPECT_TRUE(journal->SetJobState(id, "c.mp4", JobState::kFailed).ok());
  EXPECT_TRUE(journal->SetJobState(id, "d.mp4", JobState::kSkipped).ok());
  for (const SampleRecord& sample :
       {Sample(1000, 0, kGiB, 24 * kGiB, 60, 50), Sample(1000, -1, 8 * kGiB, 64 * kGiB),
        Sample(1050, 0, 20 * kGiB, 24 * kGiB, 70, 100), Sample(1050, -1, 12 * kGiB, 64 * kGiB)}) {
    EXPECT_TRUE(journal->AddSample(id, sample).ok());
  }
  for (const EventRecord& event :
       {Event(1000, "limit", 0, 4, "start"), Event(1001, "waiting", -1, 0, "vram gpu0"),
        Event(1008, "limit", 0, 2, "gpu0 limit 4 -> 2: out of memory"),
        Event(1009, "notice", -1, 0, "something"), Event(1011, "waiting", -1, 0, "slots")}) {
    EXPECT_TRUE(journal->AddEvent(id, event).ok());
  }
  if (end) {
    EXPECT_TRUE(journal->EndBatch(id, 1070, 1).ok());
  }
  return id;
}

}  // namespace headroom::journal_test
