#include "sched/unit_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

using Units = std::vector<std::vector<size_t>>;

Job MakeJob(const std::string& program, int64_t priority = 0) {
  Job job;
  job.input = program;
  job.argv_template = {program, "{}"};
  job.priority = priority;
  return job;
}

Units JobsOf(const std::vector<PlannedUnit>& units) {
  Units jobs;
  for (const PlannedUnit& unit : units) jobs.push_back(unit.jobs);
  return jobs;
}

TEST(UnitPlanTest, OneJobPerUnitWithoutBatchesAndSlotsInTurn) {
  Plan plan;
  plan.to_run = {MakeJob("a"), MakeJob("a"), MakeJob("a")};
  std::vector<PlannedUnit> units = PlanUnits(plan, 1, 2);
  EXPECT_EQ(JobsOf(units), (Units{{0}, {1}, {2}}));
  EXPECT_EQ(units[0].slot, 1);
  EXPECT_EQ(units[1].slot, 2);
  EXPECT_EQ(units[2].slot, 1);
  EXPECT_EQ(JobsOf(PlanUnits(plan, 0, 2)), (Units{{0}, {1}, {2}})) << "auto: per job";
}

// As the scheduler takes its queue: a unit's lead is the first job left, its
// members the next jobs that may share its process, skipping others.
TEST(UnitPlanTest, AUnitTakesTheNextJobsOfItsClassUpToTheBatchSize) {
  Plan plan;
  plan.to_run = {MakeJob("a"), MakeJob("b"), MakeJob("a"), MakeJob("a"), MakeJob("b")};
  EXPECT_EQ(JobsOf(PlanUnits(plan, 2, 1)), (Units{{0, 2}, {1, 4}, {3}}));
  EXPECT_EQ(JobsOf(PlanUnits(plan, 8, 1)), (Units{{0, 2, 3}, {1, 4}}));
}

TEST(UnitPlanTest, PriorityAndEnvironmentSeparateUnits) {
  Plan plan;
  plan.to_run = {MakeJob("a", 2), MakeJob("a", 1), MakeJob("a", 1), MakeJob("a", 1)};
  plan.to_run[3].env = {{"K", "V"}};
  EXPECT_EQ(JobsOf(PlanUnits(plan, 4, 1)), (Units{{0}, {1, 2}, {3}}));
  EXPECT_TRUE(MayShareProcess(plan.to_run[1], plan.to_run[2]));
  EXPECT_FALSE(MayShareProcess(plan.to_run[0], plan.to_run[1]));
  EXPECT_FALSE(MayShareProcess(plan.to_run[2], plan.to_run[3]));
}

}  // namespace
}  // namespace headroom
