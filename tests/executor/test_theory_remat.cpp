// test_theory_remat.cpp — the theory a run carries is its own schedule's and options'.
//
// Oracles: the hand formulas of docs/gpipe.md written out here (not the registry's
// code), and the sim on balanced stages (L = n·K, B = b·M, no loss, no optimizer cost,
// free links), where every F, B and R of a stage costs the same and the formula is exact
// once evaluated at the cost model's own F:B:R (block FLOPs, model.h).
#include <gtest/gtest.h>

#include <string>

#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"
#include "balanced_sim.h"

namespace pipelab {
namespace {

// docs/gpipe.md: U = M(2·t_f + t_b) / (M(2·t_f + t_b) + (K − 1)(t_f + t_b)) with t_r = t_f
// (M = 1 for naive), and U = M / (M + K − 1) without remat.
// Data parallelism (docs/parallelism.md): no device ever waits, with or without remat: 1.
double doc_utilization(ScheduleKind kind, int K, int M, bool remat, double t_f, double t_b) {
  if (kind == ScheduleKind::DataParallel) return 1.0;
  if (!remat) return static_cast<double>(M) / (M + K - 1);
  return M * (2 * t_f + t_b) / (M * (2 * t_f + t_b) + (K - 1) * (t_f + t_b));
}

// The registry's formulas with remat, exact on the sim at the theory's own unit costs
// (F = R = I = W = 1, B = 2) for every row, the zero-bubble ones included.
TEST(TheoryRemat, EveryRowMatchesTheSimAtUnitCosts) {
  for (const ScheduleInfo& row : schedule_registry())
    for (int K : {1, 2, 3, 4, 6})
      for (int M : {1, 2, 3, 4, 8, 16})
        for (bool remat : {false, true}) {
          const RunResult r = run_step(balanced_sim(row.kind, K, M, remat));
          SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M) +
                       (remat ? " remat" : ""));
          const Theory nominal = schedule_theory(r.schedule);
          EXPECT_EQ(r.theory.utilization, nominal.utilization);
          EXPECT_EQ(r.trace.meta.theory_utilization, nominal.utilization);
          EXPECT_NEAR(r.metrics.mean_utilization, nominal.utilization, 1e-9);
          EXPECT_NEAR(r.metrics.bubble_fraction, nominal.bubble_fraction, 1e-9);
        }
}

// The fill-drain rows' remat formula at any F:B:R: on the FLOP-priced sim, whose B/F is
// its own FLOP ratio (1.97 here, not the nominal 2).
TEST(TheoryRemat, FillDrainRowsMatchTheSimAtTheFlopModelsRatio) {
  for (const ScheduleInfo& row : schedule_registry()) {
    bool splits = false;  // the zero-bubble rows' theory is stated at 1:1:1 only
    for (const auto& program : generate_schedule(row.kind, 2, 2, false).per_stage)
      for (const Action& a : program) splits = splits || a.kind == ActionKind::BackwardInput;
    if (splits) continue;
    for (int K : {1, 2, 3, 4, 6}) {
      for (int M : {1, 2, 3, 4, 8, 16}) {
        for (bool remat : {false, true}) {
          const RunResult r = run_step(balanced_sim(row.kind, K, M, remat, SimCosts::Flops));
          const int m = r.schedule.microbatches;  // 1 for naive
          SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(m));
          // The sim's own F:B:R per micro-batch and stage (the rate and layer count cancel).
          const int rows = r.config.model.batch / m;
          CostRatio cost;
          cost.backward = block_backward_flops(r.config.model, rows) / block_forward_flops(r.config.model, rows);
          const Theory exact = schedule_theory(row.kind, K, m, remat, cost);
          EXPECT_NEAR(r.metrics.mean_utilization, exact.utilization, 1e-9);
          EXPECT_NEAR(r.metrics.bubble_fraction, exact.bubble_fraction, 1e-9);
          EXPECT_NEAR(exact.utilization, doc_utilization(row.kind, K, m, remat, 1.0, cost.backward), 1e-12);
          // The run, its JSON and its trace carry the nominal (1:2:1) theory of this very
          // schedule and options, which the cost model's ratio (1.97 here) is close to.
          const Theory nominal = schedule_theory(r.schedule);
          EXPECT_EQ(r.theory.utilization, nominal.utilization);
          EXPECT_EQ(r.trace.meta.theory_utilization, nominal.utilization);
          EXPECT_EQ(r.trace.meta.theory_bubble_fraction, nominal.bubble_fraction);
          EXPECT_NEAR(nominal.utilization, doc_utilization(row.kind, K, m, remat, 1.0, 2.0), 1e-12);
          EXPECT_NEAR(r.metrics.mean_utilization, nominal.utilization, 0.01);
          EXPECT_EQ(r.theory.name(), std::string(row.theory_name) + (remat ? " + remat, F:B:R = 1:2:1" : ""));
        }
      }
    }
  }
}

TEST(TheoryRemat, IdealSpeedupIsNaiveOverPipelinedStepTime) {
  // docs/gpipe.md: T_naive / T_gpipe = K·M / (M + K − 1); with remat (F:B:R = 1:2:1)
  // T_naive = M(K·t_f + t_r + K·t_b), T = (M+K−1)·t_f + M(t_r + t_b) + (K−1)·t_b.
  EXPECT_NEAR(schedule_theory(ScheduleKind::Gpipe, 4, 8, false).ideal_speedup, 32.0 / 11.0, 1e-12);
  const double naive = 8 * (4 * 1 + 1 + 4 * 2), gpipe = 11 * 1 + 8 * (1 + 2) + 3 * 2;
  EXPECT_NEAR(schedule_theory(ScheduleKind::Gpipe, 4, 8, true).ideal_speedup, naive / gpipe, 1e-12);
  EXPECT_NEAR(schedule_theory(ScheduleKind::Naive, 4, 8, true).ideal_speedup, 1.0, 1e-12);
  // The remat bubble of K = 4, M = 8: 9/41, not fill-drain's 3/11.
  EXPECT_NEAR(schedule_theory(ScheduleKind::Gpipe, 4, 8, true).bubble_fraction, 9.0 / 41.0, 1e-12);
}

TEST(TheoryRemat, SimRunsCarryTheirTheoryMeasuredSpeedupMatches) {
  // Balanced stages: the measured speedup over naive (both with remat) is the ideal one
  // once evaluated at the cost model's ratio (the FLOP-priced sim's, 1.97).
  for (bool remat : {false, true}) {
    const RunResult naive = run_step(balanced_sim(ScheduleKind::Naive, 4, 1, remat, SimCosts::Flops));
    const RunResult gpipe = run_step(balanced_sim(ScheduleKind::Gpipe, 4, 8, remat, SimCosts::Flops));
    const int rows = gpipe.config.model.batch / 8;
    CostRatio cost;
    cost.backward = block_backward_flops(gpipe.config.model, rows) / block_forward_flops(gpipe.config.model, rows);
    EXPECT_NEAR(naive.metrics.makespan_ms / gpipe.metrics.makespan_ms,
                schedule_theory(ScheduleKind::Gpipe, 4, 8, remat, cost).ideal_speedup, 1e-9);
  }
}

}  // namespace
}  // namespace pipelab
