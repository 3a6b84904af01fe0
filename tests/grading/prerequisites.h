// prerequisites.h — what a graded test's points need before its own check counts.
//
// The grader never rewards an invalid program: a test that uses a student's schedule,
// partition or micro-batch split first checks that output is valid, over the same
// inputs as the exercise's validity test, and fails with
//   "<the invalid call and why>; these points need a valid schedule: fix NaiveSchedule.ValidForAnyK first"
// A test whose numbers go through another student function (busy_time under
// measure_utilization, the ex01-ex04 functions under utilization_table) names that
// function when it is the one at fault: "these tests call your busy_time: fix BusyTime.* first".
//
// Not gated: tests that compare with a literal program or partition (a literal is
// valid, so only a valid output can match it, and the difference says more than
// "invalid"), and tests that never call the output's function (StashPeak.* uses
// hand-built schedules, not with_recompute).
#pragma once

#include <string>

#include "grading.h"

namespace pipelab::grading {

/// Fails the test here (fatal) unless `problem` is "": a prerequisite is not met.
#define GRADE_REQUIRE(problem)            \
  do {                                    \
    const std::string unmet_ = (problem); \
    if (!unmet_.empty()) FAIL() << unmet_; \
  } while (0)

/// "" when `problem` is "", else the first line of a failure whose points need
/// something else first: "<problem>; these points need <needs>: fix <test> first".
std::string needs_first(const std::string& problem, const std::string& needs, const std::string& test);

/// "" when `problem` is "", else the first line of a failure whose cause is another
/// student function: "<problem>; these tests call your <function>: fix <test> first".
std::string calls_yours(const std::string& problem, const std::string& function, const std::string& test);

/// validation_error(schedule), with a note that its action numbers (#N) are 0-based.
std::string schedule_validation_error(const Schedule& schedule);

// ------------------------------------------------------------ validity sweeps
// Each returns "" when every output over its sweep is valid, else the first invalid
// call and why. The validity test named in the comment runs the same sweep.

/// naive_schedule(K), K = 1..16: K stages, 1 micro-batch, passes validate()
/// (NaiveSchedule.ValidForAnyK).
std::string naive_schedule_problem();
/// gpipe_schedule(K, M), K = 1..8, M = 1..16 (GpipeSchedule.PassesValidator).
std::string gpipe_schedule_problem();
/// one_f_one_b_schedule(K, M), K = 1..8, M = 1..16 (OneFOneB.PassesValidator).
std::string one_f_one_b_schedule_problem();
/// zb_h1_schedule(K, M), K = 1..8, M = 1..16 (ZbH1.PassesValidator).
std::string zb_h1_schedule_problem();
/// with_recompute of hand-built fill-drain and 1F1B schedules, K = 1..5, M = 1..6
/// (Remat.KeepsEverythingElse).
std::string with_recompute_problem();
/// even_partition(L, K), L = 1..24, K = 1..L: K contiguous non-empty stages covering
/// every layer (EvenPartition.SizesDifferByAtMostOneLargestFirst).
std::string even_partition_problem();
/// split_microbatches(B, M), B = 1..40, M = 1..B: M sizes, each >= 1, adding up to B
/// (MicrobatchSplit.SizesAddUpLargestFirst).
std::string split_microbatches_problem();

// ------------------------------------------------------------ the gates
// needs_first over each sweep, naming its validity test: GRADE_REQUIRE(valid_naive_schedule()).
std::string valid_naive_schedule();
std::string valid_gpipe_schedule();
std::string valid_one_f_one_b_schedule();
std::string valid_zb_h1_schedule();
std::string valid_with_recompute();
std::string valid_even_partition();
/// For tests of other functions that run split_microbatches (the cpu and sim backends
/// split the batch with it): "these tests call your split_microbatches: ...".
std::string valid_split_microbatches();

}  // namespace pipelab::grading
