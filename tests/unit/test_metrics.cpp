// test_metrics.cpp — compute_metrics() and fill_drain_theory() on hand-built traces
// whose answers are worked out by hand in the comments (docs/metrics.md).
//
//   ./build/tests/pipelab_unit_tests --gtest_filter='Metrics*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "pipelab/error.h"
#include "pipelab/report/metrics.h"

namespace pipelab {
namespace {

TraceEvent span(int device, Lane lane, ActionKind kind, int stage, int microbatch, double start_us,
                double dur_us, std::uint64_t bytes = 0) {
  TraceEvent e;
  e.device = device;
  e.lane = lane;
  e.action = {kind, stage, microbatch};
  e.start_us = start_us;
  e.dur_us = dur_us;
  e.bytes = bytes;
  return e;
}

TraceEvent compute(int device, ActionKind kind, int microbatch, double start_us, double dur_us) {
  return span(device, Lane::Compute, kind, device, microbatch, start_us, dur_us);
}

MemorySample sample(int device, double time_us, MemoryBytes current) {
  MemorySample s;
  s.device = device;
  s.time_us = time_us;
  s.current = current;
  return s;
}

Trace empty_trace(int devices) {
  Trace trace;
  trace.meta.devices = devices;
  trace.meta.microbatches = 1;
  return trace;
}

// Naive model parallelism by hand, K devices, unit-cost F and B, free links:
// F on stage s at [s, s+1), B on stage s at [K + (K-1-s), ... + 1). Makespan 2K,
// each device busy 2 -> utilization 2 / 2K = 1/K.
Trace naive_unit_trace(int k) {
  Trace trace = empty_trace(k);
  for (int s = 0; s < k; ++s) {
    trace.events.push_back(compute(s, ActionKind::Forward, 0, s, 1));
    trace.events.push_back(compute(s, ActionKind::Backward, 0, k + (k - 1 - s), 1));
  }
  return trace;
}

// GPipe fill-drain by hand, K devices, M micro-batches, unit-cost F and B:
//   F(s, m) starts at s + m (stage s gets micro-batch m from stage s-1 one slot later);
//   B runs micro-batches M-1..0; the j-th backward of stage s (j = M-1-m) starts at
//   (M + K - 1) + (K - 1 - s) + j, after the last stage's last forward has ended at M+K-1.
// The last B (s = 0, j = M-1) ends at 2(M + K - 1): makespan 2(M+K-1), busy 2M per
// device, utilization 2M / 2(M+K-1) = M / (M+K-1).
Trace fill_drain_unit_trace(int k, int m) {
  Trace trace = empty_trace(k);
  trace.meta.microbatches = m;
  for (int s = 0; s < k; ++s) {
    for (int mb = 0; mb < m; ++mb) trace.events.push_back(compute(s, ActionKind::Forward, mb, s + mb, 1));
    for (int j = 0; j < m; ++j) {
      const int mb = m - 1 - j;
      trace.events.push_back(compute(s, ActionKind::Backward, mb, (m + k - 1) + (k - 1 - s) + j, 1));
    }
  }
  return trace;
}

void expect_no_nan(const StepMetrics& m) {
  EXPECT_FALSE(std::isnan(m.makespan_ms));
  EXPECT_FALSE(std::isnan(m.mean_utilization));
  EXPECT_FALSE(std::isnan(m.bubble_fraction));
  EXPECT_FALSE(std::isnan(m.comm_time_ms));
  for (double u : m.utilization) EXPECT_FALSE(std::isnan(u));
}

// ------------------------------------------------------------------ theory

TEST(MetricsTheory, FillDrainFormula) {
  // M / (M + K - 1) and (K - 1) / (M + K - 1).
  const Theory t48 = fill_drain_theory(4, 8);
  EXPECT_NEAR(t48.utilization, 8.0 / 11.0, 1e-15);
  EXPECT_NEAR(t48.bubble_fraction, 3.0 / 11.0, 1e-15);
  const Theory t832 = fill_drain_theory(8, 32);
  EXPECT_NEAR(t832.utilization, 32.0 / 39.0, 1e-15);
  EXPECT_NEAR(t832.bubble_fraction, 7.0 / 39.0, 1e-15);
  // Utilization and bubble are shares of the same total time.
  EXPECT_NEAR(t832.utilization + t832.bubble_fraction, 1.0, 1e-15);
}

TEST(MetricsTheory, OneDeviceHasNoBubble) {
  const Theory t = fill_drain_theory(1, 5);
  EXPECT_EQ(t.utilization, 1.0);
  EXPECT_EQ(t.bubble_fraction, 0.0);
}

TEST(MetricsTheory, NaiveIsOneOverK) {
  // Naive MP is fill-drain with M = 1: 1 / K.
  EXPECT_EQ(fill_drain_theory(4, 1).utilization, 0.25);
  EXPECT_EQ(fill_drain_theory(4, 1).bubble_fraction, 0.75);
  EXPECT_EQ(fill_drain_theory(2, 1).utilization, 0.5);
}

TEST(MetricsTheory, RejectsNonPositiveSizes) {
  EXPECT_THROW(fill_drain_theory(0, 4), Error);
  EXPECT_THROW(fill_drain_theory(4, 0), Error);
  EXPECT_THROW(fill_drain_theory(-1, -1), Error);
}

// ------------------------------------------------------------------ measured

TEST(Metrics, EmptyTraceIsAllZeros) {
  const StepMetrics m = compute_metrics(empty_trace(3));
  EXPECT_EQ(m.makespan_ms, 0.0);
  ASSERT_EQ(m.busy_ms.size(), 3u);
  ASSERT_EQ(m.utilization.size(), 3u);
  ASSERT_EQ(m.comm_ms.size(), 3u);
  ASSERT_EQ(m.peak_memory_bytes.size(), 3u);
  ASSERT_EQ(m.peak_memory_by_category.size(), 3u);
  for (int d = 0; d < 3; ++d) {
    EXPECT_EQ(m.busy_ms[d], 0.0);
    EXPECT_EQ(m.utilization[d], 0.0);
    EXPECT_EQ(m.comm_ms[d], 0.0);
    EXPECT_EQ(m.peak_memory_bytes[d], 0u);
  }
  EXPECT_EQ(m.mean_utilization, 0.0);
  EXPECT_EQ(m.bubble_fraction, 0.0);
  EXPECT_EQ(m.comm_time_ms, 0.0);
  EXPECT_EQ(m.comm_bytes, 0u);
  expect_no_nan(m);
}

TEST(Metrics, ZeroDevicesZeroEvents) {
  const StepMetrics m = compute_metrics(empty_trace(0));
  EXPECT_TRUE(m.busy_ms.empty());
  EXPECT_EQ(m.makespan_ms, 0.0);
  EXPECT_EQ(m.bubble_fraction, 0.0);
  expect_no_nan(m);
}

TEST(Metrics, ZeroLengthStepHasNoNaN) {
  // Every span has zero duration: T = 0, so utilization is 0 by definition, not 0/0.
  Trace trace = empty_trace(2);
  trace.events.push_back(compute(0, ActionKind::Forward, 0, 5, 0));
  trace.events.push_back(compute(1, ActionKind::Forward, 0, 5, 0));
  const StepMetrics m = compute_metrics(trace);
  EXPECT_EQ(m.makespan_ms, 0.0);
  EXPECT_EQ(m.utilization[0], 0.0);
  EXPECT_EQ(m.bubble_fraction, 0.0);
  expect_no_nan(m);
}

// Two devices with overlapping compute spans, comm spans and an optimizer step.
//   d0: F0 [0,10)  R0 [5,15)  SendAct [10,12) 100 B  RecvGrad [24,30)  B0 [30,40)  Opt [40,45)
//   d1: RecvAct [10,13)  F0 [13,23)  B0 [14,20) (inside F0)  SendGrad [23,26) 50 B
// makespan = 45 - 0 = 45 us (the Opt span is the last end, so every lane counts)
// busy d0 = |[0,15) u [30,40)| = 25   (Opt is not F/B/R: not busy)
// busy d1 = |[13,23) u [14,20)| = 10
// util = 25/45 = 5/9, 10/45 = 2/9; mean 7/18; bubble 11/18
// comm d0 = |[10,12) u [24,30)| = 8; comm d1 = |[10,13) u [23,26)| = 6
// comm time = send spans only = 2 + 3 = 5 us; bytes = 100 + 50 (recv bytes not recounted)
Trace two_device_trace() {
  Trace trace = empty_trace(2);
  trace.events = {
      compute(0, ActionKind::Forward, 0, 0, 10),
      compute(0, ActionKind::Recompute, 0, 5, 10),
      span(0, Lane::Send, ActionKind::SendActivation, 0, 0, 10, 2, 100),
      span(0, Lane::Recv, ActionKind::RecvGrad, 0, 0, 24, 6, 50),
      compute(0, ActionKind::Backward, 0, 30, 10),
      span(0, Lane::Compute, ActionKind::OptimizerStep, 0, -1, 40, 5),
      span(1, Lane::Recv, ActionKind::RecvActivation, 1, 0, 10, 3, 100),
      compute(1, ActionKind::Forward, 0, 13, 10),
      compute(1, ActionKind::Backward, 0, 14, 6),
      span(1, Lane::Send, ActionKind::SendGrad, 1, 0, 23, 3, 50),
  };
  return trace;
}

TEST(Metrics, TwoDevicesOverlapUnionAndMakespan) {
  const StepMetrics m = compute_metrics(two_device_trace());
  EXPECT_NEAR(m.makespan_ms, 0.045, 1e-15);
  ASSERT_EQ(m.busy_ms.size(), 2u);
  EXPECT_NEAR(m.busy_ms[0], 0.025, 1e-15);
  EXPECT_NEAR(m.busy_ms[1], 0.010, 1e-15);
  EXPECT_NEAR(m.utilization[0], 5.0 / 9.0, 1e-12);
  EXPECT_NEAR(m.utilization[1], 2.0 / 9.0, 1e-12);
  EXPECT_NEAR(m.mean_utilization, 7.0 / 18.0, 1e-12);
  EXPECT_NEAR(m.bubble_fraction, 11.0 / 18.0, 1e-12);
}

TEST(Metrics, CommunicationIsSeparateFromBusy) {
  const StepMetrics m = compute_metrics(two_device_trace());
  EXPECT_NEAR(m.comm_ms[0], 0.008, 1e-15);
  EXPECT_NEAR(m.comm_ms[1], 0.006, 1e-15);
  EXPECT_NEAR(m.comm_time_ms, 0.005, 1e-15);
  EXPECT_EQ(m.comm_bytes, 150u);
}

TEST(Metrics, CommOnlyDeviceIsNotBusy) {
  // A device that only sends is never busy, however long its transfers take.
  Trace trace = empty_trace(2);
  trace.events.push_back(compute(0, ActionKind::Forward, 0, 0, 4));
  trace.events.push_back(span(1, Lane::Send, ActionKind::SendGrad, 1, 0, 0, 4, 8));
  trace.events.push_back(span(1, Lane::Recv, ActionKind::RecvActivation, 1, 0, 2, 4, 8));
  const StepMetrics m = compute_metrics(trace);
  EXPECT_NEAR(m.makespan_ms, 0.006, 1e-15);  // the recv ends last, at 6 us
  EXPECT_EQ(m.busy_ms[1], 0.0);
  EXPECT_EQ(m.utilization[1], 0.0);
  EXPECT_NEAR(m.comm_ms[1], 0.006, 1e-15);  // |[0,4) u [2,6)| = 6
  EXPECT_NEAR(m.utilization[0], 4.0 / 6.0, 1e-12);
}

TEST(Metrics, NaiveFourDevicesIsExactlyOneQuarter) {
  const StepMetrics m = compute_metrics(naive_unit_trace(4));
  EXPECT_EQ(m.makespan_ms, 8 * 1e-3);
  for (int d = 0; d < 4; ++d) EXPECT_EQ(m.utilization[d], 0.25) << "device " << d;
  EXPECT_EQ(m.mean_utilization, 0.25);
  EXPECT_EQ(m.bubble_fraction, 0.75);
  EXPECT_EQ(m.mean_utilization, fill_drain_theory(4, 1).utilization);
}

TEST(Metrics, FillDrainFourByEightMatchesTheory) {
  const StepMetrics m = compute_metrics(fill_drain_unit_trace(4, 8));
  EXPECT_NEAR(m.makespan_ms, 22 * 1e-3, 1e-15);  // 2 (M + K - 1) = 22 slots of 1 us
  for (int d = 0; d < 4; ++d) {
    EXPECT_NEAR(m.busy_ms[d], 16 * 1e-3, 1e-15) << "device " << d;
    EXPECT_NEAR(m.utilization[d], 8.0 / 11.0, 1e-12) << "device " << d;
  }
  EXPECT_NEAR(m.mean_utilization, 8.0 / 11.0, 1e-12);
  EXPECT_NEAR(m.bubble_fraction, 3.0 / 11.0, 1e-12);
  const Theory theory = fill_drain_theory(4, 8);
  EXPECT_NEAR(m.mean_utilization, theory.utilization, 1e-12);
  EXPECT_NEAR(m.bubble_fraction, theory.bubble_fraction, 1e-12);
}

TEST(Metrics, IndependentOfEventOrderAndTimeOrigin) {
  // Shuffling events and moving the time origin (T = max end - min start) change nothing.
  Trace trace = fill_drain_unit_trace(3, 5);
  const StepMetrics before = compute_metrics(trace);
  std::reverse(trace.events.begin(), trace.events.end());
  for (TraceEvent& e : trace.events) e.start_us += 1000.0;
  const StepMetrics after = compute_metrics(trace);
  EXPECT_NEAR(after.makespan_ms, before.makespan_ms, 1e-12);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(after.utilization[d], before.utilization[d], 1e-12);
  EXPECT_NEAR(after.mean_utilization, 5.0 / 7.0, 1e-12);  // M / (M + K - 1) = 5/7
}

// ------------------------------------------------------------------ memory

TEST(Metrics, PeakMemoryIsPeakOfTotalFromSamples) {
  // Categories peak at different times: stash 50 at t=1, grads 80 at t=2.
  // Per-category peaks {100, 80, 50, 0} sum to 230, but the total never exceeds
  // max(100, 150, 180) = 180.
  Trace trace = empty_trace(2);
  trace.memory = {
      sample(0, 0, {100, 0, 0, 0}),
      sample(0, 1, {100, 0, 50, 0}),
      sample(0, 2, {100, 80, 0, 0}),
      sample(1, 0, {7, 0, 0, 3}),
  };
  trace.peak_memory = {{100, 80, 50, 0}, {7, 0, 0, 3}};
  const StepMetrics m = compute_metrics(trace);
  EXPECT_EQ(m.peak_memory_bytes[0], 180u);
  EXPECT_EQ(m.peak_memory_bytes[1], 10u);
  EXPECT_EQ(m.peak_memory_by_category[0], (MemoryBytes{100, 80, 50, 0}));
  EXPECT_EQ(m.peak_memory_by_category[1], (MemoryBytes{7, 0, 0, 3}));
}

TEST(Metrics, PeakMemoryFromSamplesAlone) {
  // No allocator peaks recorded: per-category peaks come from the samples.
  Trace trace = empty_trace(1);
  trace.memory = {sample(0, 0, {10, 0, 5, 0}), sample(0, 1, {10, 20, 0, 1})};
  const StepMetrics m = compute_metrics(trace);
  EXPECT_EQ(m.peak_memory_bytes[0], 31u);
  EXPECT_EQ(m.peak_memory_by_category[0], (MemoryBytes{10, 20, 5, 1}));
}

TEST(Metrics, PeakMemoryWithoutSamplesIsSumUpperBound) {
  // No samples: the sum of per-category peaks is the best (upper) bound available.
  Trace trace = empty_trace(1);
  trace.peak_memory = {{100, 80, 50, 10}};
  const StepMetrics m = compute_metrics(trace);
  EXPECT_EQ(m.peak_memory_bytes[0], 240u);
  EXPECT_EQ(m.peak_memory_by_category[0], (MemoryBytes{100, 80, 50, 10}));
}

TEST(Metrics, PeakMemoryNeverBelowLargestCategory) {
  // Thinned samples missed the stash peak of 500 the allocator recorded: the total
  // at that moment was at least 500, more than any kept sample's 300.
  Trace trace = empty_trace(1);
  trace.memory = {sample(0, 0, {200, 0, 100, 0})};
  trace.peak_memory = {{200, 0, 500, 0}};
  const StepMetrics m = compute_metrics(trace);
  EXPECT_EQ(m.peak_memory_bytes[0], 500u);
  EXPECT_EQ(m.peak_memory_by_category[0][static_cast<int>(MemoryCategory::Stash)], 500u);
}

// ------------------------------------------------------------------ inconsistent traces

TEST(Metrics, EventOnUnknownDeviceIsAnError) {
  Trace trace = naive_unit_trace(2);
  trace.events.push_back(compute(5, ActionKind::Forward, 0, 0, 1));
  try {
    compute_metrics(trace);
    FAIL() << "expected pipelab::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("device 5"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("[0, 2)"), std::string::npos) << e.what();
  }
}

TEST(Metrics, InconsistentMemoryIsAnError) {
  Trace trace = empty_trace(2);
  trace.peak_memory = {{1, 2, 3, 4}};  // one row for two devices
  EXPECT_THROW(compute_metrics(trace), Error);
  trace.peak_memory.clear();
  trace.memory = {sample(2, 0, {1, 0, 0, 0})};
  EXPECT_THROW(compute_metrics(trace), Error);
  trace.memory.clear();
  trace.meta.devices = -1;
  EXPECT_THROW(compute_metrics(trace), Error);
}

}  // namespace
}  // namespace pipelab
