// test_gpu_split_backward.cpp — I and W (the split backward) on the cuda backend.
//
//   CudaSplitBackward.RefusesIAndWWithoutTheFlag   without --cuda-split-backward: a clear
//                                                  pipelab::Error naming the backends that run
//                                                  them and the flag
//   GpuSplitTransparency.*   with the flag, zb-h1 and zb-h2 (K ∈ {2,4} × M ∈ {4,8}, with and
//                            without remat) equal the single-device reference step (loss,
//                            every gradient, updated parameters) within kTransparencyTolerance
//   CudaSplitBackward.*      the stash books against the sim's, everything freed by W, and
//                            the backend's own guards (W before I, I twice)
// None of these has run on a GPU yet (as of 2026-12-02): they compiled, and they skip
// without one. bench/gpu_session.sh runs them with the rest of pipelab_gpu_tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "gpu_test_util.h"
#include "pipelab/backends/backends.h"
#include "pipelab/backends/cuda_backend.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"  // split_microbatches (ex03)
#include "pipelab/model/memory_plan.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

// The transparency tests' model (gpu_test_util.h), the split backward switched on.
RunConfig split_config(ScheduleKind schedule, int devices, int microbatches, bool remat) {
  RunConfig c = gpu_test::transparency_config(CudaPlacement::Auto, devices, microbatches);
  c.schedule = schedule;
  c.remat = remat;
  c.cuda.split_backward = true;
  return c;
}

// One F, I, W of micro-batch 0 on one device, with `order` the compute actions after F.
Schedule one_device_split(const std::vector<ActionKind>& order) {
  Schedule s = start_schedule(ScheduleKind::Custom, "split", 1, 1);
  append_forward(s.per_stage[0], 0, 0, 1);
  for (ActionKind kind : order) {
    if (kind == ActionKind::BackwardInput)
      append_backward_input(s.per_stage[0], 0, 0, 1);
    else
      append_weight_backward(s.per_stage[0], 0, 0);
  }
  s.per_stage[0].push_back({ActionKind::OptimizerStep, 0, -1});
  return s;
}

RunConfig one_device_config(bool split_backward) {
  RunConfig c;
  c.model.layers = 2;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 8;
  c.devices = 1;
  c.microbatches = 1;
  c.backend = BackendKind::Cuda;
  c.cuda.placement = CudaPlacement::Streams;
  c.cuda.split_backward = split_backward;
  return c;
}

// The message and hint of the pipelab::Error that running `s` throws ("" when none).
std::string error_running(const RunConfig& c, const Schedule& s) {
  auto backend = make_backend(c, build_partition(c), 1);
  try {
    execute_unchecked(s, *backend);  // the backend's own guards, not validate()'s
  } catch (const Error& e) {
    return std::string(e.message()) + " " + e.hint();
  }
  return "";
}

TEST(CudaSplitBackward, RefusesIAndWWithoutTheFlag) {
  PIPELAB_REQUIRE_GPU();
  const std::string what = error_running(
      one_device_config(/*split_backward=*/false),
      one_device_split({ActionKind::BackwardInput, ActionKind::BackwardWeight}));
  ASSERT_FALSE(what.empty()) << "the cuda backend ran I/W without --cuda-split-backward";
  EXPECT_NE(what.find("I/W (split backward) is not supported on the cuda backend by default"), std::string::npos)
      << what;
  EXPECT_NE(what.find("--backend cpu or sim"), std::string::npos) << what;
  EXPECT_NE(what.find("--cuda-split-backward"), std::string::npos) << what;
  EXPECT_NE(what.find("not yet run on a GPU"), std::string::npos) << what;
}

TEST(CudaSplitBackward, WeightBeforeItsInputAndInputTwiceAreClearErrors) {
  PIPELAB_REQUIRE_GPU();
  const RunConfig c = one_device_config(/*split_backward=*/true);
  const std::string w_first =
      error_running(c, one_device_split({ActionKind::BackwardWeight, ActionKind::BackwardInput}));
  EXPECT_NE(w_first.find("W0 s0"), std::string::npos) << w_first;
  EXPECT_NE(w_first.find("no I of this micro-batch"), std::string::npos) << w_first;
  const std::string i_twice = error_running(
      c, one_device_split({ActionKind::BackwardInput, ActionKind::BackwardInput, ActionKind::BackwardWeight}));
  EXPECT_NE(i_twice.find("already ran and its W has not"), std::string::npos) << i_twice;
}

// ---- transparency: zb-h1, zb-h2 on the GPU equal the single-device step -----------------

using SplitCase = std::tuple<ScheduleKind, int, int, bool>;  // schedule, K, M, remat

class GpuSplitTransparency : public ::testing::TestWithParam<SplitCase> {};

TEST_P(GpuSplitTransparency, StepEqualsSingleDeviceStep) {
  PIPELAB_REQUIRE_GPU();
  const auto [schedule, devices, microbatches, remat] = GetParam();
  const RunConfig c = split_config(schedule, devices, microbatches, remat);
  const RunResult run = run_step(c);  // the CLI's path: prepare()'s refusals included
  EXPECT_EQ(run.trace.meta.backend, "cuda");
  // Not vacuous: every micro-batch's backward ran as I and W on every device.
  int inputs = 0, weights = 0;
  for (const TraceEvent& e : run.trace.events) {
    inputs += e.action.kind == ActionKind::BackwardInput;
    weights += e.action.kind == ActionKind::BackwardWeight;
  }
  EXPECT_EQ(inputs, devices * microbatches);
  EXPECT_EQ(weights, devices * microbatches);
  ASSERT_TRUE(run.numerics.has_value()) << "the cuda backend returned no numerics";
  const StepNumerics reference = reference_step(c.model);
  EXPECT_LE(max_relative_difference(*run.numerics, reference), kTransparencyTolerance)
      << to_string(schedule) << " K=" << devices << " M=" << microbatches << (remat ? " remat" : "") << ": loss "
      << run.numerics->loss << " vs reference " << reference.loss;
  EXPECT_GT(reference.loss, 0.1) << "a trivial reference would match a broken copy";
}

INSTANTIATE_TEST_SUITE_P(ScheduleKMRemat, GpuSplitTransparency,
                         ::testing::Combine(::testing::Values(ScheduleKind::ZbH1, ScheduleKind::ZbH2),
                                            ::testing::Values(2, 4), ::testing::Values(4, 8), ::testing::Bool()),
                         [](const auto& info) {
                           const ScheduleKind kind = std::get<0>(info.param);
                           return std::string(kind == ScheduleKind::ZbH1 ? "ZbH1" : "ZbH2") + "K" +
                                  std::to_string(std::get<1>(info.param)) + "M" +
                                  std::to_string(std::get<2>(info.param)) +
                                  (std::get<3>(info.param) ? "Remat" : "");
                         });

// ---- memory: the stash books against the sim's ------------------------------------------

TEST(CudaSplitBackward, StashPeaksAreTheSimsAndWFreesEverything) {
  PIPELAB_REQUIRE_GPU();
  const int K = 4, M = 8;
  for (bool remat : {false, true}) {
    SCOPED_TRACE(remat ? "zb-h1 remat" : "zb-h1");
    const RunConfig c = split_config(ScheduleKind::ZbH1, K, M, remat);
    const Partition partition = build_partition(c);
    const Schedule schedule = build_schedule(c);
    auto backend = make_cuda_backend(c, partition, schedule.microbatches);
    const Trace trace = execute(schedule, *backend);
    for (const CudaMemoryCheck& check : backend->check_memory()) EXPECT_TRUE(check.ok) << check.detail;
    RunConfig on_sim = c;
    on_sim.backend = BackendKind::Sim;
    const RunResult sim = run_step(on_sim);
    const std::vector<int> rows = split_microbatches(c.model.batch, M);
    const int biggest = *std::max_element(rows.begin(), rows.end());
    const int stash = static_cast<int>(MemoryCategory::Stash);
    for (int d = 0; d < K; ++d) {
      const std::uint64_t got = trace.peak_memory[d][stash], planned = sim.trace.peak_memory[d][stash];
      // The sim charges a stage's input at its F; the cuda backend charges a received
      // input to the receiver when the sender sends it (send()), so on devices 1.. inputs
      // that arrive before their F raise the peak, by a number timing decides. At most
      // K−d+1: stage d−1 holds at most K−(d−1) micro-batches between F and W under ZB-H1
      // (test_zero_bubble.cpp), and its I(m) waits for stage d's I(m), after stage d's F(m).
      // Device 0 reads its input from the batch at F: the same books as the sim's.
      const StageMemoryPlan plan = plan_stage_memory(c.model, partition, d, remat);
      const std::uint64_t early_inputs = d == 0 ? 0 : static_cast<std::uint64_t>(K - d + 1) * plan.input_bytes(biggest);
      EXPECT_GE(got, planned) << "device " << d;
      EXPECT_LE(got, planned + early_inputs) << "device " << d;
      // W frees what F, R and I kept, and every buffer is sent or dropped.
      EXPECT_EQ(backend->memory(d).current()[stash], 0u) << "device " << d << " kept a stash";
      EXPECT_EQ(backend->memory(d).current()[static_cast<int>(MemoryCategory::Buffers)], 0u)
          << "device " << d << " kept a buffer";
    }
  }
}

}  // namespace
}  // namespace pipelab
