// test_gpu_backend.cpp — the cuda backend.
//
//   PlacementPlan.*     where K logical devices go, on made-up machines (no GPU needed)
//   CudaAvailability.*  what a machine without a usable GPU says (runs everywhere)
//   GpuTransparency.*   a pipelined step on the GPU equals the single-device CPU
//                       reference step (loss, every gradient, updated parameters) for
//                       K ∈ {1,2,4} × M ∈ {1,4,8}, per placement available here
//   GpuBackend.*        trace, memory books, concurrency, out-of-memory, --no-trace,
//                       warm-up steps, repeated steps, `pipelab bench` end to end
// Every GPU test skips with its reason where there is no GPU, or not enough of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "gpu_test_util.h"
#include "pipelab/backends/cuda_backend.h"
#include "pipelab/error.h"
#include "pipelab/bench.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

}  // namespace

// Readable test names in ctest: "GetParam() = partitions", not the enum's bytes.
void PrintTo(CudaPlacement placement, std::ostream* os) { *os << to_string(placement); }

namespace {

// ---- placement planning on made-up machines ---------------------------------------------

// `gpus` GPUs of `sms` SMs each; green contexts split them in >= 8, multiples of 8 (H100).
CudaEnvironment fake_machine(int gpus, unsigned sms = 132, bool green = true) {
  CudaEnvironment env;
  env.usable = true;
  env.runtime_version = env.driver_version = 13000;
  env.nccl_built = true;
  for (int i = 0; i < gpus; ++i) {
    CudaGpuInfo gpu;
    gpu.ordinal = i;
    gpu.name = "Test GPU";
    gpu.cc_major = 9;
    gpu.sm_count = static_cast<int>(sms);
    env.gpus.push_back(gpu);
  }
  env.green_contexts = green;
  env.green_reason = green ? "" : "test machine without green contexts";
  env.granularity = {sms, 8, 8, true};  // sm_count set: plan_placement asks no driver
  return env;
}

RunConfig placement_config(int devices, CudaPlacement placement,
                           CudaTransport transport = CudaTransport::Peer) {
  RunConfig c;
  c.devices = devices;
  c.cuda.placement = placement;
  c.cuda.transport = transport;
  return c;
}

// The flag a UsageError names ("" when `f` does not throw one).
template <typename F>
std::string usage_error_flag(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.flag();
  }
  return "";
}

TEST(PlacementPlan, AutoGivesEachDeviceItsOwnGpuWhenThereAreEnough) {
  const CudaPlacementPlan plan = plan_placement(placement_config(4, CudaPlacement::Auto), fake_machine(8));
  EXPECT_EQ(plan.placement, CudaPlacement::Gpus);
  EXPECT_EQ(plan.gpu_of_device, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_EQ(plan.device_names.size(), 4u);
  EXPECT_NE(plan.device_names[2].find("GPU 2"), std::string::npos) << plan.device_names[2];
}

TEST(PlacementPlan, AutoSplitsOneGpuIntoEqualSmPartitions) {
  const CudaPlacementPlan plan = plan_placement(placement_config(4, CudaPlacement::Auto), fake_machine(1));
  EXPECT_EQ(plan.placement, CudaPlacement::Partitions);
  EXPECT_EQ(plan.gpu_of_device, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(plan.sms_of_device, (std::vector<int>{32, 32, 32, 32}));  // 132 / 4 = 33 → multiple of 8
  EXPECT_EQ(plan.idle_sms, 4);
  EXPECT_NE(plan.why.find("32 SMs"), std::string::npos) << plan.why;
  EXPECT_NE(plan.device_names[3].find("partition 3: 32 of 132 SMs"), std::string::npos) << plan.device_names[3];
}

TEST(PlacementPlan, PartitionSizesFollowTheGranularity) {
  const CudaEnvironment h100 = fake_machine(1);
  EXPECT_EQ(plan_placement(placement_config(3, CudaPlacement::Partitions), h100).sms_of_device[0], 40);  // 44 → 40
  EXPECT_EQ(plan_placement(placement_config(16, CudaPlacement::Partitions), h100).sms_of_device[0], 8);  // the minimum
  // 17 partitions of 132 SMs would be below the 8-SM minimum: auto falls back, explicit fails.
  EXPECT_EQ(plan_placement(placement_config(17, CudaPlacement::Auto), h100).placement, CudaPlacement::Streams);
  EXPECT_EQ(usage_error_flag([&] { plan_placement(placement_config(17, CudaPlacement::Partitions), h100); }),
            "--placement");
}

TEST(PlacementPlan, AutoFallsBackToStreamsAndSaysWhy) {
  const CudaPlacementPlan plan =
      plan_placement(placement_config(4, CudaPlacement::Auto), fake_machine(1, 132, /*green=*/false));
  EXPECT_EQ(plan.placement, CudaPlacement::Streams);
  EXPECT_NE(plan.why.find("test machine without green contexts"), std::string::npos) << plan.why;
  EXPECT_EQ(plan.gpu_of_device, (std::vector<int>{0, 0, 0, 0}));
}

TEST(PlacementPlan, ExplicitRequestsThatCannotRunNameTheFlag) {
  EXPECT_EQ(usage_error_flag([] { plan_placement(placement_config(4, CudaPlacement::Gpus), fake_machine(2)); }),
            "--placement");
  EXPECT_EQ(usage_error_flag([] {
              plan_placement(placement_config(4, CudaPlacement::Auto, CudaTransport::Nccl), fake_machine(1));
            }),
            "--transport");
  CudaEnvironment no_nccl = fake_machine(4);
  no_nccl.nccl_built = false;
  EXPECT_EQ(usage_error_flag([&] {
              plan_placement(placement_config(4, CudaPlacement::Gpus, CudaTransport::Nccl), no_nccl);
            }),
            "--transport");
  CudaEnvironment none;
  none.reason = "no driver (test)";
  EXPECT_EQ(usage_error_flag([&] { plan_placement(placement_config(2, CudaPlacement::Auto), none); }), "--backend");
  // And what can run, runs: NCCL with one GPU per device, streams anywhere.
  EXPECT_EQ(plan_placement(placement_config(4, CudaPlacement::Gpus, CudaTransport::Nccl), fake_machine(4)).transport,
            CudaTransport::Nccl);
  EXPECT_EQ(plan_placement(placement_config(8, CudaPlacement::Streams), fake_machine(1)).placement,
            CudaPlacement::Streams);
}

// ---- without a usable GPU (runs everywhere) -----------------------------------------------

TEST(CudaAvailability, UnusableGpuHasAReasonAndCudaIsRefused) {
  const BackendAvailability a = backend_availability();
  const CudaEnvironment& env = gpu_test::environment();
  EXPECT_EQ(a.cuda, env.usable);
  if (a.cuda) {
    EXPECT_TRUE(a.cuda_reason.empty());
    EXPECT_EQ(resolve_backend(BackendKind::Auto), BackendKind::Cuda);
  } else {
    EXPECT_FALSE(a.cuda_reason.empty());
    EXPECT_EQ(resolve_backend(BackendKind::Auto), BackendKind::Cpu);
    EXPECT_EQ(usage_error_flag([] { resolve_backend(BackendKind::Cuda); }), "--backend");
  }
  const std::string text = describe_cuda(placement_config(4, CudaPlacement::Auto));
  EXPECT_NE(text.find("# cuda: runtime"), std::string::npos) << text;
  EXPECT_NE(text.find(env.usable ? std::string("placement for K=4") : env.reason), std::string::npos) << text;
}

// ---- transparency on the GPU -----------------------------------------------------------------

// Small and odd: gpu_test_util.h's transparency model.
RunConfig gpu_config(CudaPlacement placement, int devices, int microbatches) {
  return gpu_test::transparency_config(placement, devices, microbatches);
}

#define PIPELAB_REQUIRE_PLACEMENT(placement, devices)                                                      \
  do {                                                                                                     \
    PIPELAB_REQUIRE_GPU();                                                                                 \
    std::string why_not_;                                                                                  \
    if (!cuda_placement_available((placement), (devices), &why_not_))                                      \
      GTEST_SKIP() << "--placement " << to_string(placement) << " with K=" << (devices) << ": " << why_not_; \
  } while (0)

// Runs `c` and checks it against reference_step within `tolerance`; returns the result.
RunResult expect_transparent(const RunConfig& c, double tolerance) {
  const RunResult run = run_step(c);
  EXPECT_EQ(run.config.backend, BackendKind::Cuda);
  EXPECT_EQ(run.trace.meta.backend, "cuda");
  EXPECT_EQ(run.trace.meta.device_names.size(), static_cast<std::size_t>(c.devices));
  if (!run.numerics) {
    ADD_FAILURE() << "the cuda backend returned no numerics";
    return run;
  }
  const StepNumerics reference = reference_step(c.model);
  const double diff = max_relative_difference(*run.numerics, reference);
  EXPECT_LE(diff, tolerance) << "K=" << c.devices << " M=" << c.microbatches << " placement "
                             << to_string(c.cuda.placement) << ": loss " << run.numerics->loss << " vs reference "
                             << reference.loss;
  EXPECT_GT(reference.loss, 0.1) << "a trivial reference would match a broken copy";
  return run;
}

class GpuTransparency : public ::testing::TestWithParam<std::tuple<CudaPlacement, int, int>> {};

TEST_P(GpuTransparency, PipelinedStepEqualsSingleDeviceStep) {
  const auto [placement, devices, microbatches] = GetParam();
  PIPELAB_REQUIRE_PLACEMENT(placement, devices);
  expect_transparent(gpu_config(placement, devices, microbatches), kTransparencyTolerance);
}

INSTANTIATE_TEST_SUITE_P(
    PlacementKM, GpuTransparency,
    ::testing::Combine(::testing::Values(CudaPlacement::Streams, CudaPlacement::Partitions, CudaPlacement::Gpus),
                       ::testing::Values(1, 2, 4), ::testing::Values(1, 4, 8)),
    [](const auto& info) {
      std::string name = to_string(std::get<0>(info.param));
      name[0] = static_cast<char>(name[0] - 'a' + 'A');
      return name + "K" + std::to_string(std::get<1>(info.param)) + "M" + std::to_string(std::get<2>(info.param));
    });

TEST(GpuTransparency, RematNaiveAnd1F1BToo) {
  PIPELAB_REQUIRE_GPU();
  for (CudaPlacement placement : {CudaPlacement::Streams, CudaPlacement::Partitions}) {
    if (!cuda_placement_available(placement, 4, nullptr)) continue;
    RunConfig c = gpu_config(placement, 4, 8);
    c.remat = true;
    expect_transparent(c, kTransparencyTolerance);
    c.remat = false;
    c.schedule = ScheduleKind::Naive;
    expect_transparent(c, kTransparencyTolerance);
    c.schedule = ScheduleKind::OneFOneB;
    expect_transparent(c, kTransparencyTolerance);
  }
}

TEST(GpuTransparency, EveryGemmVariant) {
  PIPELAB_REQUIRE_GPU();
  for (CudaGemm gemm :
       {CudaGemm::Naive, CudaGemm::Tiled, CudaGemm::Register, CudaGemm::Vectorized, CudaGemm::Cublas}) {
    RunConfig c = gpu_config(CudaPlacement::Streams, 2, 4);
    c.cuda.gemm = gemm;
    SCOPED_TRACE(to_string(gemm));
    expect_transparent(c, kTransparencyTolerance);
  }
}

TEST(GpuTransparency, Tf32WithinTf32Tolerance) {
  PIPELAB_REQUIRE_GPU();
  RunConfig c = gpu_config(CudaPlacement::Auto, 2, 4);
  c.cuda.tf32 = true;
  EXPECT_EQ(transparency_tolerance(run_step(c).config), kTf32TransparencyTolerance);
  expect_transparent(c, kTf32TransparencyTolerance);
}

TEST(GpuTransparency, NcclTransportWhenThereAreGpusForIt) {
  PIPELAB_REQUIRE_GPU();
  RunConfig c = gpu_config(CudaPlacement::Gpus, 2, 4);
  c.cuda.transport = CudaTransport::Nccl;
  try {
    plan_placement(c, probe_cuda(false));
  } catch (const UsageError& e) {
    GTEST_SKIP() << "--transport nccl: " << e.message();
  }
  expect_transparent(c, kTransparencyTolerance);
}

// ---- the rest of the backend -------------------------------------------------------------

TEST(GpuBackend, NoTraceStillComputesTheSameStep) {
  PIPELAB_REQUIRE_GPU();
  RunConfig c = gpu_config(CudaPlacement::Auto, 4, 8);
  c.cuda.instrument = false;  // --no-trace: host-clock spans, no events, no NVTX
  const RunResult run = expect_transparent(c, kTransparencyTolerance);
  for (const TraceEvent& e : run.trace.events) EXPECT_GE(e.dur_us, 0.0);
  EXPECT_GT(run.metrics.makespan_ms, 0.0);
}

TEST(GpuBackend, TraceHasEveryActionOnceAndComputeSpansDoNotOverlap) {
  PIPELAB_REQUIRE_GPU();
  const int K = 4, M = 8;
  const RunResult run = run_step(gpu_config(CudaPlacement::Auto, K, M));
  std::map<int, std::vector<TraceEvent>> compute;
  std::map<std::pair<int, ActionKind>, int> count;
  for (const TraceEvent& e : run.trace.events) {
    EXPECT_GE(e.start_us, 0.0) << to_string(e.action);
    EXPECT_GE(e.dur_us, 0.0) << to_string(e.action);
    ++count[{e.device, e.action.kind}];
    if (e.lane == Lane::Compute) compute[e.device].push_back(e);
  }
  for (int d = 0; d < K; ++d) {
    EXPECT_EQ((count[{d, ActionKind::Forward}]), M) << "device " << d;
    EXPECT_EQ((count[{d, ActionKind::Backward}]), M) << "device " << d;
    EXPECT_EQ((count[{d, ActionKind::OptimizerStep}]), 1) << "device " << d;
    auto& spans = compute[d];
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.start_us < b.start_us; });
    // One stream per device runs its actions in order: a span ends before the next
    // starts (0.5 µs: CUDA event resolution).
    for (std::size_t i = 1; i < spans.size(); ++i)
      EXPECT_LE(spans[i - 1].end_us(), spans[i].start_us + 0.5)
          << to_string(spans[i - 1].action) << " overlaps " << to_string(spans[i].action);
  }
  EXPECT_GT(run.metrics.makespan_ms, 0.0);
}

TEST(GpuBackend, StagesRunConcurrently) {
  // With one GPU per device or one SM partition per device, the pipeline's stages
  // overlap in time: Σ busy > makespan. Theory for K=4, M=8 is Σ busy ≈ 2.9 T.
  PIPELAB_REQUIRE_GPU();
  bool ran = false;
  for (CudaPlacement placement : {CudaPlacement::Partitions, CudaPlacement::Gpus}) {
    if (!cuda_placement_available(placement, 4, nullptr)) continue;
    RunConfig c = gpu_config(placement, 4, 8);
    c.model.width = 1024;
    c.model.hidden = 4096;
    c.model.batch = 1024;  // ~0.1 ms GEMMs per micro-batch: launch gaps do not dominate
    const RunResult run = run_step(c);
    double busy = 0;
    for (double b : run.metrics.busy_ms) busy += b;
    EXPECT_GT(busy, 1.5 * run.metrics.makespan_ms) << to_string(placement) << ": busy " << busy << " ms in "
                                                   << run.metrics.makespan_ms << " ms";
    ran = true;
  }
  if (!ran) GTEST_SKIP() << "neither 4 GPUs nor 4 SM partitions here";
}

TEST(GpuBackend, MemoryBooksMatchAllocationsAndMemGetInfo) {
  PIPELAB_REQUIRE_GPU();
  const RunConfig c = gpu_config(CudaPlacement::Auto, 4, 8);
  const Partition partition = build_partition(c);
  const Schedule schedule = build_schedule(c);
  auto backend = make_cuda_backend(c, partition, schedule.microbatches);
  const Trace trace = execute(schedule, *backend);
  for (const CudaMemoryCheck& check : backend->check_memory()) EXPECT_TRUE(check.ok) << check.detail;
  // Params, grads and stash are the model's: the same books as the cpu backend.
  RunConfig on_cpu = c;
  on_cpu.backend = BackendKind::Cpu;
  const RunResult cpu = run_step(on_cpu);
  ASSERT_EQ(trace.peak_memory.size(), cpu.trace.peak_memory.size());
  for (std::size_t d = 0; d < trace.peak_memory.size(); ++d) {
    for (MemoryCategory category : {MemoryCategory::Params, MemoryCategory::Grads, MemoryCategory::Stash})
      EXPECT_EQ(trace.peak_memory[d][static_cast<int>(category)], cpu.trace.peak_memory[d][static_cast<int>(category)])
          << "device " << d << " " << to_string(category);
    EXPECT_GT(trace.peak_memory[d][static_cast<int>(MemoryCategory::Buffers)], 0u);
  }
}

TEST(GpuBackend, OutOfMemoryNamesDeviceBytesFreeAndHint) {
  PIPELAB_REQUIRE_GPU();
  const CudaGpuInfo& gpu = gpu_test::environment().gpus.front();
  CudaAllocator allocator(gpu.ordinal, "cuda device 3 (test)");
  try {
    CudaBuffer buffer = allocator.allocate(2 * gpu.total_bytes, "stash");
    ADD_FAILURE() << "allocating twice the GPU's memory succeeded";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cuda device 3 (test)"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("out of GPU memory"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("for stash"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("free of"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("--remat"), std::string::npos) << e.hint();
  }
  // The allocator still works afterwards (the allocation error is not sticky).
  CudaBuffer small = allocator.allocate(1024, "buffers");
  EXPECT_NE(small.data(), nullptr);
}

TEST(GpuBackend, OneTimebaseAcrossDevices) {
  PIPELAB_REQUIRE_GPU();
  const RunConfig c = gpu_config(CudaPlacement::Auto, 2, 4);
  const Partition partition = build_partition(c);
  const Schedule schedule = build_schedule(c);
  auto backend = make_cuda_backend(c, partition, schedule.microbatches);
  const Trace trace = execute(schedule, *backend);
  const bool one_gpu = backend->plan().gpu_of_device[0] == backend->plan().gpu_of_device[1];
  if (one_gpu)
    EXPECT_EQ(backend->timebase_error_us(), 0.0) << "devices on one GPU share its clock";
  else
    EXPECT_LT(backend->timebase_error_us(), 1000.0) << "aligning two GPUs' clocks took over a millisecond";
  // A received activation is never used before it was sent: F(m) on stage 1 starts
  // after the SendActivation(m) of stage 0 ended (same timebase on both devices).
  for (const TraceEvent& send : trace.events) {
    if (send.action.kind != ActionKind::SendActivation) continue;
    for (const TraceEvent& f : trace.events) {
      if (f.action.kind != ActionKind::Forward || f.action.stage != send.action.stage + 1 ||
          f.action.microbatch != send.action.microbatch)
        continue;
      EXPECT_GE(f.start_us + backend->timebase_error_us() + 0.5, send.end_us()) << to_string(f.action);
    }
  }
}

}  // namespace
}  // namespace pipelab

namespace pipelab {
namespace {

TEST(GpuBackend, WarmUpStepsLeaveTheMeasuredStepAFirstStep) {
  PIPELAB_REQUIRE_GPU();
  // Warm-up steps run SGD with learning rate 0, so after 0 or 3 of them the measured
  // step computes the same first step: the reference's loss, gradients and update.
  RunConfig cold = gpu_config(CudaPlacement::Auto, 4, 8);
  cold.warmup_steps = 0;
  RunConfig warm = cold;
  warm.warmup_steps = 3;
  const RunResult a = expect_transparent(cold, kTransparencyTolerance);
  const RunResult b = expect_transparent(warm, kTransparencyTolerance);
  ASSERT_TRUE(a.numerics && b.numerics);
  // Same kernels in the same order on the same inputs: the same bits, or very nearly.
  EXPECT_LE(max_relative_difference(*b.numerics, *a.numerics), 1e-6);
  // The measured step's memory series is its own: the warm-up's samples are gone.
  EXPECT_EQ(a.trace.memory.size(), b.trace.memory.size());
  for (const MemorySample& sample : b.trace.memory) EXPECT_GE(sample.time_us, 0.0);
  // The books' peaks are the measured step's own: per device and category, the
  // allocator's peak equals the largest value among the step's samples (one sample per
  // change). A peak kept from a warm-up step would exceed them. (The peaks themselves may
  // differ between runs: when a sender charges its neighbour's buffer depends on timing.)
  ASSERT_EQ(b.trace.peak_memory.size(), static_cast<std::size_t>(warm.devices));
  for (int d = 0; d < warm.devices; ++d)
    for (std::size_t c = 0; c < b.trace.peak_memory[d].size(); ++c) {
      std::uint64_t seen = 0;
      for (const MemorySample& sample : b.trace.memory)
        if (sample.device == d) seen = std::max(seen, sample.current[c]);
      EXPECT_EQ(b.trace.peak_memory[d][c], seen) << "device " << d << " category " << c;
    }
}

TEST(GpuBackend, EveryStepAccumulatesGradientsFromZero) {
  PIPELAB_REQUIRE_GPU();
  // With learning rate 0 every step sees the same parameters and data, so a step run
  // after two others must produce exactly one step's gradients, not three steps' sum.
  RunConfig c = gpu_config(CudaPlacement::Auto, 2, 4);
  c.model.learning_rate = 0.0f;
  const Partition partition = build_partition(c);
  const Schedule schedule = build_schedule(c);
  auto backend = make_cuda_backend(c, partition, schedule.microbatches);
  ExecutorOptions options;
  options.watchdog_seconds = 60;
  execute(schedule, *backend, options);
  const StepNumerics first = *backend->numerics();
  execute(schedule, *backend, options);
  execute(schedule, *backend, options);
  const StepNumerics third = *backend->numerics();
  EXPECT_LE(max_relative_difference(third, first), 1e-6) << "gradients carried over from the earlier steps";
  const StepNumerics reference = reference_step(c.model);
  EXPECT_LE(max_relative_difference(third, reference), kTransparencyTolerance);
}

TEST(GpuBackend, RepeatedRunGivesOneTimePerStepAndTheMedianTrace) {
  PIPELAB_REQUIRE_GPU();
  const RepeatedRun run = run_repeated(gpu_config(CudaPlacement::Auto, 4, 8), 5);
  ASSERT_EQ(run.step_ms.size(), 5u);
  std::vector<double> sorted = run.step_ms;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(run.median.metrics.makespan_ms, sorted[2]) << "the median step's own trace";
  for (double ms : run.step_ms) EXPECT_GT(ms, 0.0);
  EXPECT_FALSE(run.median.numerics.has_value());
}

TEST(GpuBackend, BenchRunsEveryPartOnASmallModel) {
  PIPELAB_REQUIRE_GPU();
  BenchOptions o;
  o.base = gpu_config(CudaPlacement::Auto, 2, 4);
  o.microbatches = {1, 4};
  o.steps = 2;
  o.parts = {BenchPart::Pipeline, BenchPart::Overhead};
  const BenchReport r = run_bench(o);
  ASSERT_EQ(r.pipeline.size(), 3u);  // naive, M=1, M=4
  EXPECT_EQ(r.pipeline[0].schedule, "naive");
  EXPECT_DOUBLE_EQ(r.pipeline[0].speedup, 1.0);
  for (const PipelineBenchRow& row : r.pipeline) {
    EXPECT_EQ(row.step_ms.size(), 2u);
    EXPECT_GT(row.median_ms, 0.0);
    EXPECT_GE(row.bubble, 0.0);
    EXPECT_LE(row.bubble, 1.0);
    // Theory is the fill-drain formula, computed here independently.
    const double K = 2, M = row.microbatches;
    EXPECT_NEAR(row.bubble_theory, (K - 1) / (M + K - 1), 1e-12);
  }
  EXPECT_NEAR(r.pipeline[2].ideal_speedup, 2.0 * 4 / 5, 1e-12);
  ASSERT_TRUE(r.overhead.has_value());
  EXPECT_GT(r.overhead->traced_ms, 0.0);
  EXPECT_GT(r.overhead->untraced_ms, 0.0);
  const std::string table = format_bench(r);
  EXPECT_NE(table.find("[pipeline]"), std::string::npos) << table;
  EXPECT_NE(table.find("[overhead]"), std::string::npos) << table;
  EXPECT_EQ(bench_json(r)["pipeline"].size(), 3u);
}

TEST(GpuTransparency, BigModelsAreCheckedAgainstASingleDeviceGpuStep) {
  PIPELAB_REQUIRE_GPU();
  // 12·4·1280·1024·4096 = 258 GFLOP per step: over kCpuReferenceMaxFlops, so compare()
  // checks against a K=1 M=1 step on the GPU. The K=1 step must differ from the
  // pipelined ones only by rounding (summation order across micro-batches).
  RunConfig c = gpu_config(CudaPlacement::Auto, 2, 4);
  c.model.layers = 4;
  c.model.width = 1024;
  c.model.hidden = 4096;
  c.model.batch = 1280;
  const Comparison cmp = compare(c);
  EXPECT_EQ(cmp.reference, ReferenceKind::Cuda);
  ASSERT_TRUE(cmp.max_rel_diff.has_value());
  EXPECT_LE(*cmp.max_rel_diff, kTransparencyTolerance);
  EXPECT_TRUE(cmp.transparency_ok);
  EXPECT_GT(*cmp.max_rel_diff, 0.0) << "bit-equal across different splits: was the reference the same run?";
}

TEST(GpuKernelBench, GemmVariantsAgreeWithCublasAndReportTflops) {
  PIPELAB_REQUIRE_GPU();
  const auto rows = bench_gemm({{{100, 130, 70}}}, 2, false);
  ASSERT_EQ(rows.size(), 5u);  // cublas, vectorized, register, tiled, naive
  EXPECT_EQ(rows[0].variant, "cublas");
  EXPECT_DOUBLE_EQ(rows[0].vs_cublas, 1.0);
  for (const GemmBenchRow& row : rows) {
    EXPECT_GT(row.tflops, 0.0) << row.variant;
    EXPECT_LE(row.rel_diff, 1e-5) << row.variant << " computes a different product";
  }
}

}  // namespace
}  // namespace pipelab
