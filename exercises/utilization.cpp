// utilization.cpp — ex04: utilization and bubble fraction of one step's trace (lab 01).
//
// Contract: core/include/pipelab/exercise.h. Check your work: scripts/grade ex04
#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

TraceUtilization measure_utilization(const Trace& trace) {
  // TODO(ex04): the DESIGN.md metrics of one step, for K = trace.meta.devices devices.
  //   1. Makespan T = max(end_us()) - min(start_us) over ALL events (every lane);
  //      0 for a trace without events.
  //   2. Per device d (0..K-1, also devices without events): busy_us[d] = busy_time
  //      of d's compute spans — only events whose action is F, B or Recompute
  //      (is_compute(kind) in schedule.h); OptimizerStep and send/recv are not busy.
  //   3. utilization[d] = busy_us[d] / T (0 when T is 0).
  //   4. mean_utilization = mean of utilization[d]; bubble_fraction = 1 - mean
  //      (both 0 when T is 0 or K is 0).
  //   Throw a pipelab::Error (PIPELAB_THROW) for an event whose device is outside [0, K).
  (void)trace;
  throw NotImplemented("ex04: measure_utilization");
}

}  // namespace pipelab
