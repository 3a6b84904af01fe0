// test_bubble_conventions.cpp — the bubble in GPipe's convention (share of the step,
// bubble_fraction) and in Megatron-LM's (relative to busy time, bubble_over_busy), each
// against its paper's formula written out here, measured on the sim.
//
// Setting (as the registry's theory contract, test_registry.cpp): balanced stages (L and
// B divisible by K and M), free links, no loss and no optimizer cost, so every F costs
// the same and every B costs the same, and the fill-drain formulas are exact.
#include <gtest/gtest.h>

#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

RunConfig balanced_gpipe(int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 2 * devices;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 16 * 3 * 4 * 5;  // divisible by every M below
  c.devices = devices;
  c.microbatches = microbatches;
  c.schedule = ScheduleKind::Gpipe;
  c.backend = BackendKind::Sim;
  c.sim.count_loss = false;
  c.sim.count_optimizer = false;
  return c;
}

TEST(BubbleConventions, GpipeOnTheSimMatchesBothPapers) {
  for (int K : {1, 2, 3, 4, 6}) {
    for (int M : {1, 2, 3, 4, 8, 16}) {
      SCOPED_TRACE("K=" + std::to_string(K) + " M=" + std::to_string(M));
      const RunResult r = run_step(balanced_gpipe(K, M));
      // GPipe (Huang et al. 2019): (K - 1) / (M + K - 1) of the step.
      const double gpipe = (K - 1.0) / (M + K - 1.0);
      // Megatron-LM (Narayanan et al. 2021, §2.2.1): (p - 1) / m of the ideal time m·(t_f + t_b).
      const double megatron = (K - 1.0) / M;
      EXPECT_NEAR(r.metrics.bubble_fraction, gpipe, 1e-9);
      EXPECT_NEAR(r.metrics.bubble_over_busy, megatron, 1e-9);
      EXPECT_NEAR(r.theory.bubble_fraction, gpipe, 1e-12);
      EXPECT_NEAR(r.theory.bubble_over_busy(), megatron, 1e-12);
    }
  }
}

TEST(BubbleConventions, OverBusyIsIdleDeviceTimeOverBusyDeviceTime) {
  // Unbalanced (stage 1 twice as slow): the definition, Σ(T - busy_d) / Σ busy_d, from the
  // run's own busy times and makespan.
  RunConfig c = balanced_gpipe(3, 4);
  c.sim.stage_skew = {1, 2, 1};
  const RunResult r = run_step(c);
  double busy = 0;
  for (double b : r.metrics.busy_ms) busy += b;
  const double idle = 3 * r.metrics.makespan_ms - busy;
  EXPECT_NEAR(r.metrics.bubble_over_busy, idle / busy, 1e-9);
  EXPECT_GT(r.metrics.bubble_over_busy, (3 - 1.0) / 4);  // the skew adds idle time
}

}  // namespace
}  // namespace pipelab
