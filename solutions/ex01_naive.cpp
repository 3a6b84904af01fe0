// ex01_naive.cpp — ex01 reference: naive model parallelism.
//
// even_partition: L layers into K contiguous stages, sizes differ by at most one.
// naive_schedule: one batch flows forward through stage 0..K-1, then backward
// through K-1..0. At any moment exactly one stage computes, so utilization is 1/K.
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Partition even_partition(int layers, int devices) {
  if (devices < 1 || devices > layers)
    PIPELAB_THROW("cannot split " + std::to_string(layers) + " layers evenly over " +
                      std::to_string(devices) + " devices",
                  "every stage needs at least one layer: use 1 <= devices <= layers");
  // Stage s owns base = L / K layers, plus one of the L % K left over if s < L % K.
  const int base = layers / devices;
  const int extra = layers % devices;
  Partition p;
  p.boundaries.reserve(devices + 1);
  p.boundaries.push_back(0);
  for (int s = 0; s < devices; ++s) p.boundaries.push_back(p.boundaries.back() + base + (s < extra ? 1 : 0));
  return p;
}

Schedule naive_schedule(int devices) {
  Schedule schedule = start_schedule(ScheduleKind::Naive, "naive_schedule", devices, /*microbatches=*/1);
  for (int s = 0; s < devices; ++s) {
    auto& program = schedule.per_stage[s];
    // Each stage: receive input, F, send output; later receive output-grad, B, send input-grad.
    // The receives make stage s wait for s-1 (forward) and s+1 (backward): one stage at a time.
    append_forward(program, s, /*microbatch=*/0, devices);
    append_backward(program, s, /*microbatch=*/0, devices);
    program.push_back({ActionKind::OptimizerStep, s, -1});
  }
  return schedule;
}

}  // namespace pipelab
