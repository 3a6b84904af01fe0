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
#include "balanced_sim.h"

namespace pipelab {
namespace {

// Every schedule of the registry, in its order: a new row is compared as it is.
std::vector<ScheduleKind> every_schedule() {
  std::vector<ScheduleKind> kinds;
  for (const ScheduleInfo& row : schedule_registry()) kinds.push_back(row.kind);
  return kinds;
}

TEST(CompareSchedules, SimRowsMatchTheirRegistryTheory) {
  const std::vector<ScheduleKind> kinds = every_schedule();
  ASSERT_GE(kinds.size(), 2u);
  const ScheduleComparison c = compare_schedules(balanced_sim(ScheduleKind::Gpipe, 4, 8), kinds);
  ASSERT_EQ(c.rows.size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const ScheduleRow& row = c.rows[i];
    SCOPED_TRACE(row.run.schedule.name());
    EXPECT_EQ(row.run.schedule.kind, kinds[i]) << "rows in the order listed";
    const ScheduleInfo& info = schedule_info(kinds[i]);
    EXPECT_EQ(row.run.schedule.microbatches, scheduled_microbatches(info, row.run.schedule.stages, 8));
    const Theory theory = schedule_theory(kinds[i], 4, row.run.schedule.microbatches, false);
    // Exact for every row: the balanced sim prices actions at the theory's unit costs.
    EXPECT_NEAR(row.run.metrics.bubble_fraction, theory.bubble_fraction, 1e-9);
    EXPECT_NEAR(row.run.metrics.bubble_over_busy, theory.bubble_over_busy(), 1e-9);
    EXPECT_EQ(row.run.theory.bubble_fraction, theory.bubble_fraction);
    // Over the first: its ideal speedup relative to the first's (both over naive).
    const double ideal = theory.ideal_speedup / c.rows[0].run.theory.ideal_speedup;
    EXPECT_NEAR(row.paired.median, ideal, 1e-9);
    EXPECT_FALSE(row.max_rel_diff) << "the sim computes no numerics";
    EXPECT_EQ(row.peak_in_flight.size(), 4u);
  }
  EXPECT_EQ(c.rows[0].paired.median, 1.0);
  EXPECT_TRUE(c.transparency_ok());
}

TEST(CompareSchedules, PeakInFlightOfGeneratedTracesMeetsThePublishedBounds) {
  for (int K : {1, 2, 3, 4}) {
    for (int M : {1, 2, 4, 8}) {
      const ScheduleComparison c = compare_schedules(balanced_sim(ScheduleKind::Gpipe, K, M), {ScheduleKind::Gpipe, ScheduleKind::OneFOneB});
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
  const RunConfig c = balanced_sim(ScheduleKind::Gpipe, 2, 2);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe}), UsageError);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe, ScheduleKind::Naive, ScheduleKind::Gpipe}),
               UsageError);
  EXPECT_THROW(schedule_comparison_configs(c, {ScheduleKind::Gpipe, ScheduleKind::Custom}), UsageError);
  // M as scheduled: naive is 1 whatever the config's M.
  const std::vector<RunConfig> configs = schedule_comparison_configs(c, {ScheduleKind::Naive, ScheduleKind::Gpipe});
  EXPECT_EQ(configs[0].microbatches, 1);
  EXPECT_EQ(configs[1].microbatches, 2);
}

TEST(CompareSchedules, ASchedulesOverTheMemoryCapIsRefusedAndTheOthersRun) {
  // GPipe holds all M micro-batches' stash, 1F1B at most K: a cap between their peaks
  // (each measured by its own uncapped run) refuses GPipe alone.
  RunConfig c = balanced_sim(ScheduleKind::Gpipe, 2, 8);
  const RunResult gpipe = run_step([&] { RunConfig g = c; g.schedule = ScheduleKind::Gpipe; return g; }());
  const RunResult one_f = run_step([&] { RunConfig o = c; o.schedule = ScheduleKind::OneFOneB; return o; }());
  const auto peak = [](const RunResult& r) {
    return *std::max_element(r.metrics.peak_memory_bytes.begin(), r.metrics.peak_memory_bytes.end());
  };
  ASSERT_LT(peak(one_f), peak(gpipe));
  c.device_memory_mib = (static_cast<double>(peak(one_f) + peak(gpipe)) / 2.0) / (1024.0 * 1024.0);
  const ScheduleComparison cmp = compare_schedules(c, {ScheduleKind::Gpipe, ScheduleKind::OneFOneB, ScheduleKind::Naive});
  ASSERT_EQ(cmp.refused.size(), 2u);  // naive holds the whole batch's stash too
  EXPECT_EQ(cmp.refused[0].schedule, ScheduleKind::Gpipe);
  EXPECT_NE(cmp.refused[0].reason.find("over the cap"), std::string::npos) << cmp.refused[0].reason;
  ASSERT_EQ(cmp.rows.size(), 1u);
  EXPECT_EQ(cmp.rows[0].run.config.schedule, ScheduleKind::OneFOneB);
  // None fits: the first refusal is the error.
  c.device_memory_mib = 1.0 / 1024;
  EXPECT_THROW(compare_schedules(c, {ScheduleKind::Gpipe, ScheduleKind::OneFOneB}), UsageError);
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
