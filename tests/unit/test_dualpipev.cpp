// test_dualpipev.cpp — DualPipeV run action by action (schedule/dualpipev.h), against
// oracles that do not call the generator:
//   * the K = 1 and K = 2 orders written out by hand from the eight steps of the V form
//     (DeepSeek-V3 section 3.2.1; PyTorch's ScheduleDualPipeV), each overlapped pair as
//     "F, then B";
//   * a unit-time event simulation (unit_time_sim.h: B = I + W = 2, sends free) whose idle
//     time must be the registry's theory for every K <= 8 and M <= 20, with and without
//     remat — and, once M >= 2K, ZB-V's: without the overlap, nothing is gained;
//   * a walk of each device's program counting (chunk, micro-batch) pairs from F to the
//     end of its backward.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/schedule/dualpipev.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/schedule/zbv.h"
#include "chunk_orders.h"
#include "unit_time_sim.h"

namespace pipelab {
namespace {


TEST(DualPipeV, SmallOrdersByHand) {
  // K = 1, M = 2: step 2 (F down, F up), one main-phase round (F down, B up, F up, B down),
  // step 6 (B up, then from the middle on for an even device: I down, its W last).
  EXPECT_EQ(chunk_compute_orders(dualpipev_schedule(1, 2)), (Orders{"F0 F0u F1 B0u F1u B0 B1u I1 W1"}));
  // K = 2, M = 4. Device 0: 2 forwards down; F down, F up; I up, its W, F up; one round;
  // one step-5 round (B up; F up, B down); step 6: B up, then I down; step 7: W, I down;
  // the last W. Device 1: two (F down, F up); two rounds; step 6: B up, B down, then I's.
  EXPECT_EQ(chunk_compute_orders(dualpipev_schedule(2, 4)),
            (Orders{"F0 F1 F2 F0u I0u W0u F1u F3 B1u F2u B0 B2u F3u B1 B3u I2 W2 I3 W3",
                    "F0 F0u F1 F1u F2 B0u F2u B0 F3 B1u F3u B1 B2u B2 I3u I3 W3u W3"}));
}

TEST(DualPipeV, IdleTimeIsTheRegistryTheoryAndZbvsOnceTheVFills) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 20; ++m) {
      SCOPED_TRACE("K=" + std::to_string(k) + " M=" + std::to_string(m));
      const double idle = simulated_idle(dualpipev_schedule(k, m), CostRatio{}), busy = 6.0 * m;
      const Theory theory = schedule_theory(ScheduleKind::DualPipeV, k, m, false);
      EXPECT_NEAR(theory.utilization, busy / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.bubble_fraction, idle / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.ideal_speedup, k * busy / (busy + idle), 1e-9);
      if (m >= 2 * k) {
        EXPECT_EQ(idle, k - 1.0);
        EXPECT_EQ(idle, simulated_idle(zbv_schedule(k, m), CostRatio{})) << "without the overlap, ZB-V's idle time";
      }
      // Remat (R before each B or I, while its gradient is on its way): the same idle.
      const Schedule remat = generate_schedule(ScheduleKind::DualPipeV, k, m, true);
      EXPECT_EQ(simulated_idle(remat, CostRatio{}), idle);
      EXPECT_NEAR(schedule_theory(ScheduleKind::DualPipeV, k, m, true).utilization, 8.0 * m / (8.0 * m + idle),
                  1e-9);
    }
}

TEST(DualPipeV, PeakInFlightIsOnePairMoreThanZbv) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 20; ++m) {
      const Schedule s = dualpipev_schedule(k, m);
      int most = 0;
      for (int d = 0; d < k; ++d) {
        int now = 0, peak = 0;
        for (const Action& a : s.per_stage[d]) {
          if (a.kind == ActionKind::Forward) peak = std::max(peak, ++now);
          if (a.kind == ActionKind::Backward || a.kind == ActionKind::BackwardWeight) --now;
        }
        most = std::max(most, peak);
      }
      EXPECT_EQ(most, std::min(2 * k + 1, 2 * m)) << "K=" << k << " M=" << m;
      EXPECT_EQ(schedule_theory(ScheduleKind::DualPipeV, k, m, false).peak_stash_microbatches, most);
    }
}

TEST(DualPipeV, EveryGeneratedScheduleIsValidWithAndWithoutRemat) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 20; ++m) {
      const Schedule s = dualpipev_schedule(k, m);
      EXPECT_EQ(s.chunks, 2);
      EXPECT_EQ(s.placement, ChunkPlacement::VShape);
      EXPECT_EQ(validation_error(s), "") << "K=" << k << " M=" << m;
      EXPECT_EQ(validation_error(generate_schedule(ScheduleKind::DualPipeV, k, m, true)), "")
          << "K=" << k << " M=" << m;
    }
  EXPECT_EQ(schedule_from_string("dualpipev"), ScheduleKind::DualPipeV);
  EXPECT_EQ(scheduled_chunks(schedule_info(ScheduleKind::DualPipeV), 5), 2);
  EXPECT_THROW(dualpipev_schedule(0, 2), Error);
  EXPECT_THROW(dualpipev_theory(2, 0), Error);
}

}  // namespace
}  // namespace pipelab
