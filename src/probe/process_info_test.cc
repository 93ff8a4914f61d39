#include "probe/process_info.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "probe/gpu_table.h"
#include "util/test_temp_dir.h"

namespace headroom {
namespace {

using namespace std::string_literals;

// A /proc of one process, as the kernel writes its files: NUL-separated.
class ProcessInfoTest : public ::testing::Test {
 protected:
  void Write(pid_t pid, const std::string& name, const std::string& text) {
    std::string dir = proc_.path() + "/" + std::to_string(pid);
    mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
  }
  test::TempDir proc_;
};

TEST_F(ProcessInfoTest, AJobsProcessIsNamedByItsJobAndCommand) {
  Write(42, "cmdline", "python3\0train.py\0--in\0clip 1.mp4\0"s);
  Write(42, "environ", "PATH=/bin\0HEADROOM_JOB_NUMBER=7\0HEADROOM_JOB_INPUT=clip 1.mp4\0"s);
  ProcessInfo info = ReadProcessInfo(42, proc_.path());
  EXPECT_EQ(info.command, "python3 train.py --in 'clip 1.mp4'");
  EXPECT_EQ(info.job_number, 7);
  EXPECT_EQ(info.job_input, "clip 1.mp4");

  Snapshot snapshot;
  GpuDevice device;
  device.name = "GPU";
  device.memory_total = 1ull << 34;
  device.processes_known = true;
  device.processes.push_back({42, 3ull << 30, 42});
  device.processes.push_back({43, 1ull << 30, 0});
  snapshot.gpus.push_back(device);
  std::string table = FormatGpuTable(snapshot, {{42, info}, {43, ProcessInfo{"Xorg :0", {}, ""}}});
  EXPECT_NE(table.find("  pid 42       3.0 GiB    job #7 'clip 1.mp4': python3 train.py --in 'clip 1.mp4'\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("  pid 43       1.0 GiB    Xorg :0\n"), std::string::npos) << table;
  std::string json = FormatGpuJson(snapshot, {{42, info}});
  EXPECT_NE(json.find(R"("job_number":7,"job_input":"clip 1.mp4")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"pid":43,"used_bytes":1073741824,"command":null,"job_number":null,"job_input":null})"),
            std::string::npos)
      << json;
}

TEST_F(ProcessInfoTest, AnotherUsersProcessShowsWhatCanBeRead) {
  Write(50, "cmdline", "/usr/bin/Xorg\0:0\0"s);  // environ unreadable: not there
  ProcessInfo info = ReadProcessInfo(50, proc_.path());
  EXPECT_EQ(info.command, "/usr/bin/Xorg :0");
  EXPECT_FALSE(info.job_number.has_value());
  ProcessInfo gone = ReadProcessInfo(51, proc_.path());
  EXPECT_EQ(gone.command, "");
  EXPECT_FALSE(gone.job_number.has_value());
}

}  // namespace
}  // namespace headroom
