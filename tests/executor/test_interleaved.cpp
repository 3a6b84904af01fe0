// test_interleaved.cpp — interleaved 1F1B (v model chunks per device) on the sim and cpu.
//
// Oracles: the fill-drain bubble in chunk-sized steps, v·M/(v·M + K - 1), written out here
// from Narayanan et al. 2021 (their bubble over busy (p - 1)/(v·m)), on balanced chunks
// (L = 2·K·v, no loss or optimizer cost, free links), to 1e-9; 1F1B's own generator (ex09)
// for v = 1; the single-device reference step for the numerics; a hand count of device 0's
// warm-up for the peak in flight.
#include <gtest/gtest.h>

#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/report/in_flight.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/interleaved.h"
#include "pipelab/schedule/validate.h"
#include "balanced_sim.h"

namespace pipelab {
namespace {

RunConfig balanced_chunks(int devices, int microbatches, int chunks, bool remat = false) {
  RunConfig c = balanced_sim(ScheduleKind::Interleaved1F1B, devices, microbatches, remat);
  c.model.layers = 2 * devices * chunks;  // two layers per chunk
  c.chunks = chunks;
  return c;
}

TEST(Interleaved, SimOnBalancedChunksHasTheBubbleOfChunkSizedSteps) {
  for (int K : {1, 2, 3, 4})
    for (int v : {1, 2, 3})
      for (int groups : {1, 2, 4}) {
        const int M = groups * K;
        const RunResult r = run_step(balanced_chunks(K, M, v));
        SCOPED_TRACE("K=" + std::to_string(K) + " v=" + std::to_string(v) + " M=" + std::to_string(M));
        const double vm = static_cast<double>(v) * M;
        EXPECT_NEAR(r.metrics.mean_utilization, vm / (vm + K - 1), 1e-9);
        EXPECT_NEAR(r.metrics.bubble_over_busy, (K - 1) / vm, 1e-9) << "the paper's (p-1)/(v·m)";
        EXPECT_EQ(r.theory.utilization, interleaved_1f1b_theory(K, M, v).utilization);
        EXPECT_EQ(r.schedule.chunks, v);
        EXPECT_EQ(r.partition.stages(), K * v) << "the layers are split into K·v chunks";
      }
}

TEST(Interleaved, OneChunkIsOneFOneB) {
  for (int K = 1; K <= 6; ++K)
    for (int M = 1; M <= 9; ++M)
      EXPECT_EQ(interleaved_1f1b_schedule(K, M, 1).per_stage, one_f_one_b_schedule(K, M).per_stage)
          << "K=" << K << " M=" << M;
}

TEST(Interleaved, EveryGeneratedScheduleIsValidAndDeviceZeroHoldsItsWarmUp) {
  for (int K = 1; K <= 6; ++K)
    for (int v = 1; v <= 4; ++v)
      for (int groups = 1; groups <= 3; ++groups) {
        const int M = groups * K;
        const Schedule s = interleaved_1f1b_schedule(K, M, v);
        SCOPED_TRACE("K=" + std::to_string(K) + " v=" + std::to_string(v) + " M=" + std::to_string(M));
        EXPECT_EQ(validation_error(s), "");
        // Device 0 runs 2(K-1) + (v-1)K forwards before its first backward (K-1 for v = 1),
        // so it holds that many plus one (chunk, micro-batch) pairs: counted on the program.
        int held = 0, peak = 0;
        for (const Action& a : s.per_stage[0]) {
          if (a.kind == ActionKind::Forward) peak = std::max(peak, ++held);
          if (a.kind == ActionKind::Backward) --held;
        }
        const int warmup = v == 1 ? K - 1 : 2 * (K - 1) + (v - 1) * K;
        EXPECT_EQ(peak, std::min(warmup + 1, v * M));
        EXPECT_EQ(interleaved_1f1b_theory(K, M, v).peak_stash_microbatches, peak);
      }
}

TEST(Interleaved, TheSimsPeakInFlightIsTheTheorys) {
  const RunResult r = run_step(balanced_chunks(4, 8, 2));
  EXPECT_EQ(peak_in_flight_microbatches(r.trace).front(), static_cast<int>(r.theory.peak_stash_microbatches));
}

TEST(Interleaved, CpuStepEqualsTheSingleDeviceStep) {
  RunConfig c;
  c.model.layers = 12;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 10;  // uneven micro-batches
  c.backend = BackendKind::Cpu;
  c.schedule = ScheduleKind::Interleaved1F1B;
  const StepNumerics reference = reference_step(c.model);
  for (int K : {2, 3})
    for (int v : {2, 3})
      for (bool remat : {false, true}) {
        c.devices = K;
        c.chunks = v;
        c.microbatches = K == 2 ? 4 : 3;
        c.remat = remat;
        const RunResult r = run_step(c);
        SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " v=" + std::to_string(v));
        ASSERT_TRUE(r.numerics.has_value());
        EXPECT_LE(max_relative_difference(*r.numerics, reference), kTransparencyTolerance);
        EXPECT_EQ(r.trace.meta.devices, K) << "metrics and memory stay per device";
      }
}

TEST(Interleaved, RefusesAnMThatIsNotAMultipleOfK) {
  try {
    interleaved_1f1b_schedule(4, 6, 2);
    FAIL() << "M = 6 accepted for K = 4";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("needs M a multiple of K"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("-M 8"), std::string::npos) << e.hint();
  }
  EXPECT_NO_THROW(interleaved_1f1b_schedule(4, 6, 1)) << "one chunk is 1F1B: any M";
}

TEST(Interleaved, TheValidatorNamesTheChunk) {
  Schedule s = interleaved_1f1b_schedule(2, 2, 2);
  // Drop device 0's forward of micro-batch 0 on chunk 1 (and its send and receive).
  auto& p = s.per_stage[0];
  p.erase(std::remove_if(p.begin(), p.end(),
                         [](const Action& a) { return a.chunk == 1 && a.microbatch == 0 && a.kind != ActionKind::Backward &&
                                                      a.kind != ActionKind::SendGrad && a.kind != ActionKind::RecvGrad; }),
          p.end());
  const std::string why = validation_error(s);
  EXPECT_NE(why.find("c1"), std::string::npos) << why;
  Schedule bad = interleaved_1f1b_schedule(2, 2, 2);
  bad.per_stage[1][0].chunk = 2;
  EXPECT_NE(validation_error(bad).find("names chunk 2 but the devices hold 2"), std::string::npos)
      << validation_error(bad);
}

}  // namespace
}  // namespace pipelab
