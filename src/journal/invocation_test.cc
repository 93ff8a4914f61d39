#include "journal/invocation.h"

#include <gtest/gtest.h>

#include <memory>

#include "journal/journal.h"
#include "journal/resume.h"
#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using Args = std::vector<std::string>;

TEST(InvocationTest, JsonRoundTrip) {
  Invocation invocation{{"run", "-j", "2", "--", "echo", "a b"}, "/work/x", true};
  Invocation read;
  ASSERT_TRUE(ParseInvocation(InvocationJson(invocation), &read).ok());
  EXPECT_EQ(read.args, invocation.args);
  EXPECT_EQ(read.cwd, "/work/x");
  EXPECT_TRUE(read.stdin_inputs);
  EXPECT_FALSE(ParseInvocation("{\"args\": 3}", &read).ok());
  EXPECT_FALSE(ParseInvocation("not json", &read).ok());
}

TEST(InvocationTest, ResumeArgsReplaceTheBatchsOwnResumeOptions) {
  Invocation invocation{{"run", "--resume", "--batch", "2", "--batch=2", "-j", "4", "--", "tool",
                         "--resume", "--batch", "x"},
                        "/w",
                        false};
  EXPECT_EQ(ResumeArgs(invocation, 7, false),
            (Args{"run", "--resume", "--batch", "7", "-j", "4", "--", "tool", "--resume",
                  "--batch", "x"}));
  invocation.stdin_inputs = true;
  EXPECT_EQ(ResumeArgs({{"run", "--", "echo"}, "/w", true}, 3, true),
            (Args{"run", "--resume-failed", "--batch", "3", "-0", "--", "echo"}));
}

TEST(InvocationTest, PlanResumeReadsTheFirstInvocationAndTheStdinInputs) {
  test::TempDir dir;
  {
    std::unique_ptr<Journal> journal;
    ASSERT_TRUE(Journal::Open(dir.path(), &journal).ok());
    BatchRecord batch = NewBatchRecord({"echo"}, "stdin", "{}");
    ASSERT_TRUE(journal->CreateBatch(&batch).ok());
    JobRecord a;
    a.key = "ka";
    a.number = 1;
    a.name = a.input = "line one";
    JobRecord b = a;
    b.key = "kb";
    b.number = 2;
    b.name = b.input = "two";
    ASSERT_TRUE(journal->UpsertJobs(batch.id, {a, b}).ok());
    EventRecord event;
    event.kind = std::string(kInvocationEvent);
    event.text = InvocationJson({{"run", "--", "echo"}, "/somewhere", true});
    ASSERT_TRUE(journal->AddEvent(batch.id, event).ok());
    event.text = InvocationJson({{"run", "--", "other"}, "/else", false});
    ASSERT_TRUE(journal->AddEvent(batch.id, event).ok());
    BatchRecord old = NewBatchRecord({"echo"}, "stdin", "{}");
    ASSERT_TRUE(journal->CreateBatch(&old).ok());  // no invocation recorded
  }
  ResumeCommand command;
  ASSERT_TRUE(PlanResume(dir.path(), 1, false, &command).ok());
  EXPECT_EQ(command.batch, 1);
  EXPECT_EQ(command.cwd, "/somewhere");
  EXPECT_EQ(command.args, (Args{"run", "--resume", "--batch", "1", "-0", "--", "echo"}));
  ASSERT_TRUE(command.stdin_data.has_value());
  EXPECT_EQ(*command.stdin_data, std::string("line one\0two\0", 13));

  Status latest = PlanResume(dir.path(), std::nullopt, false, &command);
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.message().substr(0, 38), "batch 2 has no recorded command line (");
  EXPECT_FALSE(PlanResume(dir.path(), 9, false, &command).ok());
}

}  // namespace
}  // namespace headroom
