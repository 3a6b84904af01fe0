// test_zbv.cpp — ZB-V (schedule/zbv.h) against oracles that do not call the generator:
//   * the K = 1, 2 orders written out by hand from the rules of the paper's section 6
//     (Qi et al. 2024): warm-up 2(K - d) - 1 forwards down, d pairs up-down, K - d up
//     triples; rounds of both chunks; the cool-down I's, then the W's left;
//   * the paper's zero-bubble claim on a unit-time event simulation written here (sends
//     and receives free): once the V fills (M >= 2K - 1), device d starts after d chunk
//     forwards and never waits again until its last action;
//   * the same simulation's idle time against the registry's theory, for every K and M,
//     with and without remat;
//   * a walk of each device's program counting (chunk, micro-batch) pairs between F and W;
//   * the V placement written out: chunk 0 of device d is stage d, chunk 1 is 2K - 1 - d.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/schedule/zbv.h"
#include "chunk_orders.h"

namespace pipelab {
namespace {


// One compute span of the unit-time simulation.
struct Span {
  double start;
  Action action;
};

// Unit-time event simulation of the programs as generated: every F, I, W and R costs 1 (a
// chunk's forward), a receive waits for its send, sends and links are free. Returns each
// device's compute spans in order.
std::vector<std::vector<Span>> simulate(const Schedule& s) {
  const ChunkMap map = s.chunk_map();
  std::map<std::uint64_t, double> sent;  // action_key(send) → when
  std::vector<std::size_t> pc(s.stages, 0);
  std::vector<double> clock(s.stages, 0.0), ready(s.stages, 0.0);
  std::vector<std::vector<Span>> spans(s.stages);
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
          spans[d].push_back({clock[d], a});
          clock[d] += 1.0;
        }
      }
    }
  }
  for (int d = 0; d < s.stages; ++d)
    EXPECT_EQ(pc[d], s.per_stage[d].size()) << "device " << d << " is stuck\n" << describe(s);
  return spans;
}

double makespan(const std::vector<std::vector<Span>>& spans) {
  double end = 0;
  for (const auto& device : spans)
    if (!device.empty()) end = std::max(end, device.back().start + 1.0);
  return end;
}

// The idle time of one device (T - its busy time); the same on every device, all equally busy.
double idle_of(const Schedule& s, int device) {
  const auto spans = simulate(s);
  return makespan(spans) - static_cast<double>(spans[device].size());
}

TEST(Zbv, SmallOrdersByHand) {
  // K = 1: both chunks on device 0; n = max(M, 2K - 1) = 2 counted: F down, one up triple,
  // one round, the cool-down's I down and W down.
  EXPECT_EQ(chunk_compute_orders(zbv_schedule(1, 2)), (Orders{"F0 F0u I0u W0u F1 I0 W0 F1u I1u W1u I1 W1"}));
  // K = 2, M = 4: device 0 warms up with 3 forwards down and 2 up triples; device 1 with
  // 1 forward down, 1 pair (up, down), 1 up triple; then 2 rounds; then the cool-down.
  EXPECT_EQ(chunk_compute_orders(zbv_schedule(2, 4)),
            (Orders{"F0 F1 F2 F0u I0u W0u F1u I1u W1u F3 I0 W0 F2u I2u W2u I1 W1 F3u I3u W3u I2 W2 I3 W3",
                    "F0 F0u F1 F1u I0u W0u F2 I0 W0 F2u I1u W1u F3 I1 W1 F3u I2u W2u I2 I3u I3 W2 W3u W3"}));
  // K = 2, M = 2: the order of n = 3 with micro-batch 2's actions left out.
  EXPECT_EQ(chunk_compute_orders(zbv_schedule(2, 2)),
            (Orders{"F0 F1 F0u I0u W0u F1u I1u W1u I0 W0 I1 W1", "F0 F0u F1 F1u I0u W0u I0 W0 I1u W1u I1 W1"}));
}

TEST(Zbv, PlacesTheChunksInAV) {
  for (int k = 1; k <= 6; ++k) {
    const Schedule s = zbv_schedule(k, 2 * k);
    EXPECT_EQ(s.chunks, 2);
    EXPECT_EQ(s.placement, ChunkPlacement::VShape);
    const ChunkMap map = s.chunk_map();
    for (int d = 0; d < k; ++d) {
      EXPECT_EQ(map.virtual_stage(d, 0), d) << "K=" << k;
      EXPECT_EQ(map.virtual_stage(d, 1), 2 * k - 1 - d) << "K=" << k;
    }
    // The hand-over from stage K - 1 to stage K stays on device K - 1: it sends to itself.
    const Action send{ActionKind::SendActivation, k - 1, 0, 0};
    EXPECT_EQ(matching_recv(send, map), (Action{ActionKind::RecvActivation, k - 1, 0, 1}));
  }
}

TEST(Zbv, NoDeviceWaitsOnceTheVFills) {
  // The paper's zero bubble: with M >= 2K - 1 a device waits only for its first input (d
  // chunk forwards down the V) and, after its last action, for the others to finish.
  for (int k = 1; k <= 8; ++k)
    for (int m = 2 * k - 1; m <= 3 * k; ++m) {
      SCOPED_TRACE("K=" + std::to_string(k) + " M=" + std::to_string(m));
      const auto spans = simulate(zbv_schedule(k, m));
      const double end = makespan(spans);
      for (int d = 0; d < k; ++d) {
        ASSERT_EQ(spans[d].size(), 6u * m) << "F, I and W of M micro-batches on 2 chunks";
        EXPECT_EQ(spans[d].front().start, d) << "device " << d;
        for (std::size_t i = 1; i < spans[d].size(); ++i)
          ASSERT_EQ(spans[d][i].start, spans[d][i - 1].start + 1.0)
              << "device " << d << " waits before " << to_string(spans[d][i].action);
        EXPECT_EQ(end - (spans[d].back().start + 1.0), k - 1 - d) << "device " << d;
      }
    }
}

TEST(Zbv, IdleTimeIsTheRegistryTheoryForEveryKAndM) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      SCOPED_TRACE("K=" + std::to_string(k) + " M=" + std::to_string(m));
      const Schedule s = zbv_schedule(k, m);
      const double idle = idle_of(s, 0), busy = 6.0 * m;
      for (int d = 1; d < k; ++d) EXPECT_EQ(idle_of(s, d), idle);
      const Theory theory = schedule_theory(ScheduleKind::Zbv, k, m, false);
      EXPECT_NEAR(theory.utilization, busy / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.bubble_fraction, idle / (busy + idle), 1e-9);
      EXPECT_NEAR(theory.ideal_speedup, k * busy / (busy + idle), 1e-9);
      if (2 * m >= 3 * k - 1) {
        EXPECT_EQ(idle, k - 1.0) << "the V's ramp: half of ZB-H1's one-step (K-1)·t_f";
      }
      // Remat puts R before each I (overlapping the wait for its gradient): 2M more busy
      // per device, the same idle, which is with_remat_theory's assumption.
      const Schedule remat = generate_schedule(ScheduleKind::Zbv, k, m, true);
      EXPECT_EQ(idle_of(remat, 0), idle);
      const Theory with_r = schedule_theory(ScheduleKind::Zbv, k, m, true);
      EXPECT_NEAR(with_r.utilization, 8.0 * m / (8.0 * m + idle), 1e-9);
    }
}

TEST(Zbv, PeakInFlightIsKStagesOfActivationsOnEveryDevice) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      const Schedule s = zbv_schedule(k, m);
      int most = 0;
      for (int d = 0; d < k; ++d) {
        int now = 0, peak = 0;
        for (const Action& a : s.per_stage[d]) {
          if (a.kind == ActionKind::Forward) peak = std::max(peak, ++now);
          if (a.kind == ActionKind::BackwardWeight) --now;
        }
        // Device d: its warm-up forwards, then one pair freed per W; 2K pairs (half a
        // stage each: 1F1B's first-stage K micro-batches) once M >= K.
        EXPECT_EQ(peak, std::min({2 * k, 2 * m, m + 1 + d})) << "K=" << k << " M=" << m << " device " << d;
        most = std::max(most, peak);
      }
      EXPECT_EQ(schedule_theory(ScheduleKind::Zbv, k, m, false).peak_stash_microbatches, most);
    }
}

TEST(Zbv, EveryGeneratedScheduleIsValidWithAndWithoutRemat) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      EXPECT_EQ(validation_error(zbv_schedule(k, m)), "") << "K=" << k << " M=" << m;
      EXPECT_EQ(validation_error(generate_schedule(ScheduleKind::Zbv, k, m, true)), "") << "K=" << k << " M=" << m;
    }
}

TEST(Zbv, RegistryRowAndInputChecks) {
  EXPECT_EQ(schedule_from_string("zbv"), ScheduleKind::Zbv);
  EXPECT_EQ(zbv_schedule(3, 5).name(), "zbv");
  const ScheduleInfo& row = schedule_info(ScheduleKind::Zbv);
  EXPECT_FALSE(row.uses_chunks) << "--chunks does not apply: the V has two";
  EXPECT_EQ(scheduled_chunks(row, 4), 2);
  EXPECT_EQ(generate_schedule(ScheduleKind::Zbv, 2, 4, false, 3).chunks, 2);
  EXPECT_THROW(zbv_schedule(0, 4), Error);
  EXPECT_THROW(zbv_schedule(4, 0), Error);
  EXPECT_THROW(zbv_theory(0, 1), Error);
}

}  // namespace
}  // namespace pipelab
