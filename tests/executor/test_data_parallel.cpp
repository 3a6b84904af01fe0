// test_data_parallel.cpp — the data-parallel baseline on the sim and the cpu backend.
//
// Oracles: the ring all-reduce's cost written out from the model's sizes (4 bytes per
// parameter, 2dh + h + d parameters per block) and the sim's link model; the allocator's
// bytes against the same parameter count; the single-device reference step
// (reference_step, model.cpp) for the numerics. Transparency for K 1..3 and uneven
// shares is also covered by the registry's CpuStepEqualsTheSingleDeviceStep.
#include <gtest/gtest.h>

#include <algorithm>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/data_parallel.h"

namespace pipelab {
namespace {

RunConfig small(BackendKind backend, int devices) {
  RunConfig c;
  c.backend = backend;
  c.schedule = ScheduleKind::DataParallel;
  c.devices = devices;
  c.microbatches = devices;
  c.model.layers = 8;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 22;  // shares of 6, 6, 5, 5 for K = 4
  return c;
}

// Bytes of one block's parameters, by hand: W1 (d, h), b1 (h), W2 (h, d), b2 (d), fp32.
double block_bytes(const ModelSpec& m) { return 4.0 * (2.0 * m.width * m.hidden + m.hidden + m.width); }

TEST(DataParallel, SimAllReduceIsARingOverTheLinks) {
  RunConfig c = small(BackendKind::Sim, 4);
  c.sim.link_gbps = 100;
  c.sim.link_latency_us = 5;
  const RunResult r = run_step(c);
  const double G = c.model.layers * block_bytes(c.model);  // every layer's gradients
  // 2(K-1) ring steps, each latency + (G/K) bytes at 100 Gbit/s (= 1e5 bits per µs).
  const double expected_us = 2 * 3 * (5.0 + (G / 4) * 8 / 1e5);
  double last_backward_end = 0;
  for (const TraceEvent& e : r.trace.events)
    if (e.action.kind == ActionKind::Backward) last_backward_end = std::max(last_backward_end, e.end_us());
  int parts = 0;
  for (const TraceEvent& e : r.trace.events) {
    if (e.action.kind != ActionKind::AllReduceGrads) continue;
    ++parts;
    SCOPED_TRACE("device " + std::to_string(e.device));
    EXPECT_EQ(e.lane, Lane::Send) << "the comm lane";
    EXPECT_NEAR(e.dur_us, expected_us, 1e-9);
    EXPECT_DOUBLE_EQ(e.start_us, last_backward_end) << "starts when the last device has its gradients";
    EXPECT_EQ(e.bytes, static_cast<std::uint64_t>(2.0 * 3 / 4 * G));
  }
  EXPECT_EQ(parts, 4);
  EXPECT_NEAR(r.metrics.comm_time_ms, 4 * expected_us * 1e-3, 1e-12) << "comm time sums every device's part";
}

TEST(DataParallel, SimOnFreeLinksHasNoBubbleAndKTimesNaivesSpeed) {
  for (int K : {1, 2, 4}) {
    RunConfig c = small(BackendKind::Sim, K);
    c.model.batch = 24;
    c.sim.count_loss = false;
    c.sim.count_optimizer = false;
    const RunResult dp = run_step(c);
    c.schedule = ScheduleKind::Naive;
    c.microbatches = 1;
    const RunResult naive = run_step(c);
    SCOPED_TRACE("K=" + std::to_string(K));
    EXPECT_NEAR(dp.metrics.bubble_fraction, 0.0, 1e-12);
    // Naive runs the batch through every layer one stage at a time; each replica runs 1/K of it.
    EXPECT_NEAR(naive.metrics.makespan_ms / dp.metrics.makespan_ms, K, 1e-9);
  }
}

TEST(DataParallel, CpuEveryDeviceHoldsTheWholeModel) {
  const RunConfig dp = small(BackendKind::Cpu, 4);
  const RunResult r = run_step(dp);
  const double whole = dp.model.layers * block_bytes(dp.model);
  ASSERT_EQ(r.metrics.peak_memory_by_category.size(), 4u);
  for (const MemoryBytes& m : r.metrics.peak_memory_by_category) {
    EXPECT_EQ(m[static_cast<int>(MemoryCategory::Params)], static_cast<std::uint64_t>(whole));
    EXPECT_EQ(m[static_cast<int>(MemoryCategory::Grads)], static_cast<std::uint64_t>(whole));
  }
  // The pipeline on the same devices: a quarter each (8 layers, 2 per stage).
  RunConfig pipeline = dp;
  pipeline.schedule = ScheduleKind::Gpipe;
  const RunResult p = run_step(pipeline);
  for (const MemoryBytes& m : p.metrics.peak_memory_by_category)
    EXPECT_EQ(m[static_cast<int>(MemoryCategory::Params)], static_cast<std::uint64_t>(whole / 4));
}

TEST(DataParallel, CpuAllReduceWaitsForEveryDeviceAndEqualsTheReference) {
  const RunConfig c = small(BackendKind::Cpu, 4);
  const RunResult r = run_step(c);
  double last_backward_end = 0, first_all_reduce_start = 1e300;
  for (const TraceEvent& e : r.trace.events) {
    if (e.action.kind == ActionKind::Backward) last_backward_end = std::max(last_backward_end, e.end_us());
    if (e.action.kind == ActionKind::AllReduceGrads) first_all_reduce_start = std::min(first_all_reduce_start, e.start_us);
  }
  EXPECT_GE(first_all_reduce_start, last_backward_end) << "no device sums before every gradient is final";
  ASSERT_TRUE(r.numerics.has_value());
  EXPECT_LE(max_relative_difference(*r.numerics, reference_step(c.model)), kTransparencyTolerance);
}

// The sim, except that device `fail_on` throws in its B: the others wait at the all-reduce.
class FailingBackend final : public Backend {
 public:
  FailingBackend(std::unique_ptr<Backend> inner, int fail_on) : inner_(std::move(inner)), fail_on_(fail_on) {}
  std::string name() const override { return "failing sim"; }
  std::vector<std::string> device_names() const override { return inner_->device_names(); }
  void begin_step() override { inner_->begin_step(); }
  Span compute(const Action& a) override {
    if (a.kind == ActionKind::Backward && a.stage == fail_on_) PIPELAB_THROW("planted failure", "test");
    return inner_->compute(a);
  }
  Transfer send(const Action& a) override { return inner_->send(a); }
  Span receive(const Action& a, Transfer& t) override { return inner_->receive(a, t); }
  Transfer all_reduce(const Action& a, Rendezvous& together) override { return inner_->all_reduce(a, together); }
  DeviceMemory& memory(int device) override { return inner_->memory(device); }
  std::optional<StepNumerics> numerics() const override { return std::nullopt; }

 private:
  std::unique_ptr<Backend> inner_;
  int fail_on_;
};

TEST(DataParallel, AFailingDeviceReleasesTheOthersFromTheAllReduce) {
  const RunConfig c = small(BackendKind::Sim, 4);
  const Partition partition = build_partition(c);
  const Schedule schedule = build_schedule(c);
  FailingBackend backend(make_sim_backend(c, partition, schedule.microbatches), 2);
  ExecutorOptions options;
  options.watchdog_seconds = 30;  // far above the abort's few ms: a hang fails the test's time
  try {
    execute(schedule, backend, options);
    FAIL() << "the planted failure did not surface";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("planted failure"), std::string::npos) << e.message();
  }
}

TEST(DataParallel, RefusedOnCudaBeforeAnythingRuns) {
  try {
    run_step(small(BackendKind::Cuda, 2));
    FAIL() << "cuda ran data-parallel";
  } catch (const UsageError& e) {
    EXPECT_NE(e.message().find("not supported on the cuda backend"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace pipelab
