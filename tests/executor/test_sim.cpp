// test_sim.cpp — the sim backend: theory on balanced stages, determinism, link
// costs, memory model, and the trace's shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "pipelab/exercise.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

// Balanced: L divisible by K, B divisible by M, no loss, no optimizer cost, free links.
RunConfig balanced_sim(int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 2 * devices;
  c.model.width = 64;
  c.model.hidden = 128;
  c.model.batch = 64 * 32;
  c.devices = devices;
  c.microbatches = microbatches;
  c.backend = BackendKind::Sim;
  c.sim.count_loss = false;
  c.sim.count_optimizer = false;
  return c;
}

class SimTheory : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(SimTheory, GpipeUtilizationIsMOverMPlusKMinusOne) {
  const auto [K, M] = GetParam();
  const RunResult r = run_step(balanced_sim(K, M));
  // Hand formula, written independently of fill_drain_theory().
  const double expected = static_cast<double>(M) / (M + K - 1);
  ASSERT_EQ(static_cast<int>(r.metrics.utilization.size()), K);
  for (int d = 0; d < K; ++d) EXPECT_NEAR(r.metrics.utilization[d], expected, 1e-9) << "device " << d;
  EXPECT_NEAR(r.metrics.bubble_fraction, (K - 1.0) / (M + K - 1), 1e-9);
}

class SimNaive : public ::testing::TestWithParam<int> {};

TEST_P(SimNaive, NaiveUtilizationIsOneOverK) {
  const int K = GetParam();
  RunConfig c = balanced_sim(K, 1);
  c.schedule = ScheduleKind::Naive;
  const RunResult r = run_step(c);
  EXPECT_NEAR(r.metrics.mean_utilization, 1.0 / K, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(KByM, SimTheory,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4, 8), ::testing::Values(1, 2, 4, 8, 16, 32)),
                         [](const auto& info) {
                           return "K" + std::to_string(std::get<0>(info.param)) + "M" +
                                  std::to_string(std::get<1>(info.param));
                         });

INSTANTIATE_TEST_SUITE_P(K, SimNaive, ::testing::Values(1, 2, 3, 4, 8));

TEST(Sim, MakespanMatchesHandComputedFillDrain) {
  // One F of a micro-batch takes f, one B takes 2f (backward = 2x forward FLOPs
  // up to the elementwise terms); fill–drain makespan = (M + K - 1)(f + b).
  const int K = 4, M = 8;
  RunConfig c = balanced_sim(K, M);
  const RunResult r = run_step(c);
  const int rows = c.model.batch / M;
  const double layers = static_cast<double>(c.model.layers) / K;
  const double d = c.model.width, h = c.model.hidden;
  const double f_flops = layers * (4 * rows * d * h + 10 * rows * h + 2 * rows * d);
  const double b_flops = layers * (8 * rows * d * h + 12 * rows * h + 3 * rows * d);
  const double ms_per_flop = 1e3 / (c.sim.device_tflops * 1e12);
  EXPECT_NEAR(r.metrics.makespan_ms, (M + K - 1) * (f_flops + b_flops) * ms_per_flop, 1e-9);
}

TEST(Sim, DeterministicToTheBit) {
  RunConfig c = balanced_sim(8, 16);
  c.sim.link_gbps = 25;
  c.sim.link_latency_us = 3;
  c.sim.count_loss = true;
  const RunResult a = run_step(c), b = run_step(c);
  ASSERT_EQ(a.trace.events.size(), b.trace.events.size());
  for (std::size_t i = 0; i < a.trace.events.size(); ++i) {
    EXPECT_EQ(a.trace.events[i].start_us, b.trace.events[i].start_us);
    EXPECT_EQ(a.trace.events[i].dur_us, b.trace.events[i].dur_us);
    EXPECT_EQ(a.trace.events[i].action, b.trace.events[i].action);
  }
}

TEST(Sim, SlowLinksLowerUtilizationAndShowCommTime) {
  RunConfig c = balanced_sim(4, 8);
  const RunResult ideal = run_step(c);
  c.sim.link_gbps = 10;
  const RunResult slow = run_step(c);
  EXPECT_LT(slow.metrics.mean_utilization, ideal.metrics.mean_utilization - 1e-3);
  EXPECT_EQ(ideal.metrics.comm_time_ms, 0.0);
  // 2 directions × (K-1) boundaries × M micro-batches, each (b, d) fp32 at 10 Gbit/s.
  const double bytes = 4.0 * (c.model.batch / 8) * c.model.width;
  const double per_transfer_ms = bytes * 8 / 10e9 * 1e3;
  EXPECT_NEAR(slow.metrics.comm_time_ms, 2 * 3 * 8 * per_transfer_ms, 1e-9);
  // Communication is never busy time.
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(slow.metrics.busy_ms[d], ideal.metrics.busy_ms[d], 1e-9);

  RunConfig naive = c;
  naive.schedule = ScheduleKind::Naive;
  EXPECT_LT(run_step(naive).metrics.mean_utilization, 0.25 - 1e-3);
}

TEST(Sim, EveryScheduledActionAppearsOnceOnItsLane) {
  RunConfig c = balanced_sim(3, 5);
  c.remat = true;
  const RunResult r = run_step(c);
  std::map<std::tuple<int, int, int>, int> seen;
  for (const TraceEvent& e : r.trace.events) {
    ++seen[{static_cast<int>(e.action.kind), e.action.stage, e.action.microbatch}];
    EXPECT_EQ(e.device, e.action.stage);
    const Lane expected = is_compute(e.action.kind) || e.action.kind == ActionKind::OptimizerStep ? Lane::Compute
                          : (e.action.kind == ActionKind::SendActivation || e.action.kind == ActionKind::SendGrad)
                              ? Lane::Send
                              : Lane::Recv;
    EXPECT_EQ(e.lane, expected) << to_string(e.action);
  }
  EXPECT_EQ(seen.size(), r.schedule.size());
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1);
  // Remat: one Recompute per (stage, micro-batch).
  int recomputes = 0;
  for (const TraceEvent& e : r.trace.events) recomputes += e.action.kind == ActionKind::Recompute;
  EXPECT_EQ(recomputes, 3 * 5);
}

TEST(Sim, StashPeakIsMTimesPerMicrobatchStashWithoutRemat) {
  // GPipe keeps every micro-batch's activations until drain: peak stash on a
  // middle stage = M × layers × (b·d + 2·b·h) × 4 bytes. With remat: only the
  // M stage inputs (M × b·d × 4) plus one micro-batch's recomputed activations.
  const int K = 4, M = 8;
  RunConfig c = balanced_sim(K, M);
  const double b = c.model.batch / M, d = c.model.width, h = c.model.hidden;
  const double layers = c.model.layers / K;
  const RunResult plain = run_step(c);
  EXPECT_DOUBLE_EQ(static_cast<double>(plain.metrics.peak_memory_by_category[1][2]),
                   M * layers * (b * d + 2 * b * h) * 4);
  c.remat = true;
  const RunResult remat = run_step(c);
  EXPECT_DOUBLE_EQ(static_cast<double>(remat.metrics.peak_memory_by_category[1][2]),
                   M * b * d * 4 + (layers * (b * d + 2 * b * h) - b * d) * 4);
  EXPECT_LT(remat.metrics.peak_memory_bytes[1], plain.metrics.peak_memory_bytes[1]);
}


// --sim-costs unit: every F, R, I and W of a stage lasts one unit, a layer's forward GEMM
// FLOPs (4·b·d·h) at the device rate, B two; the loss and the optimizer are free even when
// counted. Checked span by span on uneven stages (2 + 1 layers) and uneven micro-batches.
TEST(SimUnitCosts, PriceFRIWAsOneUnitPerLayerAndBAsTwo) {
  for (ScheduleKind kind : {ScheduleKind::Gpipe, ScheduleKind::ZbH1}) {
    RunConfig c = balanced_sim(2, 3);
    c.schedule = kind;
    c.remat = true;
    c.model.layers = 3;   // stages of 2 and 1 layers
    c.model.batch = 100;  // micro-batches of 34, 33, 33 rows
    c.sim.count_loss = c.sim.count_optimizer = true;  // unit costs ignore both
    c.sim.costs = SimCosts::Unit;
    c.sim.device_tflops = 2.0;
    const RunResult r = run_step(c);
    SCOPED_TRACE(r.schedule.name());
    std::map<ActionKind, int> seen;
    for (const TraceEvent& e : r.trace.events) {
      if (e.lane != Lane::Compute) continue;
      const int layers = r.partition.layer_count(e.action.stage);
      const int rows = split_microbatches(c.model.batch, 3).at(std::max(e.action.microbatch, 0));
      // µs = FLOPs / (TFLOP/s · 1e6)
      const double unit = layers * 4.0 * rows * c.model.width * c.model.hidden / (2.0 * 1e6);
      double expected = unit;
      if (e.action.kind == ActionKind::Backward) expected = 2 * unit;
      if (e.action.kind == ActionKind::OptimizerStep) expected = 0;
      EXPECT_NEAR(e.dur_us, expected, 1e-9 * unit) << to_string(e.action);
      ++seen[e.action.kind];
    }
    EXPECT_EQ(seen[ActionKind::Forward], 6);
    EXPECT_EQ(seen[ActionKind::Recompute], 6);
    EXPECT_EQ(seen[ActionKind::OptimizerStep], 2);
    EXPECT_EQ(seen[kind == ScheduleKind::Gpipe ? ActionKind::Backward : ActionKind::BackwardWeight], 6);
  }
}

}  // namespace
}  // namespace pipelab
