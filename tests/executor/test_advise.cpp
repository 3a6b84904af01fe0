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

TEST(Advise, RefusesAnEmptyOrNonPositiveList) {
  EXPECT_THROW(advise(small_sim(), {}), UsageError);
  EXPECT_THROW(advise(small_sim(), {2, 0}), UsageError);
}

}  // namespace
}  // namespace pipelab
