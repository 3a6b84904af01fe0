// ex04_measuring.cpp — ex04: busy time, utilization and bubble of one step's trace (lab 01).
//
// Contracts: core/include/pipelab/exercise.h, ex04; the definitions: docs/metrics.md,
// "Definitions for one step".
// Hints: labs/01_naive_mp/README.md, Part 3. Check your work: scripts/grade ex04
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

double busy_time(std::vector<Interval> spans) {
  // TODO(ex04): busy_time, as exercise.h (ex04) states it.
  //   Example: busy_time({{0, 2}, {1, 3}, {5, 6}}) == 4 ([0, 3) and [5, 6)).
  (void)spans;
  throw NotImplemented("ex04: busy_time");
}

TraceUtilization measure_utilization(const Trace& trace) {
  // TODO(ex04): measure_utilization, as exercise.h (ex04) states it.
  //   Example: 2 devices, F on device 0 over [0, 10) and on device 1 over [10, 20):
  //   makespan 20, busy {10, 10}, utilization {0.5, 0.5}, bubble 0.5.
  (void)trace;
  throw NotImplemented("ex04: measure_utilization");
}

}  // namespace pipelab
