#include "probe/gpu_table.h"

#include <gtest/gtest.h>

#include <string>

namespace headroom {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

Snapshot TwoGpus() {
  Snapshot s;
  s.gpu_provider = "nvml";
  GpuDevice h100;
  h100.index = 0;
  h100.name = "NVIDIA H100 80GB HBM3";
  h100.uuid = "GPU-5b1c7b2a";
  h100.memory_total = 80 * kGiB;
  h100.memory_used = 40 * kGiB;
  h100.temperature_c = 45;
  h100.utilization_pct = 87;
  h100.processes_known = true;
  h100.processes = {{4242, 30 * kGiB}, {4343, 10 * kGiB}};
  GpuDevice k80;
  k80.index = 1;
  k80.name = "Tesla K80";
  k80.memory_total = 12 * kGiB;
  s.gpus = {h100, k80};
  return s;
}

TEST(FormatGpuTableTest, OneAlignedRowPerDeviceWithItsProcesses) {
  EXPECT_EQ(FormatGpuTable(TwoGpus()),
            "GPU  NAME                   UUID          MEMORY USED / TOTAL        TEMP  UTIL  "
            "PROVIDER\n"
            "0    NVIDIA H100 80GB HBM3  GPU-5b1c7b2a  40.0 GiB / 80.0 GiB (50%)  45C   87%   "
            "nvml\n"
            "  pid 4242     30.0 GiB\n"
            "  pid 4343     10.0 GiB\n"
            "1    Tesla K80              -             0 B / 12.0 GiB (0%)        -     -     "
            "nvml\n");
}

TEST(FormatGpuTableTest, NoDeviceSaysWhichProvider) {
  Snapshot s;
  s.gpu_provider = "none";
  EXPECT_EQ(FormatGpuTable(s), "no GPUs (provider: none)\n");
}

TEST(FormatGpuJsonTest, UnknownReadingsAreNull) {
  EXPECT_EQ(FormatGpuJson(TwoGpus()),
            R"({"provider":"nvml","sample_seconds":0.0,"devices":[)"
            R"({"index":0,"name":"NVIDIA H100 80GB HBM3","uuid":"GPU-5b1c7b2a",)"
            R"("memory_total_bytes":85899345920,"memory_used_bytes":42949672960,)"
            R"("temperature_c":45,"utilization_pct":87,"processes":[)"
            R"({"pid":4242,"used_bytes":32212254720,"command":null,"job_number":null,"job_input":null},)"
            R"({"pid":4343,"used_bytes":10737418240,"command":null,"job_number":null,"job_input":null}]},)"
            R"({"index":1,"name":"Tesla K80","uuid":"","memory_total_bytes":12884901888,)"
            R"("memory_used_bytes":0,"temperature_c":null,"utilization_pct":null,)"
            R"("processes":null}]})");
}

TEST(FormatGpuJsonTest, NoDeviceIsAnEmptyList) {
  Snapshot s;
  s.gpu_provider = "none";
  EXPECT_EQ(FormatGpuJson(s), R"({"provider":"none","sample_seconds":0.0,"devices":[]})");
}

}  // namespace
}  // namespace headroom
