// test_spmd_trace.cpp — the one merged trace of a run whose stages ran as processes, read
// back with the reader pipelab-viz uses: every rank's spans on rank 0's timebase, each
// rank's clock alignment in the metadata, and causality across clocks — every receive
// ends after its send starts, to within the two ranks' stated alignment errors — which
// only holds if the clock offsets and their error bounds are right; and for data
// parallelism, the gradient all-reduce as one span on every rank's send lane.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "mpi_runner.h"
#include "pipelab/model/model.h"
#include "pipelab/report/metrics.h"
#include "pipelab/trace/trace_reader.h"

namespace pipelab::mpi_test {
namespace {

TEST(SpmdTrace, OneMergedTraceWhereEveryReceiveEndsAfterItsSendStarts) {
  PIPELAB_REQUIRE_MPIRUN();
  const int K = 4, M = 4;
  const std::string path = ::testing::TempDir() + "/spmd_trace_" + std::to_string(getpid()) + ".json";
  const MpiRun r = pipelab_ranks(K, "run --backend cpu --layers 8 --width 64 --hidden 128 --batch 32 -K 4 -M 4 "
                                    "--schedule 1f1b --warmup 0 --repeat 1 --watchdog-s 20 -q --trace " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Trace trace = read_chrome_trace_file(path);

  // One trace for the whole pipeline, with every rank and its clock's alignment.
  EXPECT_EQ(trace.meta.devices, K);
  ASSERT_EQ(trace.meta.ranks.size(), static_cast<std::size_t>(K));
  for (int rank = 0; rank < K; ++rank) {
    const RankClock& c = trace.meta.ranks[rank];
    EXPECT_EQ(c.rank, rank);
    EXPECT_FALSE(c.host.empty());
    // Bounded and real. Half a round trip on one host is µs on an idle machine (~25 µs on
    // the 2-core VM), but a rank that waits for a core while other tests run stretches
    // every round trip by scheduler ticks: the bound here is far from any step's length,
    // and the causality check below is the one a wrong offset fails.
    EXPECT_TRUE(std::isfinite(c.alignment_error_us) && c.alignment_error_us >= 0) << c.alignment_error_us;
    EXPECT_LT(c.alignment_error_us, 10000.0) << "rank " << rank;
  }
  EXPECT_EQ(trace.meta.ranks[0].offset_us, 0.0);
  EXPECT_EQ(trace.meta.ranks[0].alignment_error_us, 0.0);

  // Every action of every stage, on its own rank's device: 1F1B has F and B of every
  // micro-batch per stage, one send and one receive per boundary and direction.
  std::unordered_map<std::uint64_t, const TraceEvent*> sends;
  int receives = 0;
  for (const TraceEvent& e : trace.events) {
    EXPECT_EQ(e.device, e.action.stage);
    EXPECT_GE(e.start_us, 0.0);
    EXPECT_GE(e.dur_us, 0.0);
    if (e.lane == Lane::Send) sends[action_key(e.action)] = &e;
    if (e.lane == Lane::Recv) ++receives;
  }
  EXPECT_EQ(sends.size(), static_cast<std::size_t>(2 * M * (K - 1)));
  EXPECT_EQ(receives, 2 * M * (K - 1));
  for (const TraceEvent& e : trace.events) {
    if (e.lane != Lane::Recv) continue;
    const auto send = sends.find(action_key(matching_send(e.action)));
    ASSERT_NE(send, sends.end()) << to_string(e.action) << " has no send";
    // The receiver's clock (the arrival) against the sender's (its start), both put on rank
    // 0's: causality must hold up to the two clocks' stated alignment errors. (A wrong
    // offset, or an error bound that claims too much, fails here. On an idle machine the
    // errors are a few µs and the transfers tens: it holds outright; on a loaded one a
    // stretched round trip widens the error, and the estimate may be off by that much.)
    const double slack = trace.meta.ranks[e.device].alignment_error_us +
                         trace.meta.ranks[send->second->device].alignment_error_us;
    EXPECT_GE(e.end_us() + slack, send->second->start_us)
        << to_string(e.action) << " ends " << send->second->start_us - e.end_us() << " us before "
        << to_string(send->second->action) << " starts, beyond the alignment errors' " << slack << " us";
  }

  // The metrics come from the merged trace: every device busy for part of the step.
  const StepMetrics m = compute_metrics(trace);
  EXPECT_GT(m.makespan_ms, 0);
  ASSERT_EQ(m.utilization.size(), static_cast<std::size_t>(K));
  for (double u : m.utilization) {
    EXPECT_GT(u, 0.0);
    EXPECT_LE(u, 1.0);
  }
}

TEST(SpmdTrace, DataParallelAllReduceIsOneSpanOnEveryRanksSendLane) {
  PIPELAB_REQUIRE_MPIRUN();
  const int K = 4;
  const ModelSpec spec{8, 64, 128, 32};  // the flags below
  const std::string path = ::testing::TempDir() + "/spmd_dp_trace_" + std::to_string(getpid()) + ".json";
  const MpiRun r = pipelab_ranks(K, "run --backend cpu --layers 8 --width 64 --hidden 128 --batch 32 -K 4 "
                                    "--schedule data-parallel --warmup 0 --repeat 1 --watchdog-s 20 -q --trace " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Trace trace = read_chrome_trace_file(path);
  ASSERT_EQ(trace.meta.ranks.size(), static_cast<std::size_t>(K));

  // One AllReduceGrads per rank (replica), drawn on its send lane with what a ring sends per
  // device: 2(K-1)/K of the whole model's fp32 gradients, from the model's shapes here.
  const double gradient_bytes = 4.0 * spec.layers * static_cast<double>(block_param_count(spec));
  const double ring_bytes = 2.0 * (K - 1) / K * gradient_bytes;
  std::vector<const TraceEvent*> all_reduce(K, nullptr);
  double backward_end = 0;  // the last backward of any replica
  double alignment_error = 0;
  for (const RankClock& c : trace.meta.ranks) alignment_error = std::max(alignment_error, c.alignment_error_us);
  for (const TraceEvent& e : trace.events) {
    ASSERT_GE(e.device, 0);
    ASSERT_LT(e.device, K);
    EXPECT_EQ(e.device, e.action.stage);
    EXPECT_NE(e.lane, Lane::Recv) << "a data-parallel replica receives nothing: " << to_string(e.action);
    if (e.action.kind == ActionKind::Backward) backward_end = std::max(backward_end, e.end_us());
    if (e.action.kind != ActionKind::AllReduceGrads) continue;
    EXPECT_EQ(e.lane, Lane::Send);
    EXPECT_EQ(all_reduce[e.device], nullptr) << "device " << e.device << " has two all-reduces";
    all_reduce[e.device] = &e;
  }
  for (int d = 0; d < K; ++d) {
    ASSERT_NE(all_reduce[d], nullptr) << "rank " << d << " has no all-reduce span";
    const TraceEvent& e = *all_reduce[d];
    EXPECT_GT(e.dur_us, 0.0) << "rank " << d;
    EXPECT_NEAR(static_cast<double>(e.bytes), ring_bytes, 1.0) << "rank " << d;
    // It starts once every replica has reached it: after every rank's backward, across
    // clocks to within two ranks' alignment errors.
    EXPECT_GE(e.start_us + 2 * alignment_error, backward_end) << "rank " << d;
  }
  // Its bytes are the step's communication.
  const StepMetrics m = compute_metrics(trace);
  EXPECT_GT(m.comm_time_ms, 0.0);
  EXPECT_NEAR(static_cast<double>(m.comm_bytes), K * ring_bytes, K);
}

}  // namespace
}  // namespace pipelab::mpi_test
