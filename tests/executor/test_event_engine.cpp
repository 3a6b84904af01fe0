// test_event_engine.cpp — the single-threaded event engine gives the sim the same step
// as the threaded executor (the engine the sim ran on before), span for span and sample
// for sample, over random configurations: schedules, remat, uneven partitions and
// micro-batches, skew, slow links.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/event_engine.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {
namespace {

void expect_same_trace(const Trace& a, const Trace& b) {
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TraceEvent& x = a.events[i];
    const TraceEvent& y = b.events[i];
    ASSERT_TRUE(x.device == y.device && x.lane == y.lane && x.action == y.action && x.bytes == y.bytes &&
                x.start_us == y.start_us && x.dur_us == y.dur_us)
        << "event " << i << ": " << to_string(x.action) << " vs " << to_string(y.action);
  }
  ASSERT_EQ(a.memory.size(), b.memory.size());
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    ASSERT_EQ(a.memory[i].device, b.memory[i].device) << "sample " << i;
    ASSERT_EQ(a.memory[i].time_us, b.memory[i].time_us) << "sample " << i;
    ASSERT_EQ(a.memory[i].current, b.memory[i].current) << "sample " << i;
  }
  EXPECT_EQ(a.peak_memory, b.peak_memory);
  EXPECT_EQ(a.meta.schedule_kind, b.meta.schedule_kind);
  EXPECT_EQ(a.meta.remat, b.meta.remat);
  EXPECT_EQ(a.meta.theory_utilization, b.meta.theory_utilization);
}

TEST(EventEngine, SimStepEqualsTheThreadedExecutorsForRandomConfigs) {
  std::mt19937 rng(20261201);
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 400; ++trial) {  // "a few hundred random configs" (issue 11)
    RunConfig c;
    c.backend = BackendKind::Sim;
    c.devices = pick(1, 6);
    c.model.layers = c.devices + pick(0, 7);
    c.model.width = 8 * pick(1, 16);
    c.model.hidden = 8 * pick(1, 32);
    c.model.batch = pick(c.devices, 90);
    c.microbatches = pick(1, std::min(c.model.batch, 12));
    c.schedule = schedule_registry()[pick(0, static_cast<int>(schedule_registry().size()) - 1)].kind;
    c.remat = pick(0, 1) == 1;
    // A schedule with model chunks needs a layer per chunk (zbv: 2K chunks).
    const int chunks = scheduled_chunks(schedule_info(c.schedule), c.chunks);
    c.model.layers = std::max(c.model.layers, chunks * c.devices);
    c.partition = pick(0, 1) == 1 ? PartitionMethod::Balanced : PartitionMethod::Even;
    if (pick(0, 1) == 1) {
      c.sim.link_gbps = pick(1, 100);
      c.sim.link_latency_us = pick(0, 20);
    }
    if (pick(0, 2) == 0)
      for (int d = 0; d < c.devices; ++d) c.sim.stage_skew.push_back(0.5 + pick(0, 6) * 0.25);
    c.sim.count_loss = pick(0, 3) != 0;
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + to_json(c));
    const Partition partition = build_partition(c);
    Schedule schedule = build_schedule(c);
    auto threaded_backend = make_backend(c, partition, schedule.microbatches);
    auto engine_backend = make_backend(c, partition, schedule.microbatches);
    const Trace threaded = execute(schedule, *threaded_backend);
    const Trace engine = execute_event_driven(schedule, *engine_backend);
    expect_same_trace(engine, threaded);
    if (HasFatalFailure()) return;
  }
}

TEST(EventEngine, RefusesAnInvalidSchedule) {
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.devices = 2;
  c.model.layers = 2;
  Schedule s = build_schedule(c);
  std::swap(s.per_stage[1][0], s.per_stage[1][1]);  // F before its RecvActivation
  auto backend = make_backend(c, build_partition(c), s.microbatches);
  EXPECT_THROW(execute_event_driven(s, *backend), Error);
}

}  // namespace
}  // namespace pipelab
