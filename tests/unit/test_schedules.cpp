// test_schedules.cpp — naive_schedule, gpipe_schedule and split_microbatches against
// hand-written schedules, structural properties, and a unit-time simulation whose
// makespan must match the fill-drain formula 2 (M + K - 1); and every generator's
// input checks (K < 1, M < 1), one_f_one_b_schedule's included.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/schedule/validate.h"
#include "action_shorthand.h"

namespace pipelab {
namespace {

using namespace shorthand;  // F, B, SA, ..., make (action_shorthand.h)

void expect_programs(const Schedule& got, const std::vector<std::vector<Action>>& expected) {
  ASSERT_EQ(got.per_stage.size(), expected.size());
  for (std::size_t s = 0; s < expected.size(); ++s) {
    ASSERT_EQ(got.per_stage[s].size(), expected[s].size()) << "stage " << s << "\n" << describe(got);
    for (std::size_t i = 0; i < expected[s].size(); ++i)
      EXPECT_EQ(got.per_stage[s][i], expected[s][i])
          << "stage " << s << " #" << i << ": got " << to_string(got.per_stage[s][i]) << ", expected "
          << to_string(expected[s][i]);
  }
}

// ---------------------------------------------------------------- naive

TEST(NaiveSchedule, ThreeStagesLiteral) {
  const Schedule s = naive_schedule(3);
  EXPECT_EQ(s.name(), "naive");
  EXPECT_EQ(s.stages, 3);
  EXPECT_EQ(s.microbatches, 1);
  expect_programs(s, {{F(0, 0), SA(0, 0), RG(0, 0), B(0, 0), Opt(0)},
                      {RA(1, 0), F(1, 0), SA(1, 0), RG(1, 0), B(1, 0), SG(1, 0), Opt(1)},
                      {RA(2, 0), F(2, 0), B(2, 0), SG(2, 0), Opt(2)}});
}

TEST(NaiveSchedule, OneStageHasNoCommunication) {
  expect_programs(naive_schedule(1), {{F(0, 0), B(0, 0), Opt(0)}});
}

TEST(NaiveSchedule, RejectsZeroDevices) { EXPECT_THROW(naive_schedule(0), Error); }

// ---------------------------------------------------------------- gpipe

TEST(GpipeSchedule, TwoByTwoLiteral) {
  const Schedule s = gpipe_schedule(2, 2);
  EXPECT_EQ(s.name(), "gpipe");
  EXPECT_EQ(s.stages, 2);
  EXPECT_EQ(s.microbatches, 2);
  expect_programs(s, {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
                      {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), B(1, 0), SG(1, 0), Opt(1)}});
}

TEST(GpipeSchedule, ThreeByThreeMiddleStageLiteral) {
  expect_programs(gpipe_schedule(3, 3),
                  {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), F(0, 2), SA(0, 2), RG(0, 2), B(0, 2), RG(0, 1),
                    B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
                   {RA(1, 0), F(1, 0), SA(1, 0), RA(1, 1), F(1, 1), SA(1, 1), RA(1, 2), F(1, 2), SA(1, 2),
                    RG(1, 2), B(1, 2), SG(1, 2), RG(1, 1), B(1, 1), SG(1, 1), RG(1, 0), B(1, 0), SG(1, 0),
                    Opt(1)},
                   {RA(2, 0), F(2, 0), RA(2, 1), F(2, 1), RA(2, 2), F(2, 2), B(2, 2), SG(2, 2), B(2, 1),
                    SG(2, 1), B(2, 0), SG(2, 0), Opt(2)}});
}

TEST(GpipeSchedule, OneMicrobatchEqualsNaiveButForName) {
  for (int k = 1; k <= 8; ++k) {
    const Schedule g = gpipe_schedule(k, 1);
    const Schedule n = naive_schedule(k);
    EXPECT_EQ(g.name(), "gpipe");
    EXPECT_EQ(g.per_stage, n.per_stage) << "K=" << k;
  }
}

TEST(GpipeSchedule, FillThenDrainOrder) {
  for (int k = 1; k <= 8; ++k) {
    for (int m = 1; m <= 16; ++m) {
      const Schedule s = gpipe_schedule(k, m);
      ASSERT_EQ(s.stages, k);
      ASSERT_EQ(s.microbatches, m);
      for (int st = 0; st < k; ++st) {
        std::vector<Action> compute;
        for (const Action& a : s.per_stage[st])
          if (is_compute(a.kind)) compute.push_back(a);
        // Fill: F0..F(M-1); drain: B(M-1)..B0.
        ASSERT_EQ(compute.size(), static_cast<std::size_t>(2 * m)) << "K=" << k << " M=" << m;
        for (int i = 0; i < m; ++i) {
          EXPECT_EQ(compute[i], F(st, i));
          EXPECT_EQ(compute[m + i], B(st, m - 1 - i));
        }
        ASSERT_FALSE(s.per_stage[st].empty());
        EXPECT_EQ(s.per_stage[st].back(), Opt(st));
        EXPECT_EQ(std::count(s.per_stage[st].begin(), s.per_stage[st].end(), Opt(st)), 1);
      }
    }
  }
}

TEST(GpipeSchedule, AllSizesValidate) {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) EXPECT_EQ(validation_error(gpipe_schedule(k, m)), "") << k << "x" << m;
}

TEST(GpipeSchedule, RejectsBadSizes) {
  EXPECT_THROW(gpipe_schedule(0, 4), Error);
  EXPECT_THROW(gpipe_schedule(4, 0), Error);
}

// Unit-time execution: F and B take 1, communication is free, a receive waits for its
// send. Returns (makespan, busy time per stage). An oracle independent of the generators.
std::pair<int, std::vector<int>> unit_time_run(const Schedule& schedule) {
  const int k = schedule.stages;
  std::vector<int> clock(k, 0), busy(k, 0);
  std::vector<std::size_t> pc(k, 0);
  // act_time[s][m] / grad_time[s][m]: when stage s sent it (-1: not yet).
  std::vector<std::vector<int>> act_time(k, std::vector<int>(schedule.microbatches, -1));
  std::vector<std::vector<int>> grad_time(k, std::vector<int>(schedule.microbatches, -1));
  bool moved = true;
  while (moved) {
    moved = false;
    for (int s = 0; s < k; ++s) {
      const auto& p = schedule.per_stage[s];
      while (pc[s] < p.size()) {
        const Action& a = p[pc[s]];
        if (a.kind == K::RecvActivation) {
          const int t = act_time[s - 1][a.microbatch];
          if (t < 0) break;
          clock[s] = std::max(clock[s], t);
        } else if (a.kind == K::RecvGrad) {
          const int t = grad_time[s + 1][a.microbatch];
          if (t < 0) break;
          clock[s] = std::max(clock[s], t);
        } else if (a.kind == K::SendActivation) {
          act_time[s][a.microbatch] = clock[s];
        } else if (a.kind == K::SendGrad) {
          grad_time[s][a.microbatch] = clock[s];
        } else if (is_compute(a.kind)) {
          clock[s] += 1;
          busy[s] += 1;
        }
        ++pc[s];
        moved = true;
      }
    }
  }
  return {*std::max_element(clock.begin(), clock.end()), busy};
}

TEST(GpipeSchedule, UnitTimeMakespanIsTwiceMPlusKMinusOne) {
  // Fill-drain with t_f = t_b = 1: T = 2 (M + K - 1), busy = 2M, utilization M / (M + K - 1).
  for (int k = 1; k <= 8; ++k) {
    for (int m = 1; m <= 16; ++m) {
      const auto [makespan, busy] = unit_time_run(gpipe_schedule(k, m));
      EXPECT_EQ(makespan, 2 * (m + k - 1)) << "K=" << k << " M=" << m;
      for (int b : busy) EXPECT_EQ(b, 2 * m);
    }
  }
}

TEST(NaiveSchedule, UnitTimeUtilizationIsOneOverK) {
  // One batch: T = 2K, each stage busy 2: utilization 1/K.
  for (int k = 1; k <= 8; ++k) {
    const auto [makespan, busy] = unit_time_run(naive_schedule(k));
    EXPECT_EQ(makespan, 2 * k);
    for (int b : busy) EXPECT_EQ(b, 2);
  }
}

// ---------------------------------------------------------------- micro-batches

TEST(SplitMicrobatches, MatchesNumpyArraySplitLiterals) {
  // numpy.array_split(np.arange(B), M) sizes.
  EXPECT_EQ(split_microbatches(10, 3), (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(split_microbatches(11, 4), (std::vector<int>{3, 3, 3, 2}));
  EXPECT_EQ(split_microbatches(8, 4), (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(split_microbatches(7, 7), (std::vector<int>(7, 1)));
  EXPECT_EQ(split_microbatches(5, 1), (std::vector<int>{5}));
  EXPECT_EQ(split_microbatches(7, 5), (std::vector<int>{2, 2, 1, 1, 1}));
}

TEST(SplitMicrobatches, SumsToBatchLargerFirstDifferByAtMostOne) {
  for (int batch = 1; batch <= 64; ++batch) {
    for (int m = 1; m <= batch; ++m) {
      const auto sizes = split_microbatches(batch, m);
      ASSERT_EQ(sizes.size(), static_cast<std::size_t>(m));
      EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), 0), batch);
      EXPECT_TRUE(std::is_sorted(sizes.rbegin(), sizes.rend())) << batch << "/" << m;  // non-increasing
      EXPECT_LE(sizes.front() - sizes.back(), 1);
      EXPECT_GE(sizes.back(), 1);
    }
  }
}

TEST(SplitMicrobatches, RejectsMoreMicrobatchesThanSamples) {
  EXPECT_THROW(split_microbatches(3, 4), Error);
  EXPECT_THROW(split_microbatches(3, 0), Error);
}

// ---------------------------------------------------------------- input checks
// Every generator starts from start_schedule (exercise.h), so every one rejects K < 1 and
// M < 1 the same way: a pipelab::Error whose message names the generator.

// The message of the pipelab::Error that `call` throws ("" and a failure when it throws none).
std::string error_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const NotImplemented& e) {
    ADD_FAILURE() << "threw " << e.message() << ", expected an input check";
    return "";
  } catch (const Error& e) {
    return e.message();
  }
  ADD_FAILURE() << "threw no pipelab::Error";
  return "";
}

constexpr auto npos = std::string::npos;

TEST(ScheduleGenerators, RejectFewerThanOneDevice) {
  for (int k : {0, -1}) {
    EXPECT_NE(error_message([&] { naive_schedule(k); }).find("naive_schedule"), npos) << "K=" << k;
    EXPECT_NE(error_message([&] { gpipe_schedule(k, 4); }).find("gpipe_schedule"), npos) << "K=" << k;
    EXPECT_NE(error_message([&] { one_f_one_b_schedule(k, 4); }).find("one_f_one_b_schedule"), npos) << "K=" << k;
  }
}

TEST(ScheduleGenerators, RejectFewerThanOneMicrobatch) {
  for (int m : {0, -1}) {
    EXPECT_NE(error_message([&] { gpipe_schedule(4, m); }).find("gpipe_schedule"), npos) << "M=" << m;
    EXPECT_NE(error_message([&] { one_f_one_b_schedule(4, m); }).find("one_f_one_b_schedule"), npos) << "M=" << m;
  }
}

}  // namespace
}  // namespace pipelab
