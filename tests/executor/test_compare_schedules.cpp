// test_compare_schedules.cpp — compare_schedules() (runtime/compare_schedules.h): every
// registry schedule, paired on one model, devices and backend.
//
// The oracles: on the sim with balanced stages and free links (the loss and optimizer
// costs off, as in test_registry.cpp) each row's measured bubble is exactly its registry
// theory; the peak in-flight micro-batches of generated GPipe and 1F1B traces are the
// published bounds M and min(K - d, M); on cpu each run matches the reference step.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/report/in_flight.h"
#include "pipelab/report/schedule_table.h"
#include "pipelab/runtime/compare_schedules.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {
namespace {

// Balanced: L divisible by K, B divisible by M, no loss, no optimizer cost, free links.
RunConfig balanced_sim(int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 2 * devices;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 16 * 3 * 4 * 5;
  c.devices = devices;
  c.microbatches = microbatches;
  c.backend = BackendKind::Sim;
  c.sim.count_loss = false;
  c.sim.count_optimizer = false;
  return c;
}

// Every schedule of the registry, in its order: a new row is compared as it is.
std::vector<ScheduleKind> every_schedule() {
  std::vector<ScheduleKind> kinds;
  for (const ScheduleInfo& row : schedule_registry()) kinds.push_back(row.kind);
  return kinds;
}

TEST(CompareSchedules, SimRowsMatchTheirRegistryTheoryExactly) {
  const std::vector<ScheduleKind> kinds = every_schedule();
  ASSERT_GE(kinds.size(), 2u);
  const ScheduleComparison c = compare_schedules(balanced_sim(4, 8), kinds);
  ASSERT_EQ(c.rows.size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const ScheduleRow& row = c.rows[i];
    SCOPED_TRACE(row.run.schedule.name());
    EXPECT_EQ(row.run.schedule.kind, kinds[i]) << "rows in the order listed";
    const ScheduleInfo& info = schedule_info(kinds[i]);
    EXPECT_EQ(row.run.schedule.microbatches, info.single_microbatch ? 1 : 8);
    const Theory theory = schedule_theory(kinds[i], 4, row.run.schedule.microbatches, false);
    EXPECT_NEAR(row.run.metrics.bubble_fraction, theory.bubble_fraction, 1e-9);
    EXPECT_NEAR(row.run.metrics.bubble_over_busy, theory.bubble_over_busy(), 1e-9);
    EXPECT_EQ(row.run.theory.bubble_fraction, theory.bubble_fraction);
    // Over the first: its ideal speedup relative to the first's (both over naive).
    EXPECT_NEAR(row.paired.median, theory.ideal_speedup / c.rows[0].run.theory.ideal_speedup, 1e-9);
    EXPECT_FALSE(row.max_rel_diff) << "the sim computes no numerics";
    EXPECT_EQ(row.peak_in_flight.size(), 4u);
  }
  EXPECT_EQ(c.rows[0].paired.median, 1.0);
  EXPECT_TRUE(c.transparency_ok());
}

TEST(CompareSchedules, PeakInFlightOfGeneratedTracesMeetsThePublishedBounds) {
  for (int K : {1, 2, 3, 4}) {
    for (int M : {1, 2, 4, 8}) {
      const ScheduleComparison c = compare_schedules(balanced_sim(K, M), {ScheduleKind::Gpipe, ScheduleKind::OneFOneB});
      SCOPED_TRACE("K=" + std::to_string(K) + " M=" + std::to_string(M));
      for (int d = 0; d < K; ++d) {
        EXPECT_EQ(c.rows[0].peak_in_flight[d], M) << "GPipe device " << d << ": every forward first";
        EXPECT_EQ(c.rows[1].peak_in_flight[d], std::min(K - d, M)) << "1F1B device " << d;
      }
      // The allocator agrees: 1F1B never stashes more than GPipe.
      EXPECT_LE(max_peak_stash_bytes(c.rows[1].run), max_peak_stash_bytes(c.rows[0].run));
    }
  }
}

TEST(CompareSchedules, RefusesFewerThanTwoDuplicatesAndCustom) {
  const RunConfig c = balanced_sim(2, 2);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe}), UsageError);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe, ScheduleKind::Naive, ScheduleKind::Gpipe}),
               UsageError);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe, ScheduleKind::Custom}), UsageError);
  // M as scheduled: naive is 1 whatever the config's M.
  const std::vector<RunConfig> configs = schedule_comparison_configs(c, {ScheduleKind::Naive, ScheduleKind::Gpipe});
  EXPECT_EQ(configs[0].microbatches, 1);
  EXPECT_EQ(configs[1].microbatches, 2);
}

TEST(CompareSchedules, CpuRunsEachPassTransparency) {
  RunConfig c;
  c.backend = BackendKind::Cpu;
  c.model.layers = 4;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 24;
  c.devices = 2;
  c.microbatches = 3;
  c.repeat_steps = 2;
  c.warmup_steps = 0;
  const ScheduleComparison r = compare_schedules(c, every_schedule());
  for (const ScheduleRow& row : r.rows) {
    SCOPED_TRACE(row.run.schedule.name());
    ASSERT_TRUE(row.max_rel_diff);
    EXPECT_LE(*row.max_rel_diff, kTransparencyTolerance);
    EXPECT_TRUE(row.transparency_ok);
    ASSERT_TRUE(row.replayed_speedup) << "cpu runs are replayed";
    EXPECT_EQ(row.paired.ratios.size(), 2u) << "one ratio per pair of timed steps";
  }
  EXPECT_DOUBLE_EQ(*r.rows[0].replayed_speedup, 1.0);
  EXPECT_TRUE(r.transparency_ok());
  const std::string table = format_schedule_comparison(r);
  EXPECT_NE(table.find("# transparency: loss, gradients"), std::string::npos) << table;
  EXPECT_NE(table.find("# replayed from measured costs"), std::string::npos) << table;
}

}  // namespace
}  // namespace pipelab
