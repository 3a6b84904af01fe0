// test_advise.cpp — the advisor: every schedule × M × remat tried once, ranked by step
// time, split by the memory cap.
//
// Oracles: each candidate re-run on its own with run_step (its step time and per-device
// peak recomputed independently of the advisor), and the count of candidates worked out
// from the registry and the M list by hand.
#include <gtest/gtest.h>

#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/runtime/advise.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

RunConfig small_sim() {
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.devices = 2;
  c.model.layers = 4;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 24;
  return c;
}

std::uint64_t peak_of(const RunResult& r) {
  return *std::max_element(r.metrics.peak_memory_bytes.begin(), r.metrics.peak_memory_bytes.end());
}

TEST(Advise, TriesEveryScheduleMAndRematOnce) {
  const std::vector<int> ms = {1, 2, 4, 32};  // 32 > B = 24: skipped
  const Advice a = advise(small_sim(), ms);
  // Per remat setting: naive once (M = 1), every other row at the 3 counts <= B.
  std::size_t expected = 0;
  for (const ScheduleInfo& row : schedule_registry()) expected += 2 * (row.microbatch_rule == MicrobatchRule::AsGiven ? 3 : 1);
  EXPECT_EQ(a.candidates.size(), expected);
  EXPECT_EQ(a.fitting, static_cast<int>(expected)) << "without a cap every configuration fits";
}

TEST(Advise, TheCapSplitsTheCandidatesByTheirOwnPeak) {
  RunConfig c = small_sim();
  const Advice uncapped = advise(c, {1, 2, 4, 8});
  std::vector<std::uint64_t> peaks;
  for (const Candidate& k : uncapped.candidates) peaks.push_back(k.peak_bytes);
  std::sort(peaks.begin(), peaks.end());
  c.device_memory_mib = static_cast<double>(peaks[peaks.size() / 2]) / (1024.0 * 1024.0);  // about half fit
  const Advice a = advise(c, {1, 2, 4, 8});
  ASSERT_GT(a.fitting, 0);
  ASSERT_LT(a.fitting, static_cast<int>(a.candidates.size()));
  for (std::size_t i = 0; i < a.candidates.size(); ++i) {
    const Candidate& k = a.candidates[i];
    ASSERT_TRUE(k.unavailable.empty()) << k.unavailable;
    RunConfig run = c;
    run.device_memory_mib = 0;
    run.schedule = k.schedule;
    run.microbatches = k.microbatches;
    run.remat = k.remat;
    const RunResult r = run_step(run);
    EXPECT_DOUBLE_EQ(k.step_ms, r.metrics.makespan_ms);
    EXPECT_EQ(k.peak_bytes, peak_of(r));
    EXPECT_EQ(k.fits, peak_of(r) <= a.cap_bytes) << to_string(k.schedule) << " M=" << k.microbatches;
    // Fitting ones first, fastest first.
    EXPECT_EQ(k.fits, static_cast<int>(i) < a.fitting);
    if (i > 0 && a.candidates[i - 1].fits == k.fits) {
      EXPECT_LE(a.candidates[i - 1].step_ms, k.step_ms * (1 + 1e-9));
    }
  }
}

TEST(Advise, FromMeasuredCostsOnCpu) {
  // --backend cpu: every candidate runs on real kernels and is timed by its replay. The
  // stash it measures is the cpu allocator's, against the sim allocator's for the same
  // configuration (one memory plan, two backends charging it; no remat and M dividing B,
  // where the cpu's timing cannot reorder the plan's charges). The one difference: the
  // cpu charges a received activation to its receiver when it is sent (the copy lands
  // then), the sim at the receiver's F, so the cpu may hold up to M inputs more
  // (seen: zb-h1, zb-h2, zbv at M = 4, one input more on the last device).
  RunConfig cpu = small_sim();
  cpu.backend = BackendKind::Cpu;
  const Advice measured = advise(cpu, {1, 2, 4});
  const Advice modelled = advise(small_sim(), {1, 2, 4});
  EXPECT_EQ(measured.cost_model, "replay");
  EXPECT_EQ(modelled.cost_model, "sim");
  ASSERT_EQ(measured.candidates.size(), modelled.candidates.size());
  int compared = 0;
  for (std::size_t i = 0; i < measured.candidates.size(); ++i) {
    const Candidate& k = measured.candidates[i];
    if (!k.unavailable.empty()) continue;
    SCOPED_TRACE(std::string(to_string(k.schedule)) + (k.remat ? "+remat" : "") + " M=" + std::to_string(k.microbatches));
    EXPECT_GT(k.step_ms, 0);
    EXPECT_GT(k.measured_ms, 0) << "the wall-clock step is kept beside the replay";
    EXPECT_GE(k.bubble_fraction, 0);
    EXPECT_LT(k.bubble_fraction, 1);
    if (i > 0 && measured.candidates[i - 1].unavailable.empty()) {
      EXPECT_LE(measured.candidates[i - 1].step_ms, k.step_ms * (1 + 1e-9)) << "fastest first";
    }
    if (k.remat) continue;
    for (const Candidate& s : modelled.candidates)
      if (s.schedule == k.schedule && s.microbatches == k.microbatches && !s.remat) {
        const std::uint64_t input_bytes = 4ull * (cpu.model.batch / k.microbatches) * cpu.model.width;
        EXPECT_GE(k.peak_stash_bytes, s.peak_stash_bytes);
        EXPECT_LE(k.peak_stash_bytes, s.peak_stash_bytes + k.microbatches * input_bytes);
        ++compared;
      }
  }
  EXPECT_GT(compared, 10);
  RunConfig cuda = small_sim();
  cuda.backend = BackendKind::Cuda;
  EXPECT_THROW(advise(cuda, {1, 2}), UsageError);
}

TEST(Advise, RefusesAnEmptyOrNonPositiveList) {
  EXPECT_THROW(advise(small_sim(), {}), UsageError);
  EXPECT_THROW(advise(small_sim(), {2, 0}), UsageError);
}

}  // namespace
}  // namespace pipelab
