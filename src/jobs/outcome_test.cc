#include "jobs/outcome.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace headroom {
namespace {

// The names are contracts: journals on disk, users' scripts (the hook's
// HEADROOM_JOB_OUTCOME), reports and metrics read them.
TEST(OutcomeNamesTest, EachOutcomeHasItsLabelAndStoredName) {
  EXPECT_EQ(OutcomeLabel(Outcome::kSucceeded), "SUCCESS");
  EXPECT_EQ(OutcomeLabel(Outcome::kFailed), "FAILED");
  EXPECT_EQ(OutcomeLabel(Outcome::kTimedOut), "TIMEOUT");
  EXPECT_EQ(OutcomeLabel(Outcome::kInterrupted), "INTERRUPTED");
  EXPECT_EQ(OutcomeLabel(Outcome::kStartFailed), "NOT STARTED");
  EXPECT_EQ(StoredOutcome(Outcome::kSucceeded, false), "succeeded");
  EXPECT_EQ(StoredOutcome(Outcome::kFailed, false), "failed");
  EXPECT_EQ(StoredOutcome(Outcome::kTimedOut, false), "timed-out");
  EXPECT_EQ(StoredOutcome(Outcome::kInterrupted, false), "interrupted");
  EXPECT_EQ(StoredOutcome(Outcome::kStartFailed, false), "start-failed");
  EXPECT_EQ(StoredOutcome(Outcome::kFailed, true), "oom") << "out of memory wins";
}

// What the journal stores reads back as the class reports show.
TEST(OutcomeNamesTest, StoredOutcomesReadBackAsTheirClass) {
  auto class_of = [](Outcome outcome, bool oom) {
    return ClassifyStoredOutcome(StoredOutcome(outcome, oom), false, true);
  };
  EXPECT_EQ(class_of(Outcome::kSucceeded, false), AttemptClass::kSucceeded);
  EXPECT_EQ(class_of(Outcome::kFailed, false), AttemptClass::kFailed);
  EXPECT_EQ(class_of(Outcome::kTimedOut, false), AttemptClass::kTimedOut);
  EXPECT_EQ(class_of(Outcome::kInterrupted, false), AttemptClass::kInterrupted);
  EXPECT_EQ(class_of(Outcome::kStartFailed, false), AttemptClass::kFailed);
  EXPECT_EQ(class_of(Outcome::kFailed, true), AttemptClass::kOom);
}

TEST(OutcomeNamesTest, StoredTextIsReadLooselyTheFlagFirstAndUnknownIsAFailure) {
  EXPECT_EQ(ClassifyStoredOutcome("Timed Out", false, true), AttemptClass::kTimedOut);
  EXPECT_EQ(ClassifyStoredOutcome("OK", false, true), AttemptClass::kSucceeded);
  EXPECT_EQ(ClassifyStoredOutcome("succeeded", true, true), AttemptClass::kOom);
  EXPECT_EQ(ClassifyStoredOutcome("", false, false), AttemptClass::kRunning);
  EXPECT_EQ(ClassifyStoredOutcome("interrupted", false, false), AttemptClass::kInterrupted);
  EXPECT_EQ(ClassifyStoredOutcome("", false, true), AttemptClass::kFailed);
  EXPECT_EQ(ClassifyStoredOutcome("exploded", false, true), AttemptClass::kFailed);
}

TEST(OutcomeNamesTest, EveryClassAndStateHasItsOwnName) {
  std::set<std::string> classes;
  for (AttemptClass c : {AttemptClass::kRunning, AttemptClass::kSucceeded, AttemptClass::kFailed,
                         AttemptClass::kOom, AttemptClass::kTimedOut, AttemptClass::kInterrupted}) {
    classes.insert(std::string(AttemptClassName(c)));
  }
  EXPECT_EQ(classes, (std::set<std::string>{"running", "succeeded", "failed", "oom", "timeout",
                                            "interrupted"}));
  std::set<std::string> states;
  for (JobState state : kAllJobStates) {
    states.insert(std::string(JobStateName(state)));
    EXPECT_EQ(ParseJobState(JobStateName(state)), state);
  }
  EXPECT_EQ(states.size(), kAllJobStates.size());
  EXPECT_EQ(ParseJobState("done"), std::nullopt);
  EXPECT_EQ(BatchRunStateName(BatchRunState::kRunning), "running");
  EXPECT_EQ(BatchRunStateName(BatchRunState::kFinished), "finished");
  EXPECT_EQ(BatchRunStateName(BatchRunState::kStopped), "stopped");
}

}  // namespace
}  // namespace headroom
