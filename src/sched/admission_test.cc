#include "sched/admission.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

DeviceView Device(int index, uint64_t total_gib = 80) {
  DeviceView d;
  d.index = index;
  d.total = total_gib * kGiB;
  return d;
}

HostView IdleHost() {
  HostView h;
  h.running = 1;  // something runs, so no decision is forced unless a test says so
  h.memory_total = 64 * kGiB;
  h.memory_available = 60 * kGiB;
  h.free_disk = 100 * kGiB;
  h.load1 = 0.5;
  return h;
}

JobNeed Needs(uint64_t vram_gib) {
  JobNeed n;
  n.vram = vram_gib * kGiB;
  return n;
}

AdmissionConfig Config(int slots = 8) {
  AdmissionConfig c;
  c.slots = slots;
  return c;
}

// --- Host gates.

TEST(SlotsGateTest, HoldsWhenEverySlotIsTaken) {
  HostView h;
  h.running = 3;
  EXPECT_EQ(SlotsGate(h, 4), "");
  EXPECT_EQ(SlotsGate(h, 3), "slots");
}

TEST(RamGateTest, CountsUsedReservedAndTheJobAgainstThePercentOfTotal) {
  struct Case {
    uint64_t available_gib, reserved_gib;
    std::optional<uint64_t> job_gib;
    std::string want;
  };
  // Total 100 GiB, cap 80 %: used + reserved + job must be <= 80 GiB.
  std::vector<Case> cases = {
      {90, 0, std::nullopt, ""},      // 10 used
      {30, 0, std::nullopt, ""},      // 70 used
      {10, 0, std::nullopt, "ram"},   // 90 used: already over
      {30, 5, 5, ""},                 // 70 + 5 + 5 = 80: exactly at the cap
      {30, 5, 6, "ram"},              // 81
      {30, 11, std::nullopt, "ram"},  // reservations of jobs not yet grown
  };
  for (const Case& c : cases) {
    HostView h;
    h.memory_total = 100 * kGiB;
    h.memory_available = c.available_gib * kGiB;
    h.reserved_ram = c.reserved_gib * kGiB;
    std::optional<uint64_t> job;
    if (c.job_gib) job = *c.job_gib * kGiB;
    EXPECT_EQ(RamGate(h, job, 80), c.want)
        << "available " << c.available_gib << " reserved " << c.reserved_gib;
  }
}

TEST(RamGateTest, PassesWhenMemoryIsUnknown) {
  HostView h;  // memory_total 0
  EXPECT_EQ(RamGate(h, 5 * kGiB, 80), "");
}

TEST(DiskGateTest, NeedsTheMinimumFreeAndPassesWhenUnknown) {
  HostView h;
  EXPECT_EQ(DiskGate(h, kGiB), "");
  h.free_disk = kGiB;
  EXPECT_EQ(DiskGate(h, kGiB), "");
  h.free_disk = kGiB - 1;
  EXPECT_EQ(DiskGate(h, kGiB), "disk");
}

TEST(LoadGateTest, HoldsAtOrAboveTheLimitOnlyWhenOneIsSet) {
  HostView h;
  h.load1 = 7.9;
  EXPECT_EQ(LoadGate(h, std::nullopt), "");
  EXPECT_EQ(LoadGate(h, 8.0), "");
  h.load1 = 8.0;
  EXPECT_EQ(LoadGate(h, 8.0), "load");
  h.load1 = 100;
  EXPECT_EQ(LoadGate(h, std::nullopt), "");
}

// --- The ledger, temperature and hysteresis.

TEST(DeviceFreeTest, IsHighMarkMinusLedgerOrReadingWhicheverIsLarger) {
  DeviceView d = Device(0, 100);
  const int64_t high = 85 * int64_t{kGiB};
  EXPECT_EQ(DeviceFree(d, 0.85), high);
  d.committed = 30 * kGiB;
  d.foreign = 5 * kGiB;
  d.used = 20 * kGiB;  // jobs still growing into their reservations
  EXPECT_EQ(DeviceFree(d, 0.85), high - 35 * int64_t{kGiB});
  d.used = 50 * kGiB;  // the device shows more than the ledger explains
  EXPECT_EQ(DeviceFree(d, 0.85), high - 50 * int64_t{kGiB});
  d.used = 95 * kGiB;
  EXPECT_LT(DeviceFree(d, 0.85), 0);
}

TEST(TemperatureTest, StatesAndCaps) {
  struct Case {
    std::optional<int> celsius;
    TempState state;
    int cap_of_4, cap_of_5, cap_of_1;
  };
  std::vector<Case> cases = {
      {std::nullopt, TempState::kCool, 4, 5, 1},
      {45, TempState::kCool, 4, 5, 1},
      {69, TempState::kCool, 4, 5, 1},
      {70, TempState::kWarm, 2, 3, 1},  // half, rounded up, at least one
      {79, TempState::kWarm, 2, 3, 1},
      {80, TempState::kHot, 1, 1, 1},
      {95, TempState::kHot, 1, 1, 1},
  };
  for (const Case& c : cases) {
    TempState state = ClassifyTemperature(c.celsius, 70, 80);
    EXPECT_EQ(state, c.state) << c.celsius.value_or(-1);
    EXPECT_EQ(TemperatureCap(state, 4), c.cap_of_4) << c.celsius.value_or(-1);
    EXPECT_EQ(TemperatureCap(state, 5), c.cap_of_5) << c.celsius.value_or(-1);
    EXPECT_EQ(TemperatureCap(state, 1), c.cap_of_1) << c.celsius.value_or(-1);
  }
}

TEST(UpdateLatchTest, LatchesAboveHighAndReleasesOnlyBelowLow) {
  // Total 100 GiB, high 0.85, low 0.70: a walk up and back down.
  struct Step {
    uint64_t used_gib;
    bool latched_after;
  };
  std::vector<Step> walk = {
      {50, false}, {85, false},  // at the mark is not above it
      {86, true},  {80, true},   // between the marks: stays latched
      {70, true},                // at the low mark: still latched
      {69, false}, {80, false},  // between the marks again: stays open
      {90, true},
  };
  bool latched = false;
  for (const Step& s : walk) {
    latched = UpdateLatch(latched, s.used_gib * kGiB, 100 * kGiB, 0.85, 0.70);
    EXPECT_EQ(latched, s.latched_after) << "at " << s.used_gib << " GiB";
  }
}

// --- Device gates of the adaptive policy.

TEST(DeviceGateTest, EachGateNamesItself) {
  AdmissionConfig config = Config(8);
  config.jobs_per_gpu = 4;
  JobNeed need = Needs(10);
  struct Case {
    const char* what;
    void (*set)(DeviceView*);
    std::string want;
  };
  std::vector<Case> cases = {
      {"empty cool device", [](DeviceView*) {}, ""},
      {"latched", [](DeviceView* d) { d->latched = true; }, "vram"},
      {"at jobs-per-gpu", [](DeviceView* d) { d->running = 4; }, "jobs-per-gpu"},
      {"below jobs-per-gpu", [](DeviceView* d) { d->running = 3; }, ""},
      {"warm at half",
       [](DeviceView* d) {
         d->temperature_c = 75;
         d->running = 2;
       },
       "temperature"},
      {"warm below half",
       [](DeviceView* d) {
         d->temperature_c = 75;
         d->running = 1;
       },
       ""},
      {"hot with one",
       [](DeviceView* d) {
         d->temperature_c = 80;
         d->running = 1;
       },
       "temperature"},
      {"hot and empty", [](DeviceView* d) { d->temperature_c = 90; }, ""},
      {"at the controller's limit",
       [](DeviceView* d) {
         d->running = 2;
         d->limit = 2;
       },
       "limit"},
      {"fits exactly",  // 0.85 × 80 = 68; 58 committed leaves 10
       [](DeviceView* d) { d->committed = 58 * kGiB; }, ""},
      {"one byte short", [](DeviceView* d) { d->committed = 58 * kGiB + 1; }, "vram"},
      {"foreign memory counts",
       [](DeviceView* d) {
         d->committed = 50 * kGiB;
         d->foreign = 9 * kGiB;
       },
       "vram"},
      {"reading above the ledger counts",
       [](DeviceView* d) {
         d->committed = 55 * kGiB;
         d->used = 60 * kGiB;
       },
       "vram"},
      {"others alone leave no room",
       [](DeviceView* d) {
         d->foreign = 59 * kGiB;
         d->used = 59 * kGiB;
       },
       "foreign"},
      {"a reading with none of ours is others'", [](DeviceView* d) { d->used = 60 * kGiB; },
       "foreign"},
  };
  for (const Case& c : cases) {
    DeviceView d = Device(0, 80);
    c.set(&d);
    EXPECT_EQ(DeviceGate(need, d, config), c.want) << c.what;
  }
}

TEST(DeviceGateTest, WithoutJobsPerGpuWarmHalvesTheSlots) {
  AdmissionConfig config = Config(8);
  DeviceView d = Device(0);
  d.temperature_c = 72;
  d.running = 3;
  EXPECT_EQ(DeviceGate(Needs(1), d, config), "");
  d.running = 4;
  EXPECT_EQ(DeviceGate(Needs(1), d, config), "temperature");
}

TEST(DeviceGateTest, SlowStartTakesOneJobOfAnUnknownClassPerDevice) {
  AdmissionConfig config = Config(8);
  JobNeed unknown;  // nothing learned about its class yet
  DeviceView d = Device(0);
  d.running = 2;  // jobs of other classes do not count
  EXPECT_EQ(DeviceGate(unknown, d, config), "");
  d.class_running = 1;
  EXPECT_EQ(DeviceGate(unknown, d, config), "learning");
  // Once the class is known, the ledger decides.
  EXPECT_EQ(DeviceGate(Needs(10), d, config), "");
}

TEST(DeviceGateTest, AnUnknownNeedStillWantsSomeRoom) {
  AdmissionConfig config = Config(8);
  JobNeed unknown;
  DeviceView d = Device(0, 100);
  d.committed = 85 * kGiB;
  EXPECT_EQ(DeviceGate(unknown, d, config), "vram");
  d.committed = 84 * kGiB;
  EXPECT_EQ(DeviceGate(unknown, d, config), "");
}

// --- Admit: placement, waiting reasons, ensure progress, policies.

TEST(AdmitTest, PlacesOnTheDeviceWithTheMostFreeRoom) {
  std::vector<DeviceView> devices = {Device(0), Device(1), Device(2)};
  devices[0].committed = 30 * kGiB;
  devices[1].committed = 10 * kGiB;
  devices[2].committed = 20 * kGiB;
  AdmitDecision d = Admit(Needs(10), IdleHost(), devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_FALSE(d.forced);
  EXPECT_EQ(d.device, 1);
  EXPECT_EQ(d.waiting, "");
}

TEST(AdmitTest, TiesGoToTheLowestIndex) {
  std::vector<DeviceView> devices = {Device(2), Device(0), Device(1)};
  EXPECT_EQ(Admit(Needs(10), IdleHost(), devices, Config()).device, 0);
  devices[1].committed = kGiB;  // gpu0 now has less room
  EXPECT_EQ(Admit(Needs(10), IdleHost(), devices, Config()).device, 1);
}

TEST(AdmitTest, SkipsDevicesThatRefuseEvenWithMoreRoom) {
  std::vector<DeviceView> devices = {Device(0), Device(1)};
  devices[0].temperature_c = 85;  // hot: one job at most
  devices[0].running = 1;
  devices[1].committed = 40 * kGiB;
  AdmitDecision d = Admit(Needs(10), IdleHost(), devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, 1);
}

TEST(AdmitTest, HonoursTheAllowedGpus) {
  std::vector<DeviceView> devices = {Device(0), Device(1), Device(2)};
  AdmissionConfig config = Config();
  config.allowed_gpus = {2};
  EXPECT_EQ(Admit(Needs(10), IdleHost(), devices, config).device, 2);
  devices[2].latched = true;
  AdmitDecision d = Admit(Needs(10), IdleHost(), devices, config);
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "vram gpu2");
}

TEST(AdmitTest, NoGpuForJobsThatWantNoneOrWhenGpusAreOff) {
  std::vector<DeviceView> devices = {Device(0)};
  devices[0].latched = true;
  JobNeed cpu_job = Needs(10);
  cpu_job.gpu = false;
  AdmitDecision d = Admit(cpu_job, IdleHost(), devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, -1);

  AdmissionConfig off = Config();
  off.use_gpus = false;
  d = Admit(Needs(10), IdleHost(), devices, off);
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, -1);

  d = Admit(Needs(10), IdleHost(), {}, Config());  // no GPU on the machine
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, -1);
}

TEST(AdmitTest, HostGatesComeBeforeDevicesInThisOrder) {
  std::vector<DeviceView> devices = {Device(0)};
  devices[0].latched = true;
  AdmissionConfig config = Config(2);
  config.max_load = 4;
  HostView h = IdleHost();
  h.running = 2;
  h.memory_available = 0;
  h.free_disk = 0;
  h.load1 = 9;
  EXPECT_EQ(Admit(Needs(1), h, devices, config).waiting, "slots");
  h.running = 1;
  EXPECT_EQ(Admit(Needs(1), h, devices, config).waiting, "ram");
  h.memory_available = 60 * kGiB;
  EXPECT_EQ(Admit(Needs(1), h, devices, config).waiting, "disk");
  h.free_disk = 10 * kGiB;
  EXPECT_EQ(Admit(Needs(1), h, devices, config).waiting, "load");
  h.load1 = 1;
  EXPECT_EQ(Admit(Needs(1), h, devices, config).waiting, "vram gpu0");
}

TEST(AdmitTest, WaitingGroupsDevicesByGate) {
  std::vector<DeviceView> devices = {Device(0), Device(1), Device(2), Device(3)};
  devices[0].latched = true;
  devices[1].temperature_c = 90;
  devices[1].running = 1;
  devices[2].committed = 70 * kGiB;
  devices[3].latched = true;
  AdmitDecision d = Admit(Needs(10), IdleHost(), devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.device, -1);
  EXPECT_EQ(d.waiting, "vram gpu0,2,3; temperature gpu1");
}

TEST(AdmitTest, SlowStartWaitingNamesTheDevice) {
  std::vector<DeviceView> devices = {Device(0)};
  devices[0].class_running = 1;
  devices[0].running = 1;
  AdmitDecision d = Admit(JobNeed{}, IdleHost(), devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "learning gpu0");
  devices.push_back(Device(1));  // a second device still takes one
  d = Admit(JobNeed{}, IdleHost(), devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, 1);
}

TEST(AdmitTest, EnsureProgressStartsOneWhenNothingRuns) {
  std::vector<DeviceView> devices = {Device(0), Device(1)};
  devices[0].foreign = 20 * kGiB;
  devices[1].foreign = 10 * kGiB;
  // 70 GiB is over the high mark (68 of 80 GiB) even on an empty device:
  // headroom's own uncertainty, not others' memory.
  HostView h = IdleHost();
  AdmitDecision held = Admit(Needs(70), h, devices, Config());
  EXPECT_FALSE(held.start);
  EXPECT_EQ(held.waiting, "vram gpu0,1");
  EXPECT_TRUE(held.foreign.empty());

  h.running = 0;
  AdmitDecision forced = Admit(Needs(70), h, devices, Config());
  EXPECT_TRUE(forced.start);
  EXPECT_TRUE(forced.forced);
  EXPECT_EQ(forced.device, 1);  // the one with the most room, though short
  EXPECT_EQ(forced.waiting, "vram gpu0,1");
}

// Memory that other processes hold is not headroom's to override: with
// nothing of ours running the job still waits, and says for what.
TEST(AdmitTest, OthersMemoryHoldsEvenWithNothingRunning) {
  std::vector<DeviceView> devices = {Device(0, 24), Device(1, 24)};
  devices[0].foreign = 21 * kGiB;  // high mark: 20.4 GiB
  devices[0].used = 21 * kGiB;
  devices[0].latched = true;
  devices[1].used = 18 * kGiB;  // no per-process figures: used counts as others'
  HostView h = IdleHost();
  h.running = 0;
  AdmitDecision d = Admit(Needs(3), h, devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "foreign gpu0,1");
  EXPECT_EQ(d.foreign, (std::vector<int>{0, 1}));
  // Unknown need: not where others are over the high mark (gpu0), but
  // where they leave some room (gpu1).
  JobNeed unknown;
  d = Admit(unknown, h, devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, 1);
  devices[1].used = 21 * kGiB;
  d = Admit(unknown, h, devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "foreign gpu0,1");

  devices[1].used = 10 * kGiB;  // the other process freed gpu1
  d = Admit(Needs(3), h, devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_FALSE(d.forced);
  EXPECT_EQ(d.device, 1);
}

// A job too big for the device even alone is headroom's own uncertainty:
// others' memory does not keep it waiting forever, it starts where they
// leave the most.
TEST(AdmitTest, AJobLargerThanTheHighMarkStillStartsOnTheDeviceOthersLeaveFreest) {
  std::vector<DeviceView> devices = {Device(0, 24), Device(1, 24)};
  devices[0].foreign = 4 * kGiB;
  devices[1].foreign = 2 * kGiB;
  HostView h = IdleHost();
  h.running = 0;
  AdmitDecision d = Admit(Needs(22), h, devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_TRUE(d.forced);
  EXPECT_EQ(d.device, 1);
  EXPECT_TRUE(d.foreign.empty());
}

TEST(OthersUseTest, IsTheLargerOfOthersProcessesAndTheDeviceBeyondOurShare) {
  DeviceView d = Device(0, 24);
  d.used = 10 * kGiB;
  d.committed = 4 * kGiB;
  EXPECT_EQ(OthersUse(d), 6 * kGiB);
  d.foreign = 7 * kGiB;
  EXPECT_EQ(OthersUse(d), 7 * kGiB);
  d.used = 2 * kGiB;  // our reservation larger than what the device uses
  d.foreign = 0;
  EXPECT_EQ(OthersUse(d), 0u);
}

// Ensure progress overrides headroom's own caution: a prediction larger than
// --max-memory allows even on an idle machine. The job keeps a device that
// accepts it.
TEST(AdmitTest, EnsureProgressOverridesAnOversizedPredictionAndKeepsAnAcceptingDevice) {
  std::vector<DeviceView> devices = {Device(0), Device(1)};
  devices[0].committed = 10 * kGiB;
  HostView h = IdleHost();
  h.running = 0;
  JobNeed need = Needs(20);
  need.ram = 60 * kGiB;  // over 80 % of 64 GiB
  AdmitDecision d = Admit(need, h, devices, Config());
  EXPECT_TRUE(d.start);
  EXPECT_TRUE(d.forced);
  EXPECT_EQ(d.waiting, "ram");
  EXPECT_EQ(d.device, 1);
}

// A gate that holds because of the machine's state holds with nothing of
// ours running: starting would only turn the queue into fast failures.
TEST(AdmitTest, MachineStateGatesHoldEvenWithNothingRunning) {
  std::vector<DeviceView> devices = {Device(0)};
  HostView h = IdleHost();
  h.running = 0;
  h.free_disk = 0;
  AdmitDecision d = Admit(Needs(1), h, devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "disk");

  h = IdleHost();
  h.running = 0;
  h.memory_available = 4 * kGiB;  // others hold 60 of 64 GiB: over 80 %
  d = Admit(Needs(1), h, devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "ram");
  JobNeed need = Needs(1);
  need.ram = 10 * kGiB;  // fits an idle machine, not what others leave
  h.memory_available = 20 * kGiB;  // others hold 44 GiB; 44 + 10 > 51.2
  d = Admit(need, h, devices, Config());
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "ram");

  h = IdleHost();
  h.running = 0;
  h.load1 = 9;
  AdmissionConfig config = Config();
  config.max_load = 4;
  d = Admit(Needs(1), h, devices, config);
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "load");
}

// --cooldown: a device that just finished a job takes nothing, under every
// policy, and not even to ensure progress; the others go on.
TEST(AdmitTest, ACoolingDeviceTakesNothingUnderEveryPolicy) {
  std::vector<DeviceView> devices = {Device(0), Device(1)};
  devices[0].cooling = true;
  HostView h = IdleHost();
  h.running = 0;
  for (PolicyKind policy : {PolicyKind::kAdaptive, PolicyKind::kFixed, PolicyKind::kWatermark}) {
    AdmissionConfig config = Config();
    config.policy = policy;
    AdmitDecision d = Admit(Needs(1), h, devices, config);
    EXPECT_TRUE(d.start);
    EXPECT_EQ(d.device, 1);
    devices[1].cooling = true;
    d = Admit(Needs(1), h, devices, config);
    EXPECT_FALSE(d.start);
    EXPECT_EQ(d.waiting, "cooldown gpu0,1");
    devices[1].cooling = false;
  }
}

TEST(AdmitTest, FixedPolicyCountsSlotsOnlyAndSpreadsJobs) {
  AdmissionConfig config = Config(4);
  config.policy = PolicyKind::kFixed;
  config.max_load = 1;
  std::vector<DeviceView> devices = {Device(0), Device(1)};
  devices[0].running = 1;
  devices[0].latched = true;
  devices[0].used = 79 * kGiB;
  devices[1].running = 2;
  HostView h = IdleHost();
  h.running = 3;
  h.memory_available = 0;
  h.free_disk = 0;
  h.load1 = 50;
  AdmitDecision d = Admit(Needs(60), h, devices, config);
  EXPECT_TRUE(d.start);
  EXPECT_FALSE(d.forced);
  EXPECT_EQ(d.device, 0);  // fewest of our jobs; memory is not looked at
  h.running = 4;
  d = Admit(Needs(60), h, devices, config);
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "slots");
}

TEST(AdmitTest, WatermarkPolicyLooksOnlyAtTheReadingNow) {
  AdmissionConfig config = Config(8);
  config.policy = PolicyKind::kWatermark;
  std::vector<DeviceView> devices = {Device(0, 100), Device(1, 100)};
  // Reservations and predictions are ignored: a job predicted at 60 GiB
  // starts on a device whose reading is just below the mark.
  devices[0].used = 84 * kGiB;
  devices[0].committed = 200 * kGiB;
  devices[1].used = 86 * kGiB;
  AdmitDecision d = Admit(Needs(60), IdleHost(), devices, config);
  EXPECT_TRUE(d.start);
  EXPECT_EQ(d.device, 0);
  devices[0].used = 85 * kGiB;  // at the mark: no longer below it
  d = Admit(Needs(60), IdleHost(), devices, config);
  EXPECT_FALSE(d.start);
  EXPECT_EQ(d.waiting, "vram gpu0,1");
  devices[0].used = 40 * kGiB;
  devices[1].used = 30 * kGiB;
  EXPECT_EQ(Admit(Needs(60), IdleHost(), devices, config).device, 1);
}

}  // namespace
}  // namespace headroom
