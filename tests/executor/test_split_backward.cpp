// test_split_backward.cpp — schedules whose backward is split into I (BackwardInput) and
// W (BackwardWeight), built by hand from start_schedule(Custom) and the append helpers:
// on the cpu backend they train exactly like the single-device reference step; on the sim
// the I and W spans last what their FLOP formulas say and the memory is the plan's; the
// cpu's memory books equal the sim's; the replay replays I and W like F and B; a W
// without its I is a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"  // split_microbatches (ex03)
#include "pipelab/model/memory_plan.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

// GPipe's order (all F, then the backwards M−1..0) with each B(s, m) split: I(s, m) where
// B was, and W(s, m) right after it, or (defer_weights) every W after the last I, in the
// same order, just before the OptimizerStep.
Schedule gpipe_split(int K, int M, bool defer_weights) {
  Schedule s = start_schedule(ScheduleKind::Custom, "gpipe_split", K, M);
  for (int st = 0; st < K; ++st) {
    std::vector<Action>& program = s.per_stage[st];
    for (int m = 0; m < M; ++m) append_forward(program, st, m, K);
    for (int m = M - 1; m >= 0; --m) {
      append_backward_input(program, st, m, K);
      if (!defer_weights) append_weight_backward(program, st, m);
    }
    if (defer_weights)
      for (int m = M - 1; m >= 0; --m) append_weight_backward(program, st, m);
    program.push_back({ActionKind::OptimizerStep, st, -1});
  }
  return s;
}

// The same schedule with re-materialization: R(s, m) just before the RecvGrad that
// precedes I(s, m), or just before I(s, m) where there is none (the last stage).
Schedule with_recompute_before_input(Schedule s) {
  s.remat = true;
  for (std::vector<Action>& program : s.per_stage) {
    std::vector<Action> out;
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      const bool recv_before_input = a.kind == ActionKind::RecvGrad;
      const bool bare_input = a.kind == ActionKind::BackwardInput &&
                              !(i > 0 && program[i - 1].kind == ActionKind::RecvGrad);
      if (recv_before_input || bare_input) out.push_back({ActionKind::Recompute, a.stage, a.microbatch});
      out.push_back(a);
    }
    program = std::move(out);
  }
  return s;
}

// As the transparency tests' model: small, odd sizes, a prime batch (uneven micro-batches).
RunConfig small_config(BackendKind backend, int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 8;
  c.model.width = 12;
  c.model.hidden = 20;
  c.model.batch = 37;
  c.model.seed = 42;
  c.devices = devices;
  c.microbatches = microbatches;
  c.schedule = ScheduleKind::Custom;
  c.backend = backend;
  c.watchdog_seconds = 20;
  return c;
}

// One step of `schedule` on a fresh backend for `c`; the backend stays for its books.
struct Ran {
  std::unique_ptr<Backend> backend;
  Trace trace;
};
Ran run_schedule(const RunConfig& c, const Schedule& schedule) {
  Ran r;
  r.backend = make_backend(c, build_partition(c), schedule.microbatches);
  r.trace = execute(schedule, *r.backend);
  return r;
}

class CpuSplitBackward : public ::testing::TestWithParam<std::tuple<int, int, bool>> {};

TEST_P(CpuSplitBackward, TrainsLikeTheSingleDeviceStep) {
  const auto [devices, microbatches, defer] = GetParam();
  const RunConfig c = small_config(BackendKind::Cpu, devices, microbatches);
  const Ran ran = run_schedule(c, gpipe_split(devices, microbatches, defer));
  const std::optional<StepNumerics> got = ran.backend->numerics();
  ASSERT_TRUE(got.has_value());
  const StepNumerics reference = reference_step(c.model);
  // The transparency tests' comparison and bound (test_transparency.cpp).
  EXPECT_LE(max_relative_difference(*got, reference), 1e-5) << "loss " << got->loss << " vs " << reference.loss;
  EXPECT_GT(reference.loss, 0.1);
  // Everything a micro-batch kept is freed by its W: no stash and no buffer left over.
  for (int d = 0; d < devices; ++d) {
    EXPECT_EQ(ran.backend->memory(d).current()[static_cast<int>(MemoryCategory::Stash)], 0u) << "device " << d;
    EXPECT_EQ(ran.backend->memory(d).current()[static_cast<int>(MemoryCategory::Buffers)], 0u) << "device " << d;
  }
}

INSTANTIATE_TEST_SUITE_P(KByMByW, CpuSplitBackward,
                         ::testing::Combine(::testing::Values(2, 4), ::testing::Values(4, 8), ::testing::Bool()),
                         [](const auto& info) {
                           return "K" + std::to_string(std::get<0>(info.param)) + "M" +
                                  std::to_string(std::get<1>(info.param)) +
                                  (std::get<2>(info.param) ? "DeferredW" : "ImmediateW");
                         });

TEST(CpuSplitBackward, WithRecomputeTrainsLikeTheSingleDeviceStep) {
  RunConfig c = small_config(BackendKind::Cpu, 4, 8);
  c.remat = true;
  const Ran ran = run_schedule(c, with_recompute_before_input(gpipe_split(4, 8, /*defer_weights=*/true)));
  EXPECT_LE(max_relative_difference(*ran.backend->numerics(), reference_step(c.model)), 1e-5);
}

TEST(CpuSplitBackward, WeightBeforeItsInputIsAClearError) {
  // One stage, one micro-batch: F, then W before I. execute_unchecked: validate() would
  // refuse the schedule first; this is the backend's own guard.
  const RunConfig c = small_config(BackendKind::Cpu, 1, 1);
  Schedule s = start_schedule(ScheduleKind::Custom, "w_first", 1, 1);
  append_forward(s.per_stage[0], 0, 0, 1);
  append_weight_backward(s.per_stage[0], 0, 0);
  append_backward_input(s.per_stage[0], 0, 0, 1);
  s.per_stage[0].push_back({ActionKind::OptimizerStep, 0, -1});
  auto backend = make_backend(c, build_partition(c), 1);
  try {
    execute_unchecked(s, *backend);
    FAIL() << "W before its I ran";
  } catch (const Error& e) {
    const std::string what = e.message();
    EXPECT_NE(what.find("W0 s0"), std::string::npos) << what;
    EXPECT_NE(what.find("no I of this micro-batch"), std::string::npos) << what;
  }
}

// ---- sim: the cost model and the memory plan ----------------------------------------------

TEST(SimSplitBackward, InputAndWeightSpansLastWhatTheirFlopsSay) {
  RunConfig c = small_config(BackendKind::Sim, 4, 8);
  c.sim.device_tflops = 3.0;
  const Partition partition = build_partition(c);
  const std::vector<int> rows = split_microbatches(c.model.batch, c.microbatches);
  const Ran ran = run_schedule(c, gpipe_split(4, 8, /*defer_weights=*/false));
  int inputs = 0, weights = 0;
  for (const TraceEvent& e : ran.trace.events) {
    if (e.lane != Lane::Compute) continue;
    const Action& a = e.action;
    const int layers = partition.layer_count(a.stage);
    const int b = rows[a.microbatch < 0 ? 0 : a.microbatch];
    const bool last = a.stage == c.devices - 1;
    double flops = -1;
    if (a.kind == ActionKind::BackwardInput) {
      // Σ_layers block_backward_input_flops, plus ⅓ of the loss on the last stage (as B).
      flops = layers * block_backward_input_flops(c.model, b) + (last ? loss_flops(c.model, b) / 3.0 : 0.0);
      ++inputs;
    } else if (a.kind == ActionKind::BackwardWeight) {
      flops = layers * block_backward_weight_flops(c.model, b);
      ++weights;
    }
    if (flops < 0) continue;
    // µs = FLOPs / (TFLOP/s · 10⁶)
    EXPECT_NEAR(e.dur_us, flops / (c.sim.device_tflops * 1e6), 1e-9 * e.dur_us) << to_string(a);
  }
  EXPECT_EQ(inputs, 4 * 8);
  EXPECT_EQ(weights, 4 * 8);
}

TEST(SimSplitBackward, BusyTimeIsGpipesWhenEveryBIsSplit) {
  // I + W = B in FLOPs, so each stage is busy exactly as long as under GPipe.
  RunConfig c = small_config(BackendKind::Sim, 4, 8);
  const Ran split = run_schedule(c, gpipe_split(4, 8, /*defer_weights=*/true));
  c.schedule = ScheduleKind::Gpipe;
  const RunResult gpipe = run_step(c);
  const StepMetrics m = compute_metrics(split.trace);
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(m.busy_ms[d], gpipe.metrics.busy_ms[d], 1e-9 * m.busy_ms[d]) << d;
}

TEST(SimSplitBackward, StashPeaksFollowThePlanAndEqualTheCpus) {
  for (bool remat : {false, true}) {
    for (bool defer : {false, true}) {
      SCOPED_TRACE(std::string(remat ? "remat " : "") + (defer ? "deferred W" : "immediate W"));
      RunConfig sim = small_config(BackendKind::Sim, 4, 8);
      sim.remat = remat;
      RunConfig cpu = sim;
      cpu.backend = BackendKind::Cpu;
      Schedule s = gpipe_split(4, 8, defer);
      if (remat) s = with_recompute_before_input(s);
      const Ran on_sim = run_schedule(sim, s), on_cpu = run_schedule(cpu, s);
      const Partition partition = build_partition(sim);
      const std::vector<int> rows = split_microbatches(sim.model.batch, sim.microbatches);
      for (int d = 0; d < 4; ++d) {
        const StageMemoryPlan plan = plan_stage_memory(sim.model, partition, d, remat);
        // The plan's peak, by hand. What micro-batch m adds in its backward: R's rest of the
        // stash (remat) and I's dy, da.
        const auto backward_adds = [&](int m) {
          return plan.weight_stash_bytes(rows[m]) + (remat ? plan.recompute_stash_bytes(rows[m]) : 0);
        };
        std::uint64_t expected = 0;
        if (defer) {
          // Every F's stash and every backward's additions at once: all I before any W.
          for (int m = 0; m < 8; ++m) expected += plan.forward_stash_bytes(rows[m]) + backward_adds(m);
        } else {
          // GPipe's order, m = M−1 .. 0: F's stashes of micro-batches 0..m are still held when
          // m's R and I add theirs; W(m) then frees all of m.
          for (int m = 7; m >= 0; --m) {
            std::uint64_t live = backward_adds(m);
            for (int j = 0; j <= m; ++j) live += plan.forward_stash_bytes(rows[j]);
            expected = std::max(expected, live);
          }
        }
        const int stash = static_cast<int>(MemoryCategory::Stash);
        EXPECT_EQ(on_sim.backend->memory(d).peak()[stash], expected) << "sim device " << d;
        EXPECT_EQ(on_cpu.backend->memory(d).peak()[stash], expected) << "cpu device " << d;
        EXPECT_EQ(on_sim.backend->memory(d).current()[stash], 0u) << "sim device " << d << " kept a stash";
      }
    }
  }
}

// ---- replay: measured I and W costs replay like F and B -----------------------------------

TEST(ReplaySplitBackward, ReplaysEachIAndWAtItsMeasuredCost) {
  const RunConfig c = small_config(BackendKind::Cpu, 2, 4);
  const Schedule s = gpipe_split(2, 4, /*defer_weights=*/true);
  const Ran ran = run_schedule(c, s);
  const ReplayResult replay = replay_step(s, ran.trace);
  // The cpu records thread CPU time for every compute action: the replay's cost of each.
  std::map<std::uint64_t, double> measured;
  for (const TraceEvent& e : ran.trace.events)
    if (e.lane == Lane::Compute) measured[action_key(e.action)] = replay.cpu_time ? e.cpu_us : e.dur_us;
  int split_actions = 0;
  for (const TraceEvent& e : replay.trace.events) {
    if (e.lane != Lane::Compute) continue;
    ASSERT_EQ(measured.count(action_key(e.action)), 1u) << to_string(e.action);
    // The span is clock + cost − clock: the cost to the rounding of the clock.
    EXPECT_NEAR(e.dur_us, measured[action_key(e.action)], 1e-9 * (1 + e.start_us)) << to_string(e.action);
    split_actions += e.action.kind == ActionKind::BackwardInput || e.action.kind == ActionKind::BackwardWeight;
  }
  EXPECT_EQ(split_actions, 2 * 2 * 4);
}

}  // namespace
}  // namespace pipelab
