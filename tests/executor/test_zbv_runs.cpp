// test_zbv_runs.cpp — ZB-V (schedule/zbv.h) run by the sim: its measured bubble and peak
// in flight against the registry's theory, and the rule that a hand-over between two
// chunks of one device crosses no link (docs/backends.md, rule 3).
//
// Oracles: the paper's claim as the registry states it (checked exactly against a
// unit-time simulation in tests/unit/test_zbv.cpp), which the sim meets within the
// tolerances balanced_sim.h gives for the schedules that split B (the sim costs W a little
// below F); the V placement written out (stage K - 1 and stage K on device K - 1); and the
// link formula latency + bytes·8/bandwidth for every other send.
#include <gtest/gtest.h>

#include "pipelab/report/in_flight.h"
#include "pipelab/runtime/run.h"
#include "balanced_sim.h"

namespace pipelab {
namespace {

RunConfig balanced_v(int devices, int microbatches) {
  RunConfig c = balanced_sim(ScheduleKind::Zbv, devices, microbatches);
  c.model.layers = 2 * 2 * devices;  // two layers per chunk, 2K chunks
  return c;
}

TEST(ZbvRuns, SimMeasuresTheTheorysBubbleAndPeak) {
  for (int K : {1, 2, 3, 4})
    for (int M : {K, 2 * K, 4 * K}) {
      SCOPED_TRACE("K=" + std::to_string(K) + " M=" + std::to_string(M));
      const RunResult r = run_step(balanced_v(K, M));
      EXPECT_EQ(r.schedule.chunks, 2);
      EXPECT_EQ(r.partition.stages(), 2 * K) << "the layers are split into 2K chunks";
      EXPECT_EQ(r.partition.stage_on(0, 1), 2 * K - 1) << "device 0 holds the last stage";
      EXPECT_NEAR(r.metrics.bubble_fraction, r.theory.bubble_fraction, 1e-9);
      EXPECT_NEAR(r.metrics.bubble_over_busy, r.theory.bubble_over_busy(), 1e-9);
      EXPECT_EQ(max_peak_in_flight_microbatches(r.trace), static_cast<int>(r.theory.peak_stash_microbatches));
    }
}

TEST(ZbvRuns, TheHandOverAtTheBottomOfTheVCrossesNoLink) {
  RunConfig c = balanced_v(3, 6);
  c.sim.link_latency_us = 10;
  c.sim.link_gbps = 1;
  const RunResult r = run_step(c);
  int local = 0, remote = 0;
  for (const TraceEvent& e : r.trace.events) {
    if (e.lane != Lane::Send) continue;
    const Action to = matching_recv(e.action, r.schedule.chunk_map());
    if (to.stage == e.action.stage) {
      // Stage K - 1 (device 2, chunk 0) hands its activations to stage K (device 2, chunk 1),
      // and stage K its gradients back: no time, no bytes.
      EXPECT_EQ(e.action.stage, 2) << to_string(e.action);
      EXPECT_EQ(e.dur_us, 0.0) << to_string(e.action);
      EXPECT_EQ(e.bytes, 0u) << to_string(e.action);
      ++local;
    } else {
      // latency + bytes·8/(gbps·1e3) µs, as every link send.
      EXPECT_NEAR(e.dur_us, 10.0 + e.bytes * 8.0 / 1e3, 1e-9) << to_string(e.action);
      ++remote;
    }
  }
  EXPECT_EQ(local, 2 * 6) << "one activation and one gradient per micro-batch";
  EXPECT_EQ(remote, 2 * 6 * (2 * 3 - 2)) << "the other 2K - 2 stage boundaries, both ways";
}

}  // namespace
}  // namespace pipelab
