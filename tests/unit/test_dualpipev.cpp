// test_dualpipev.cpp — DualPipeV run action by action (schedule/dualpipev.h), against
// oracles that do not call the generator:
//   * the K = 1 and K = 2 orders written out by hand from the eight steps of the V form
//     (DeepSeek-V3 section 3.2.1; PyTorch's ScheduleDualPipeV), each overlapped pair as
//     "F, then B";
//   * a unit-time event simulation written here (B = I + W = 2, sends free) whose idle
//     time must be the registry's theory for every K <= 8 and M <= 20, with and without
//     remat — and, once M >= 2K, ZB-V's: without the overlap, nothing is gained;
//   * a walk of each device's program counting (chunk, micro-batch) pairs from F to the
//     end of its backward.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/schedule/dualpipev.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/schedule/zbv.h"

namespace pipelab {
namespace {

using Orders = std::vector<std::string>;  // per device: "F0 F0u B0u I1 W1 ..." (u: chunk 1, the way up)

Orders compute_orders(const Schedule& s) {
  Orders out;
  for (const auto& program : s.per_stage) {
    std::string line;
    for (const Action& a : program)
      if (is_compute(a.kind))
        line += (line.empty() ? "" : " ") + std::string(short_label(a.kind)) + std::to_string(a.microbatch) +
                (a.chunk == 1 ? "u" : "");
    out.push_back(line);
  }
  return out;
}

// Unit-time event simulation over the virtual stages: F, I, W and R cost 1, B costs 2
// (I + W); a receive waits for its send; sends and links are free. The idle time of one
// device: makespan - its busy time (the same busy time on every device).
double idle_time(const Schedule& s) {
  const ChunkMap map = s.chunk_map();
  std::map<std::uint64_t, double> sent;  // action_key(send) → when
  std::vector<std::size_t> pc(s.stages, 0);
  std::vector<double> clock(s.stages, 0.0), busy(s.stages, 0.0);
  for (bool moved = true; moved;) {
    moved = false;
    for (int d = 0; d < s.stages; ++d) {
      for (; pc[d] < s.per_stage[d].size(); ++pc[d], moved = true) {
        const Action& a = s.per_stage[d][pc[d]];
        if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
          const auto it = sent.find(action_key(matching_send(a, map)));
          if (it == sent.end()) break;  // blocked: try the other devices
          clock[d] = std::max(clock[d], it->second);
        } else if (a.kind == ActionKind::SendActivation || a.kind == ActionKind::SendGrad) {
          sent[action_key(a)] = clock[d];
        } else if (is_compute(a.kind)) {
          const double cost = a.kind == ActionKind::Backward ? 2.0 : 1.0;
          clock[d] += cost;
          busy[d] += cost;
        }
      }
    }
  }
  for (int d = 0; d < s.stages; ++d)
    EXPECT_EQ(pc[d], s.per_stage[d].size()) << "device " << d << " is stuck\n" << describe(s);
  for (int d = 1; d < s.stages; ++d) EXPECT_EQ(busy[d], busy[0]);
  return *std::max_element(clock.begin(), clock.end()) - busy[0];
}

TEST(DualPipeV, SmallOrdersByHand) {
  // K = 1, M = 2: step 2 (F down, F up), one main-phase round (F down, B up, F up, B down),
  // step 6 (B up, then from the middle on for an even device: I down, its W last).
  EXPECT_EQ(compute_orders(dualpipev_schedule(1, 2)), (Orders{"F0 F0u F1 B0u F1u B0 B1u I1 W1"}));
  // K = 2, M = 4. Device 0: 2 forwards down; F down, F up; I up, its W, F up; one round;
  // one step-5 round (B up; F up, B down); step 6: B up, then I down; step 7: W, I down;
  // the last W. Device 1: two (F down, F up); two rounds; step 6: B up, B down, then I's.
  EXPECT_EQ(compute_orders(dualpipev_schedule(2, 4)),
            (Orders{"F0 F1 F2 F0u I0u W0u F1u F3 B1u F2u B0 B2u F3u B1 B3u I2 W2 I3 W3",
                    "F0 F0u F1 F1u F2 B0u F2u B0 F3 B1u F3u B1 B2u B2 I3u I3 W3u W3"}));
}

TEST(DualPipeV, IdleTimeIsTheRegistryTheoryAndZbvsOnceTheVFills) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 20; ++m) {
      SCOPED_TRACE("K=" + std::to_string(k) + " M=" + std::to_string(m));
      const double idle = idle_time(dualpipev_schedule(k, m)), busy = 6.0 * m;
      const Theory theory = schedule_theory(ScheduleKind::DualPipeV, k, m, false);
      EXPECT_NEAR(theory.utilization, busy / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.bubble_fraction, idle / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.ideal_speedup, k * busy / (busy + idle), 1e-9);
      if (m >= 2 * k) {
        EXPECT_EQ(idle, k - 1.0);
        EXPECT_EQ(idle, idle_time(zbv_schedule(k, m))) << "without the overlap, ZB-V's idle time";
      }
      // Remat (R before each B or I, while its gradient is on its way): the same idle.
      const Schedule remat = generate_schedule(ScheduleKind::DualPipeV, k, m, true);
      EXPECT_EQ(idle_time(remat), idle);
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
