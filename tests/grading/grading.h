// grading.h — what the graded tests share: oracles that are independent of the
// exercise code, hand-built inputs, and failure messages a student can act on.
//
// Rules for every graded test (docs/instructor/grading.md says more):
//   - The oracle is never an exercise function (neither the student's nor the
//     reference in solutions/): it is a literal written by hand, a brute force, a
//     unit-time simulation written here, validate(), or reference_step().
//   - The first line of a failure says what is wrong in the student's terms; details
//     (the whole schedule, ...) follow on later lines. scripts/grade shows line one.
//   - A test that needs another exercise says so in points.json ("needs"); when that
//     exercise is missing the NotImplemented message names it.
//   - A test never rewards invalid output: one that uses a schedule, partition or
//     split a student wrote checks it is valid first (prerequisites.h), and names the
//     function at fault when it is another one ("these tests call your busy_time").
//   - Action numbers in messages count from 0 and say so: "action #4 (0-based)".
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "pipelab/model/config.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/model/partition.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab::grading {

// ------------------------------------------------------------ failure messages
/// Non-fatal check with a one-line message (first line of the grader's FAIL reason).
#define GRADE_EXPECT(cond, message)        \
  do {                                     \
    if (!(cond)) ADD_FAILURE() << message; \
  } while (0)
/// Fatal check: the test stops here.
#define GRADE_ASSERT(cond, message) \
  do {                              \
    if (!(cond)) FAIL() << message; \
  } while (0)

/// Calls `call`, which must throw a pipelab::Error for an invalid argument. Returns ""
/// when it did, else what happened instead. NotImplemented does not count: an untouched
/// skeleton must not earn the points of an input check.
std::string throws_error(const std::function<void()>& call);

// ------------------------------------------------------------ actions and programs
Action F(int stage, int microbatch);
Action B(int stage, int microbatch);
Action R(int stage, int microbatch);
Action SA(int stage, int microbatch);  ///< SendActivation
Action RA(int stage, int microbatch);  ///< RecvActivation
Action SG(int stage, int microbatch);  ///< SendGrad
Action RG(int stage, int microbatch);  ///< RecvGrad
Action Opt(int stage);

/// "RecvAct0 F0 SendAct0 Opt" — one stage's program on one line.
std::string program_text(const std::vector<Action>& program);

/// "" when `got` has exactly the expected programs, else the first difference as one
/// line ("stage 1, action #4 (0-based): got B0, expected B1"), then both schedules.
std::string program_difference(const Schedule& got, const std::vector<std::vector<Action>>& expected);

/// Hand-built inputs for tests of *other* exercises (ex07 needs a schedule to
/// transform; it must not depend on the student's ex02). Never used as the oracle
/// of the generator they resemble.
Schedule fixture_fill_drain(int stages, int microbatches);
Schedule fixture_one_f_one_b(int stages, int microbatches);
/// fixture_fill_drain with Recompute written in by hand (not by with_recompute).
Schedule fixture_fill_drain_remat(int stages, int microbatches);
/// Stages of `layers_per_stage` layers each (not even_partition: that is ex01).
Partition fixture_partition(int stages, int layers_per_stage);

// ------------------------------------------------------------ unit-time simulation
/// Result of running a schedule where each action takes a fixed time.
struct TimedRun {
  std::string error;                 ///< "" or why the schedule cannot run (deadlock, bad ids)
  double makespan = 0;               ///< end of the last action
  std::vector<double> busy;          ///< per stage: time in F, B and R
  std::vector<std::vector<Interval>> compute_spans;  ///< per stage, in program order
};

/// An independent discrete-event model: stage s runs its program in order; F and R
/// take `forward`, B takes `backward`, sends, the optimizer step and links are free;
/// a receive waits for its matching send. Written here, not in core/.
TimedRun unit_time_run(const Schedule& schedule, double forward, double backward);

// ------------------------------------------------------------ measuring oracles
/// Length of a union of intervals by brute force over elementary segments (O(n²)),
/// a different method from the sort-and-sweep the exercise asks for.
double union_length_brute_force(const std::vector<Interval>& spans);

/// Per-device metrics of a trace from first principles (docs/metrics.md, "Definitions for one step").
struct OracleMetrics {
  double makespan_us = 0;
  std::vector<double> busy_us;
  std::vector<double> utilization;
  double mean_utilization = 0;
};
OracleMetrics oracle_metrics(const Trace& trace);

/// Peak number of micro-batches held between F and B on one stage, counted directly.
int oracle_peak_in_flight(const std::vector<Action>& program);

// ------------------------------------------------------------ partitions
/// Largest stage cost of a partition, summed left to right (the order stage_costs uses).
double max_stage_cost(const Partition& p, const std::vector<double>& costs);
/// "" if p is K contiguous non-empty ranges covering all layers, else why not.
std::string partition_problem(const Partition& p, int layers, int stages);
/// Smallest possible largest stage cost, by trying every partition (L <= 14).
double brute_force_min_max(const std::vector<double>& costs, int stages);

// ------------------------------------------------------------ small runs
/// A model small enough for a cpu step in milliseconds; batch 37 (prime) so most M
/// give uneven micro-batches.
RunConfig tiny_cpu_config(int devices, int layers_per_stage);

}  // namespace pipelab::grading
