#include "exec/slurm_launcher.h"

#include <gtest/gtest.h>

#include <fstream>

#include "util/test_temp_dir.h"

namespace headroom {
namespace {

TEST(SlurmLauncherTest, SbatchArgvCarriesTheBatchsOptions) {
  test::TempDir dir;
  ProcessSet processes;
  SlurmConfig config;
  config.self = "/opt/headroom/bin/headroom";
  config.dir = dir.path();
  config.job_name = "headroom-batch-3-77";
  config.cwd = "/work/clips dir";
  config.partition = "gpu";
  config.time = "2:00:00";
  config.gpus_per_job = "a100:1";
  config.cpus_per_job = 4;
  config.mem = (uint64_t{8} << 30) + 1;  // rounds up to whole MiB
  config.extra = {"--constraint=x", "--qos=low"};
  SlurmLauncher launcher(config, &processes);
  std::vector<std::string> argv = launcher.SbatchArgv("/s/1.spec.json", "/s/1.slurm.out");
  EXPECT_EQ(argv, (std::vector<std::string>{
                      "sbatch", "--parsable", "--job-name", "headroom-batch-3-77", "--chdir",
                      "/work/clips dir", "--output", "/s/1.slurm.out", "--open-mode=append",
                      "--partition=gpu", "--time=2:00:00", "--cpus-per-task=4", "--mem=8193M",
                      "--gres=gpu:a100:1", "--constraint=x", "--qos=low", "--comment=1", "--wrap",
                      "exec /opt/headroom/bin/headroom slurm-exec /s/1.spec.json"}));
}

TEST(SlurmLauncherTest, AResultFileIsReadOnlyWhenWhole) {
  test::TempDir dir;
  std::string path = dir.path() + "/1.result.json";
  ProcessExit exit;
  EXPECT_FALSE(ReadSlurmResult(path, &exit)) << "no file";
  std::ofstream(path) << R"({"exit_code": 3, "sig)";
  EXPECT_FALSE(ReadSlurmResult(path, &exit)) << "half a file";
  std::ofstream(path) << R"({"exit_code": -1, "signal": 9, "cpu_seconds": 1.5, "max_rss_kb": 2048, "oom": true, "note": "oom_kill"})";
  ASSERT_TRUE(ReadSlurmResult(path, &exit));
  EXPECT_EQ(exit.exit_code, -1);
  EXPECT_EQ(exit.signal, 9);
  EXPECT_EQ(exit.max_rss_kb, 2048);
  EXPECT_TRUE(exit.oom_reported);
  EXPECT_EQ(exit.note, "oom_kill");
}


// Recorded from Slurm 22.05 (tests/slurm/cluster.sh): `scontrol show job
// --oneliner` of a job that exited 3, and of one its cgroup killed for
// memory (--mem=100M, 400 MiB used).
constexpr const char* kFailedJob =
    R"(JobId=1 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice)"
    R"(=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requ)"
    R"(eue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:01 TimeLimit=UNLIMITED Ti)"
    R"(meMin=N/A SubmitTime=2026-12-07T01:41:32 EligibleTime=2026-12-07T01:41:32 AccrueTime=2026-)"
    R"(12-07T01:41:32 StartTime=2026-12-07T01:41:33 EndTime=2026-12-07T01:41:34 Deadline=N/A Susp)"
    R"(endTime=None SecsPreSuspend=0 LastSchedEval=2026-12-07T01:41:33 Scheduler=Main Partition=d)"
    R"(ebug AllocNode:Sid=localhost:12229 ReqNodeList=(null) ExcNodeList=(null) NodeList=localhos)"
    R"(t BatchHost=localhost NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=)"
    R"(cpu=1,mem=64M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNod)"
    R"(e=1 MinMemoryCPU=64M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK )"
    R"(Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp StdErr=/tmp/slurm-)"
    R"(1.out StdIn=/dev/null StdOut=/tmp/slurm-1.out Power=)";
constexpr const char* kOomJob =
    R"(JobId=1 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice)"
    R"(=0 Account=(null) QOS=(null) JobState=OUT_OF_MEMORY Reason=OutOfMemory Dependency=(null) R)"
    R"(equeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:125 RunTime=00:00:00 TimeLimit=UNLIMIT)"
    R"(ED TimeMin=N/A SubmitTime=2026-12-07T01:41:58 EligibleTime=2026-12-07T01:41:58 AccrueTime=)"
    R"(2026-12-07T01:41:58 StartTime=2026-12-07T01:42:00 EndTime=2026-12-07T01:42:00 Deadline=N/A)"
    R"( SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-07T01:42:00 Scheduler=Main Partit)"
    R"(ion=debug AllocNode:Sid=localhost:12229 ReqNodeList=(null) ExcNodeList=(null) NodeList=loc)"
    R"(alhost BatchHost=localhost NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* )"
    R"(TRES=cpu=1,mem=100M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinC)"
    R"(PUsNode=1 MinMemoryNode=100M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubsc)"
    R"(ribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/work/main StdE)"
    R"(rr=/work/main/slurm-1.out StdIn=/dev/null StdOut=/work/main/slurm-1.out Power=)";

TEST(SlurmLauncherTest, ScontrolSaysHowAJobEnded) {
  SlurmJobEnd end;
  ASSERT_TRUE(ParseScontrolJob(kFailedJob, &end));
  EXPECT_EQ(end.state, "FAILED");
  EXPECT_EQ(end.reason, "NonZeroExitCode");
  EXPECT_EQ(end.exit_code, 3);
  EXPECT_EQ(end.signal, 0);
  ASSERT_TRUE(ParseScontrolJob(kOomJob, &end));
  EXPECT_EQ(end.state, "OUT_OF_MEMORY");
  EXPECT_EQ(end.reason, "OutOfMemory");
  EXPECT_EQ(end.signal, 125);
  // A purged or unknown job, as scontrol answers for it.
  EXPECT_FALSE(ParseScontrolJob("Job 2_1 not found", &end));
  EXPECT_FALSE(ParseScontrolJob("slurm_load_jobs error: Invalid job id specified", &end));
}

// Recorded from Slurm 22.05 with accounting (tests/slurm/cluster.sh
// --accounting --cgroup): `sacct -j 1,2,3 --noheader --parsable2
// --format=JobID,State,ExitCode,Reason` after job 1 ran `srun python3 ...`
// past its --mem=100M (the step ran out of memory, the job row says FAILED),
// job 2 ran the same without srun, and array 3 (tasks as 3_0, 3_1) ended.
constexpr const char* kSacct =
    "1|FAILED|1:0|None\n"
    "1.batch|FAILED|1:0|\n"
    "1.0|OUT_OF_MEMORY|0:125|\n"
    "2|OUT_OF_MEMORY|0:125|None\n"
    "2.batch|OUT_OF_MEMORY|0:125|\n"
    "3_0|COMPLETED|0:0|None\n"
    "3_0.batch|COMPLETED|0:0|\n"
    "3_1|CANCELLED by 0|0:15|None\n"
    "3_1.batch|CANCELLED|0:15|\n";

TEST(SlurmLauncherTest, SacctSaysHowAJobEndedReadingEveryStep) {
  SlurmJobEnd end;
  ASSERT_TRUE(ParseSacctJob(kSacct, "1", &end));
  EXPECT_EQ(end.state, "OUT_OF_MEMORY") << "step 1.0 ran out of memory";
  EXPECT_EQ(end.reason, "step 1.0");
  EXPECT_EQ(end.exit_code, 1);
  ASSERT_TRUE(ParseSacctJob(kSacct, "2", &end));
  EXPECT_EQ(end.state, "OUT_OF_MEMORY");
  EXPECT_EQ(end.signal, 125);
  EXPECT_EQ(end.reason, "");
  ASSERT_TRUE(ParseSacctJob(kSacct, "3_1", &end));
  EXPECT_EQ(end.state, "CANCELLED");
  EXPECT_EQ(end.signal, 15);
  ASSERT_TRUE(ParseSacctJob(kSacct, "3_0", &end));
  EXPECT_EQ(end.state, "COMPLETED");
  EXPECT_FALSE(ParseSacctJob(kSacct, "3", &end)) << "an array's own id is none of its tasks";
  EXPECT_FALSE(ParseSacctJob("", "1", &end)) << "accounting has not heard of it yet";
  EXPECT_FALSE(ParseSacctJob("sacct: error: Slurm accounting storage is disabled\n", "1", &end));
}

// Recorded from Slurm 22.05 (tests/slurm/cluster.sh, 2 CPUs): `squeue
// --noheader --array --format="%i %T %r %N"` while array 44821000's tasks 0
// and 1 ran, 2 and 3 waited for resources, and job 44821001 behind them.
TEST(SlurmLauncherTest, SqueueSaysEachJobsStateReasonAndNode) {
  std::map<std::string, SlurmQueued> queued = ParseSqueue(
      "44821000_2 PENDING Resources \n"
      "44821000_3 PENDING Resources \n"
      "44821001 PENDING Priority \n"
      "44821000_0 RUNNING None localhost\n"
      "44821000_1 RUNNING None localhost\n");
  ASSERT_EQ(queued.size(), 5u);
  EXPECT_EQ(queued["44821000_2"].state, "PENDING");
  EXPECT_EQ(queued["44821000_2"].reason, "Resources");
  EXPECT_EQ(queued["44821000_2"].node, "");
  EXPECT_EQ(queued["44821001"].reason, "Priority");
  EXPECT_EQ(queued["44821000_0"].state, "RUNNING");
  EXPECT_EQ(queued["44821000_0"].reason, "") << "None is no reason";
  EXPECT_EQ(queued["44821000_0"].node, "localhost");
  EXPECT_TRUE(ParseSqueue("").empty());
}

}  // namespace
}  // namespace headroom
