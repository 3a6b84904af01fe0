// test_executor.cpp — the executor itself: watchdog, refusal of invalid
// schedules, error propagation, cpu timing and memory accounting.
#include <gtest/gtest.h>

#include <chrono>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/exercise.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

RunConfig tiny(BackendKind backend, int K, int M) {
  RunConfig c;
  c.model.layers = 4;
  c.model.width = 8;
  c.model.hidden = 16;
  c.model.batch = 16;
  c.devices = K;
  c.microbatches = M;
  c.backend = backend;
  return c;
}

// Stage 0 waits for gradient 0 before sending activation 1; stage 1 waits for
// activation 1 before it sends gradient 0: each waits on the other forever.
Schedule deadlocking_schedule() {
  Schedule s;
  s.kind = ScheduleKind::Custom;  // "deadlock": built by hand
  s.stages = 2;
  s.microbatches = 2;
  s.per_stage.resize(2);
  auto& p0 = s.per_stage[0];
  p0 = {{ActionKind::Forward, 0, 0}, {ActionKind::SendActivation, 0, 0}, {ActionKind::RecvGrad, 0, 0},
        {ActionKind::Backward, 0, 0}, {ActionKind::Forward, 0, 1}, {ActionKind::SendActivation, 0, 1},
        {ActionKind::RecvGrad, 0, 1}, {ActionKind::Backward, 0, 1}, {ActionKind::OptimizerStep, 0, -1}};
  auto& p1 = s.per_stage[1];
  p1 = {{ActionKind::RecvActivation, 1, 1}, {ActionKind::Forward, 1, 1}, {ActionKind::Backward, 1, 1},
        {ActionKind::SendGrad, 1, 1}, {ActionKind::RecvActivation, 1, 0}, {ActionKind::Forward, 1, 0},
        {ActionKind::Backward, 1, 0}, {ActionKind::SendGrad, 1, 0}, {ActionKind::OptimizerStep, 1, -1}};
  return s;
}

TEST(Executor, RefusesAnInvalidSchedule) {
  const RunConfig c = tiny(BackendKind::Sim, 2, 2);
  auto backend = make_sim_backend(c, even_partition(4, 2), 2);
  EXPECT_THROW(execute(deadlocking_schedule(), *backend), Error);
}

TEST(Executor, WatchdogNamesWhatEachDeviceWaitsFor) {
  const RunConfig c = tiny(BackendKind::Sim, 2, 2);
  auto backend = make_sim_backend(c, even_partition(4, 2), 2);
  ExecutorOptions options;
  options.watchdog_seconds = 0.3;
  const auto start = std::chrono::steady_clock::now();
  try {
    execute_unchecked(deadlocking_schedule(), *backend, options);
    FAIL() << "a deadlocked step must not return";
  } catch (const Error& e) {
    const std::string msg = e.message();
    EXPECT_NE(msg.find("watchdog"), std::string::npos) << msg;
    EXPECT_NE(msg.find("device 0 waiting at RecvGrad0 s0 for SendGrad0 s1 from device 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("device 1 waiting at RecvAct1 s1 for SendAct1 s0 from device 0"), std::string::npos) << msg;
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(waited, 5.0) << "the watchdog must fire near its limit";
}

TEST(Executor, CpuComputeSpansOfADeviceNeverOverlapAndFollowTheProgram) {
  const RunResult r = run_step(tiny(BackendKind::Cpu, 3, 4));
  for (int d = 0; d < 3; ++d) {
    double last_end = -1;
    std::size_t index = 0;
    const auto& program = r.schedule.per_stage[d];
    for (const TraceEvent& e : r.trace.events) {
      if (e.device != d || e.lane != Lane::Compute) continue;
      EXPECT_GE(e.start_us, last_end);
      EXPECT_GE(e.dur_us, 0.0);
      last_end = e.end_us();
      // Compute events appear in program order.
      while (index < program.size() && !(is_compute(program[index].kind) ||
                                         program[index].kind == ActionKind::OptimizerStep))
        ++index;
      ASSERT_LT(index, program.size());
      EXPECT_EQ(e.action, program[index]);
      ++index;
    }
  }
}

TEST(Executor, CpuRematLowersPeakStash) {
  RunConfig c = tiny(BackendKind::Cpu, 4, 8);
  c.model.layers = 8;
  c.model.width = 32;
  c.model.hidden = 256;
  c.model.batch = 128;
  const RunResult plain = run_step(c);
  c.remat = true;
  const RunResult remat = run_step(c);
  for (int d = 0; d < 4; ++d) {
    const auto stash = [&](const RunResult& r) { return r.metrics.peak_memory_by_category[d][2]; };
    EXPECT_LT(stash(remat), stash(plain) / 2) << "device " << d;
  }
}

TEST(Executor, CpuMemoryIsAllReturnedExceptParamsAndGrads) {
  const RunResult r = run_step(tiny(BackendKind::Cpu, 2, 3));
  // The last sample of each device: stash and buffers back to zero.
  std::vector<MemoryBytes> last(2);
  for (const MemorySample& s : r.trace.memory) last[s.device] = s.current;
  for (int d = 0; d < 2; ++d) {
    EXPECT_EQ(last[d][2], 0u) << "stash leaked on device " << d;
    EXPECT_EQ(last[d][3], 0u) << "buffers leaked on device " << d;
    // Params = 2 layers × (2·d·h + h + d) floats.
    EXPECT_EQ(last[d][0], 4u * 2 * (2 * 8 * 16 + 16 + 8));
  }
}

}  // namespace
}  // namespace pipelab
