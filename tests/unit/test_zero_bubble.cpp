// test_zero_bubble.cpp — ZB-H1 (zb_h1_schedule, exercise ex10: pipelab/exercise.h) and ZB-H2
// (schedule/zero_bubble.h) against oracles that do not call the generators:
//   * a unit-time list scheduler written here with the paper's rules as limits (section 2
//     of Qi et al. 2024): forwards first, at most d_i(s) + 1 forwards ahead of the I's (the
//     warm-up), at most d_w + 1 micro-batches in flight (the memory limit), W's delayed
//     d_w - d_i(s) behind the I's, a W whenever nothing else may run;
//   * the K = 4, M = 8 orders written out by hand from the rule of the paper's section 2
//     (warm-up forwards 4, 3, 2, 1 for ZB-H1 and 7, 5, 3, 1 for ZB-H2; W's delayed);
//   * an event simulation of the generated programs (sends and receives included, free
//     links; unit_time_sim.h) whose idle time must be the registry's theory;
//   * a walk of each stage's program counting micro-batches between F and W.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/schedule/zero_bubble.h"
#include "unit_time_sim.h"

namespace pipelab {
namespace {

using Orders = std::vector<std::string>;  // per stage: "F0 F1 I0 W0 ..."

// ZB-H1 is factor 1, ZB-H2 factor 2 (the paper doubles the warm-up and the W delay); ZB-H2
// with M < 2K - 2 is ZB-H1's order (zero_bubble.h).
int factor_of(ScheduleKind kind, int k, int m) { return kind == ScheduleKind::ZbH1 || m < 2 * k - 2 ? 1 : 2; }
Schedule generate(ScheduleKind kind, int k, int m) {
  return kind == ScheduleKind::ZbH1 ? zb_h1_schedule(k, m) : zb_h2_schedule(k, m);
}

// Each stage's F / I / W sequence, sends, receives and the optimizer left out.
Orders compute_orders(const Schedule& s) {
  Orders out;
  for (const auto& program : s.per_stage) {
    std::string line;
    for (const Action& a : program)
      if (is_compute(a.kind)) line += (line.empty() ? "" : " ") + std::string(short_label(a.kind)) + std::to_string(a.microbatch);
    out.push_back(line);
  }
  return out;
}

// The list scheduler: unit time, every stage picks at each tick, F before I before W.
Orders list_schedule(int factor, int k, int m) {
  const int never = 1 << 30;
  std::vector<std::vector<int>> f_done(k, std::vector<int>(m, never)), i_done = f_done;
  std::vector<int> nf(k, 0), ni(k, 0), nw(k, 0);
  Orders out(k);
  auto emit = [&](int s, char what, int mb) { out[s] += (out[s].empty() ? "" : " ") + std::string(1, what) + std::to_string(mb); };
  for (int t = 0; *std::min_element(nw.begin(), nw.end()) < m; ++t) {
    for (int s = 0; s < k; ++s) {
      const int ahead = factor * (k - 1 - s) + 1;  // forwards before the first I (warm-up)
      const int in_flight = factor * (k - 1) + 1;  // F done, W not yet
      const int lag = factor * s + 1;              // I's done, their W's not yet
      const bool f_ok = nf[s] < m && nf[s] - ni[s] < ahead && nf[s] - nw[s] < in_flight &&
                        (s == 0 || f_done[s - 1][nf[s]] <= t);
      const bool i_ok = ni[s] < nf[s] && f_done[s][ni[s]] <= t && ni[s] - nw[s] < lag &&
                        (s == k - 1 || i_done[s + 1][ni[s]] <= t);
      const bool w_ok = nw[s] < ni[s] && i_done[s][nw[s]] <= t;
      if (f_ok) {
        f_done[s][nf[s]] = t + 1;
        emit(s, 'F', nf[s]++);
      } else if (i_ok) {
        i_done[s][ni[s]] = t + 1;
        emit(s, 'I', ni[s]++);
      } else if (w_ok) {
        emit(s, 'W', nw[s]++);
      }
    }
  }
  return out;
}

// A schedule from per-stage orders ("F0 I0 W0 ..."), sends and receives put around F and I.
Schedule from_orders(const Orders& orders, int m) {
  Schedule s = start_schedule(ScheduleKind::Custom, "from_orders", static_cast<int>(orders.size()), m);
  for (int st = 0; st < s.stages; ++st) {
    std::istringstream in(orders[st]);
    for (std::string token; in >> token;) {
      const int mb = std::stoi(token.substr(1));
      if (token[0] == 'F') append_forward(s.per_stage[st], st, mb, s.stages);
      if (token[0] == 'I') append_backward_input(s.per_stage[st], st, mb, s.stages);
      if (token[0] == 'W') append_weight_backward(s.per_stage[st], st, mb);
    }
    s.per_stage[st].push_back({ActionKind::OptimizerStep, st, -1});
  }
  return s;
}

// Most micro-batches of `stage` between their F and their W (B for an unsplit backward).
int peak_in_flight(const Schedule& s, int stage) {
  int now = 0, peak = 0;
  for (const Action& a : s.per_stage[stage]) {
    if (a.kind == ActionKind::Forward) peak = std::max(peak, ++now);
    if (a.kind == ActionKind::BackwardWeight || a.kind == ActionKind::Backward) --now;
  }
  return peak;
}

const ScheduleKind kZeroBubble[] = {ScheduleKind::ZbH1, ScheduleKind::ZbH2};

TEST(ZeroBubble, OrdersEqualThePapersListScheduler) {
  int compared = 0;
  for (ScheduleKind kind : kZeroBubble)
    for (int k = 1; k <= 8; ++k)
      for (int m = 1; m <= 16; ++m) {
        SCOPED_TRACE(std::string(to_string(kind)) + " K=" + std::to_string(k) + " M=" + std::to_string(m));
        const Schedule s = generate(kind, k, m);
        const int factor = kind == ScheduleKind::ZbH1 ? 1 : 2;
        const Orders listed = list_schedule(factor, k, m);
        // Below these M the handcrafted triples (which keep their W delay) and the work-
        // conserving list scheduler (which fills every gap with a W) part: there the list
        // scheduler's step must be exactly as long (idle times equal at 1:1:1).
        const int steady = kind == ScheduleKind::ZbH1 ? k : 2 * k - 1;
        if (m == 1 || m >= steady) {
          EXPECT_EQ(compute_orders(s), listed);
          ++compared;
        } else {
          EXPECT_NEAR(simulated_idle(s, CostRatio{}), simulated_idle(from_orders(listed, m), CostRatio{}), 1e-9);
        }
        // ZB-H2 short of 2K - 2 micro-batches is ZB-H1's order.
        if (kind == ScheduleKind::ZbH2 && m < 2 * k - 2) {
          EXPECT_EQ(compute_orders(s), compute_orders(zb_h1_schedule(k, m)));
        }
      }
  // Order for order: ZB-H1 with M = 1 or M >= K (107 cases), ZB-H2 with M = 1 or M >= 2K - 1 (79).
  EXPECT_EQ(compared, 186);
}

TEST(ZeroBubble, FourStagesEightMicrobatchesByHand) {
  EXPECT_EQ(compute_orders(zb_h1_schedule(4, 8)),
            (Orders{"F0 F1 F2 F3 I0 W0 F4 I1 W1 F5 I2 W2 F6 I3 W3 F7 I4 W4 I5 W5 I6 W6 I7 W7",
                    "F0 F1 F2 I0 F3 I1 W0 F4 I2 W1 F5 I3 W2 F6 I4 W3 F7 I5 W4 I6 W5 I7 W6 W7",
                    "F0 F1 I0 F2 I1 F3 I2 W0 F4 I3 W1 F5 I4 W2 F6 I5 W3 F7 I6 W4 I7 W5 W6 W7",
                    "F0 I0 F1 I1 F2 I2 F3 I3 W0 F4 I4 W1 F5 I5 W2 F6 I6 W3 F7 I7 W4 W5 W6 W7"}));
  EXPECT_EQ(compute_orders(zb_h2_schedule(4, 8)),
            (Orders{"F0 F1 F2 F3 F4 F5 F6 I0 W0 F7 I1 W1 I2 W2 I3 W3 I4 W4 I5 W5 I6 W6 I7 W7",
                    "F0 F1 F2 F3 F4 I0 F5 I1 F6 I2 W0 F7 I3 W1 I4 W2 I5 W3 I6 W4 I7 W5 W6 W7",
                    "F0 F1 F2 I0 F3 I1 F4 I2 F5 I3 F6 I4 W0 F7 I5 W1 I6 W2 I7 W3 W4 W5 W6 W7",
                    "F0 I0 F1 I1 F2 I2 F3 I3 F4 I4 F5 I5 F6 I6 W0 F7 I7 W1 W2 W3 W4 W5 W6 W7"}));
}

TEST(ZeroBubble, IdleTimeIsTheRegistryTheoryForEveryKAndM) {
  const CostRatio unit;  // F:I:W = 1:1:1
  for (ScheduleKind kind : kZeroBubble)
    for (int k = 1; k <= 8; ++k)
      for (int m = 1; m <= 16; ++m) {
        SCOPED_TRACE(std::string(to_string(kind)) + " K=" + std::to_string(k) + " M=" + std::to_string(m));
        const double idle = simulated_idle(generate(kind, k, m), unit);
        const Theory theory = schedule_theory(kind, k, m, false);
        const double busy = 3.0 * m;
        EXPECT_NEAR(theory.utilization, busy / (busy + idle), 1e-9);
        EXPECT_NEAR(theory.bubble_fraction, idle / (busy + idle), 1e-9);
        EXPECT_NEAR(theory.ideal_speedup, k * busy / (busy + idle), 1e-9);  // K·M·3 / T
        if (m >= k) {
          // The paper's bubble: ZB-H1 (K-1)(T_F+T_I-T_W) exactly; ZB-H2's (K-1)(T_F+T_I-2T_W)
          // = 0 is the steady state of many steps, one step keeps (K-1)T_F.
          EXPECT_NEAR(idle, k - 1.0, 1e-9);
          if (kind == ScheduleKind::ZbH1) {
            EXPECT_NEAR(idle, (k - 1) * (1.0 + 1.0 - 1.0), 1e-9);
          }
        }
      }
}

TEST(ZeroBubble, ZbH1BubbleAtOtherCostRatios) {
  // (K-1)·max(t_f + t_i - t_w, t_f, t_i) for M >= K; the paper's (K-1)(t_f + t_i - t_w) when
  // t_w <= min(t_f, t_i) (the first three ratios).
  const double ratios[][3] = {{1, 1, 1}, {1, 2, 1}, {2, 1, 0.5}, {1, 1, 2}, {1, 0.5, 0.5}, {0.5, 1, 1}, {1, 3, 0.25}};
  for (const auto& r : ratios) {
    CostRatio cost;
    cost.forward = r[0];
    cost.backward_input = r[1];
    cost.backward_weight = r[2];
    for (int k = 1; k <= 6; ++k)
      for (int m = k; m <= 14; ++m) {
        SCOPED_TRACE("F:I:W " + std::to_string(r[0]) + ":" + std::to_string(r[1]) + ":" + std::to_string(r[2]) +
                     " K=" + std::to_string(k) + " M=" + std::to_string(m));
        const double idle = simulated_idle(zb_h1_schedule(k, m), cost);
        EXPECT_NEAR(idle, zb_h1_bubble(k, cost), 1e-9);
        if (r[2] <= std::min(r[0], r[1])) {
          EXPECT_NEAR(idle, (k - 1) * (r[0] + r[1] - r[2]), 1e-9);
        }
      }
  }
}

TEST(ZeroBubble, PeakInFlightIsTheDeclaredBoundOnEveryStage) {
  for (ScheduleKind kind : kZeroBubble)
    for (int k = 1; k <= 8; ++k)
      for (int m = 1; m <= 16; ++m) {
        const Schedule s = generate(kind, k, m);
        const int bound = std::min(factor_of(kind, k, m) * (k - 1) + 1, m);  // min(K, M) or min(2K-1, M)
        EXPECT_EQ(zero_bubble_peak_in_flight(kind, k, m), bound);
        EXPECT_EQ(schedule_theory(kind, k, m, false).peak_stash_microbatches, bound);
        for (int st = 0; st < k; ++st)
          EXPECT_EQ(peak_in_flight(s, st), bound) << to_string(kind) << " K=" << k << " M=" << m << " stage " << st;
      }
}

TEST(ZeroBubble, EveryRowsPeakStashIsTheMostAnyDeviceHolds) {
  for (const ScheduleInfo& row : schedule_registry())
    for (int k = 1; k <= 6; ++k)
      for (int m = 1; m <= 9; ++m) {
        const Schedule s = generate_schedule(row.kind, k, m, false);
        int most = 0;
        for (int d = 0; d < s.stages; ++d) most = std::max(most, peak_in_flight(s, d));
        EXPECT_EQ(schedule_theory(row.kind, k, m, false).peak_stash_microbatches, most)
            << row.name << " K=" << k << " M=" << m;
        // The first device's peak for every row but the V schedules short of 2K
        // micro-batches (their devices further down the V hold more: schedule/zbv.h).
        if (row.placement != ChunkPlacement::VShape || m >= 2 * k) {
          EXPECT_EQ(peak_in_flight(s, 0), most) << row.name << " K=" << k << " M=" << m;
        }
      }
}

TEST(ZeroBubble, ValidateAcceptsEveryGeneratedSchedule) {
  for (ScheduleKind kind : kZeroBubble)
    for (int k = 1; k <= 8; ++k)
      for (int m = 1; m <= 16; ++m)
        EXPECT_EQ(validation_error(generate(kind, k, m)), "") << to_string(kind) << " K=" << k << " M=" << m;
}

TEST(ZeroBubble, RegistryRowsAndInputChecks) {
  EXPECT_EQ(schedule_from_string("zb-h1"), ScheduleKind::ZbH1);
  EXPECT_EQ(schedule_from_string("zb-h2"), ScheduleKind::ZbH2);
  EXPECT_EQ(zb_h1_schedule(3, 5).name(), "zb-h1");
  EXPECT_EQ(zb_h2_schedule(3, 5).name(), "zb-h2");
  EXPECT_THROW(zb_h1_schedule(0, 4), Error);
  EXPECT_THROW(zb_h2_schedule(4, 0), Error);
}

TEST(ZeroBubble, RematPutsRBeforeEachIAndKeepsTheIdleTime) {
  const CostRatio unit;  // F:I:W:R = 1:1:1:1 (B = I + W = 2)
  for (ScheduleKind kind : kZeroBubble)
    for (int k = 1; k <= 8; ++k)
      for (int m = 1; m <= 16; ++m) {
        SCOPED_TRACE(std::string(to_string(kind)) + " K=" + std::to_string(k) + " M=" + std::to_string(m));
        const Schedule plain = generate(kind, k, m);
        const Schedule remat = generate_schedule(kind, k, m, true);
        EXPECT_TRUE(remat.remat);
        EXPECT_EQ(remat.name(), std::string(to_string(kind)) + "+remat");
        // One R per micro-batch and stage, right before I's RecvGrad (or I on the last stage).
        for (int st = 0; st < k; ++st) {
          const auto& p = remat.per_stage[st];
          int rs = 0;
          for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i].kind != ActionKind::Recompute) continue;
            ++rs;
            ASSERT_LT(i + 1, p.size());
            const std::size_t at = p[i + 1].kind == ActionKind::RecvGrad ? i + 2 : i + 1;
            ASSERT_LT(at, p.size());
            EXPECT_EQ(p[at], (Action{ActionKind::BackwardInput, st, p[i].microbatch}));
          }
          EXPECT_EQ(rs, m);
          EXPECT_EQ(p.size(), plain.per_stage[st].size() + m);
        }
        EXPECT_NEAR(simulated_idle(remat, unit), simulated_idle(plain, unit), 1e-9);
        const double idle = simulated_idle(remat, unit), busy = 4.0 * m;
        EXPECT_NEAR(schedule_theory(kind, k, m, true).utilization, busy / (busy + idle), 1e-9);
        EXPECT_EQ(validation_error(remat), "");
      }
}

TEST(ZeroBubble, DescribeListsTheTriples) {
  const std::string text = describe(zb_h1_schedule(2, 2));
  EXPECT_EQ(text,
            "zb-h1: 2 stages, 2 micro-batches\n"
            "  stage 0: F0 SendAct0 F1 SendAct1 RecvGrad0 I0 W0 RecvGrad1 I1 W1 Opt\n"
            "  stage 1: RecvAct0 F0 I0 SendGrad0 RecvAct1 F1 I1 SendGrad1 W0 W1 Opt\n");
}

TEST(ZeroBubble, TheDocsListingIsDescribesOutput) {
  std::ifstream in(std::string(PIPELAB_SOURCE_DIR) + "/docs/zero-bubble.md");
  ASSERT_TRUE(in) << "docs/zero-bubble.md";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(doc.find(describe(zb_h1_schedule(4, 8))), std::string::npos) << describe(zb_h1_schedule(4, 8));
  EXPECT_NE(doc.find(describe(zb_h2_schedule(4, 8))), std::string::npos) << describe(zb_h2_schedule(4, 8));
}

}  // namespace
}  // namespace pipelab
