// ex09_one_f_one_b.cpp — ex09 reference: the 1F1B (PipeDream-Flush) schedule.
#include <algorithm>

#include "pipelab/exercise.h"

namespace pipelab {

Schedule one_f_one_b_schedule(int devices, int microbatches) {
  Schedule s = start_schedule(ScheduleKind::OneFOneB, "one_f_one_b_schedule", devices, microbatches);
  for (int stage = 0; stage < devices; ++stage) {
    auto& program = s.per_stage[stage];
    // Warm-up: stage s runs K - s forwards before its first backward, so at most
    // K - s micro-batches are stashed at once (GPipe stashes all M).
    const int warmup = std::min(devices - stage, microbatches);
    int next_f = 0, next_b = 0;
    for (; next_f < warmup; ++next_f) append_forward(program, stage, next_f, devices);
    // Steady state: one backward, then one forward.
    while (next_f < microbatches) {
      append_backward(program, stage, next_b++, devices);
      append_forward(program, stage, next_f++, devices);
    }
    // Cool-down: the remaining backwards.
    while (next_b < microbatches) append_backward(program, stage, next_b++, devices);
    program.push_back({ActionKind::OptimizerStep, stage, -1});
  }
  return s;
}

}  // namespace pipelab
