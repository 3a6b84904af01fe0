// test_gap.cpp — the gap decomposition (report/gap.h): on the sim every term equals its
// value derived by hand from the cost model (docs/backends.md), and the terms add up to
// the step; on cpu they add up to the measured step and agree with the trace's own spans.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "balanced_sim.h"
#include "pipelab/report/gap.h"
#include "pipelab/report/gap_report.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

double sum_of_terms(const GapTerms& g) { return g.compute_ms + g.optimizer_ms + g.comm_ms + g.bubble_ms + g.host_ms; }

// GPipe K=2, M=2 on the sim: 2 layers per stage, d = 32, h = 64, 480 rows per micro-batch,
// no loss, with the optimizer, 10 TFLOP/s, ideal bandwidth and a 0.05 µs link latency.
TEST(GapOnSim, GpipeK2M2EqualsTheHandDerivation) {
  RunConfig c = balanced_sim(ScheduleKind::Gpipe, 2, 2, false, SimCosts::Flops);  // FLOP-priced
  c.sim.count_optimizer = true;
  c.sim.link_latency_us = 0.05;
  RunConfig n = c;
  n.schedule = ScheduleKind::Naive;
  const RunResult gpipe = run_step(c), naive = run_step(n);

  // Costs in µs from docs/backends.md's FLOP table: FLOPs / (10 TFLOP/s · 1e6).
  const double layers = 2, rows = 480, d = 32, h = 64, rate = 10e6;
  const double F = layers * (4 * rows * d * h + 10 * rows * h + 2 * rows * d) / rate;
  const double B = layers * (8 * rows * d * h + 12 * rows * h + 3 * rows * d) / rate;
  const double o = 2 * (2 * d * h + h + d) * layers / rate;
  const double l = 0.05;
  ASSERT_LT(o, l);  // the derivation below assumes the optimizer ends before the last send
  ASSERT_LT(l, F);  // and that no send queues behind another
  // Timeline (µs): stage 0 F0 [0,F] F1 [F,2F], sends [F,F+l] [2F,2F+l]; stage 1 F0 from
  // F+l, F1 from 2F+l, B1 from 3F+l, B0 from 3F+l+B, sends of the gradients at their
  // ends (+l), optimizer after B0; stage 0 B1 from 3F+2l+B, B0 from 3F+2l+2B, optimizer.
  const double T = 3 * F + 3 * B + 2 * l + o;
  const StepGap gap = decompose_step(gpipe.trace, gpipe.schedule);
  const double us = 1e3, tol = 1e-9;  // the gap is in ms
  ASSERT_EQ(gap.per_device.size(), 2u);
  EXPECT_NEAR(gap.step_ms * us, T, tol);
  // Stage 0: waits F + B (from F1's end to the first gradient, less what the transfers
  // cover), its send of A1 and the receive of G1 are not hidden (2l).
  const GapTerms& s0 = gap.per_device[0];
  EXPECT_NEAR(s0.compute_ms * us, 2 * F + 2 * B, tol);
  EXPECT_NEAR(s0.optimizer_ms * us, o, tol);
  EXPECT_NEAR(s0.comm_ms * us, 2 * l, tol);
  EXPECT_NEAR(s0.bubble_ms * us, F + B, tol);
  EXPECT_NEAR(s0.host_ms * us, 0, tol);
  // Stage 1: waits F for A0 (then its transfer, l), its last send outlasts its optimizer
  // by l - o, and it is done B + o before the step ends.
  const GapTerms& s1 = gap.per_device[1];
  EXPECT_NEAR(s1.compute_ms * us, 2 * F + 2 * B, tol);
  EXPECT_NEAR(s1.optimizer_ms * us, o, tol);
  EXPECT_NEAR(s1.comm_ms * us, l + (l - o), tol);
  EXPECT_NEAR(s1.bubble_ms * us, F + (B + o), tol);
  EXPECT_NEAR(s1.host_ms * us, 0, tol);
  EXPECT_FALSE(gap.mean.on_core_ms.has_value());  // the sim has no threads

  // Naive: 960 rows, so each stage's F is 2F and its B 2B (the FLOPs are linear in the
  // rows); T_naive = 4F + 4B + 2l + o, and the work at B rows is W = 2F + 2B per device.
  const double T_naive = 4 * F + 4 * B + 2 * l + o, W = 2 * F + 2 * B;
  const RunGap g = run_gap(gpipe, &naive);
  ASSERT_TRUE(g.split.full_batch_ms && g.split.microbatch_ms);
  EXPECT_NEAR(*g.split.full_batch_ms * us, W, tol);
  EXPECT_NEAR(*g.split.microbatch_ms * us, 0, tol);
  EXPECT_FALSE(g.split.off_core_ms.has_value());
  EXPECT_FALSE(g.split.off_core_na.empty());

  // The chain: c = T_naive / W, u_theory = M / (M + K - 1) = 2/3, ideal 4/3 (theory).
  const std::optional<SpeedupChain> chain =
      speedup_chain(decompose_step(naive.trace, naive.schedule), g.step, g.split, gpipe.theory);
  ASSERT_TRUE(chain.has_value());
  const double cc = T_naive / W;
  EXPECT_NEAR(chain->ideal, 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(chain->measured, T_naive / T, 1e-9);
  EXPECT_NEAR(chain->naive_gaps, cc * 2.0 / 3.0 - 4.0 / 3.0, 1e-9);
  EXPECT_NEAR(chain->bubble_above_theory, cc * ((F + B + o / 2) / T - 1.0 / 3.0), 1e-9);
  EXPECT_NEAR(chain->comm, cc * (2 * l - o / 2) / T, 1e-9);
  EXPECT_NEAR(chain->optimizer, cc * o / T, 1e-9);
  EXPECT_NEAR(chain->microbatch, 0, 1e-9);
  EXPECT_NEAR(chain->host, 0, 1e-9);
  EXPECT_FALSE(chain->off_core.has_value());
  EXPECT_NEAR(chain->ideal + chain->naive_gaps - chain->bubble_above_theory - chain->microbatch - chain->comm -
                  chain->host - chain->optimizer,
              chain->measured, 1e-9);
}

// Every schedule on the sim: each device's terms add up to the step, compute is the
// metrics' busy time, the rest is the table's bubble, and the sim has no host gaps.
TEST(GapOnSim, AddsUpToTheStepForEverySchedule) {
  for (ScheduleKind kind : {ScheduleKind::Naive, ScheduleKind::Gpipe, ScheduleKind::OneFOneB, ScheduleKind::ZbH1,
                            ScheduleKind::DataParallel, ScheduleKind::Interleaved1F1B}) {
    RunConfig c = balanced_sim(kind, 4, 8, /*remat=*/kind == ScheduleKind::Gpipe, SimCosts::Flops);
    c.sim.count_loss = c.sim.count_optimizer = true;
    c.sim.link_latency_us = 0.3;
    c.sim.link_gbps = 100;
    c.chunks = kind == ScheduleKind::Interleaved1F1B ? 2 : 1;
    const RunResult r = run_step(c);
    SCOPED_TRACE(r.schedule.name());
    const StepGap gap = decompose_step(r.trace, r.schedule);
    const double T = r.metrics.makespan_ms;
    EXPECT_NEAR(gap.step_ms, T, 1e-12);
    for (std::size_t d = 0; d < gap.per_device.size(); ++d) {
      const GapTerms& g = gap.per_device[d];
      EXPECT_NEAR(sum_of_terms(g), T, 1e-9 * T);
      EXPECT_NEAR(g.compute_ms, r.metrics.busy_ms[d], 1e-9 * T);
      EXPECT_NEAR(g.host_ms, 0, 1e-9 * T);  // a sim clock moves only by compute and arrivals
    }
    EXPECT_NEAR(sum_of_terms(gap.mean), T, 1e-9 * T);
    EXPECT_NEAR((gap.mean.optimizer_ms + gap.mean.comm_ms + gap.mean.bubble_ms + gap.mean.host_ms) / T,
                r.metrics.bubble_fraction, 1e-9);
  }
}

// On cpu: the terms add up to the measured step, compute and on-core time are the trace's
// own spans and thread CPU times, and the last stage's wait for its first input is bubble.
TEST(GapOnCpu, AddsUpToTheMeasuredStep) {
  RunConfig c = balanced_sim(ScheduleKind::Gpipe, 2, 2);  // its model (L=4 d=32 h=64), on cpu
  c.backend = BackendKind::Cpu;
  c.model.batch = 32;  // a few ms
  c.sim = SimCostModel{};
  c.warmup_steps = 0;
  c.repeat_steps = 1;
  const RunResult r = run_step(c);
  const StepGap gap = decompose_step(r.trace, r.schedule);
  const double T = r.metrics.makespan_ms;
  ASSERT_GT(T, 0);
  EXPECT_NEAR(gap.step_ms, T, 1e-9 * T);
  std::vector<double> cpu_ms(2, 0), opt_ms(2, 0);
  for (const TraceEvent& e : r.trace.events) {
    if (e.lane != Lane::Compute) continue;
    // Thread CPU time capped at the span (docs/metrics.md): never more on a core than ran.
    if (is_compute(e.action.kind)) cpu_ms[e.device] += std::min<double>(e.cpu_us, e.dur_us) * 1e-3;
    else opt_ms[e.device] += e.dur_us * 1e-3;
  }
  for (int d = 0; d < 2; ++d) {
    const GapTerms& g = gap.per_device[d];
    EXPECT_NEAR(sum_of_terms(g), T, 1e-6 * T);  // exact, to the rounding of µs sums
    EXPECT_NEAR(g.compute_ms, r.metrics.busy_ms[d], 1e-6 * T);
    ASSERT_TRUE(g.on_core_ms.has_value());
    EXPECT_NEAR(*g.on_core_ms, cpu_ms[d], 1e-6 * T);
    EXPECT_LE(*g.on_core_ms, g.compute_ms + 1e-9) << "waiting for a core is never negative";
    EXPECT_LE(g.optimizer_ms, opt_ms[d] + 1e-9);
    EXPECT_LE(g.comm_ms, r.metrics.comm_ms[d] + 1e-9);
    for (double term : {g.optimizer_ms, g.comm_ms, g.bubble_ms, g.host_ms}) EXPECT_GE(term, 0);
  }
  // Stage 1 cannot start before micro-batch 0's activation has arrived: until then it
  // waited (bubble), except while the transfer itself ran (comm).
  double t0 = r.trace.events.front().start_us, arrival = 0, transfer = 0;
  for (const TraceEvent& e : r.trace.events) {
    t0 = std::min(t0, e.start_us);
    if (e.device == 1 && e.lane == Lane::Recv && e.action.microbatch == 0 &&
        e.action.kind == ActionKind::RecvActivation)
      arrival = e.end_us(), transfer = e.dur_us;
  }
  EXPECT_GE(gap.per_device[1].bubble_ms, (arrival - t0 - transfer) * 1e-3 - 1e-9);
  // A run of its own: no work at B rows to split against, said why, never 0.
  const RunGap alone = run_gap(r, nullptr);
  EXPECT_FALSE(alone.split.full_batch_ms.has_value());
  EXPECT_FALSE(alone.split.reference_na.empty());
  ASSERT_TRUE(alone.split.off_core_ms.has_value());
  EXPECT_NEAR(*alone.split.off_core_ms, gap.mean.compute_ms - *gap.mean.on_core_ms, 1e-12);
}

TEST(GapReport, LinesShowEveryTermAndNotMeasuredAsNa) {
  RunConfig c = balanced_sim(ScheduleKind::Gpipe, 2, 4, false, SimCosts::Flops);
  const RunResult r = run_step(c);
  const std::string lines = gap_lines(r, run_gap(r, nullptr));
  for (const char* word : {"# gap, gpipe", "compute", "bubble", "(theory 20.0)", "comm", "host", "optimizer",
                           "work at B rows n/a", "waiting for a core n/a"})
    EXPECT_NE(lines.find(word), std::string::npos) << word << " in:\n" << lines;
}

}  // namespace
}  // namespace pipelab
