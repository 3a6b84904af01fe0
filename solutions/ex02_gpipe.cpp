// ex02_gpipe.cpp — ex02 reference: GPipe fill-drain.
//
// The batch is cut into M micro-batches. Every stage runs all M forwards, then all
// M backwards in reverse order, then one optimizer step. With balanced stages of
// forward time t_f and backward time t_b, a step takes (M + K - 1)(t_f + t_b) and
// each stage is busy M(t_f + t_b): utilization M / (M + K - 1).
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule gpipe_schedule(int devices, int microbatches) {
  Schedule schedule = start_schedule(ScheduleKind::Gpipe, "gpipe_schedule", devices, microbatches);
  for (int s = 0; s < devices; ++s) {
    auto& program = schedule.per_stage[s];
    program.reserve(6 * static_cast<std::size_t>(microbatches) + 1);
    // Fill: F of micro-batch 0..M-1. Stage s starts F0 after s forward slots.
    for (int m = 0; m < microbatches; ++m) append_forward(program, s, m, devices);
    // Drain: B of micro-batch M-1..0; the last forward's activations are used first.
    for (int m = microbatches - 1; m >= 0; --m) append_backward(program, s, m, devices);
    // Gradients of all micro-batches are accumulated: one update per step.
    program.push_back({ActionKind::OptimizerStep, s, -1});
  }
  return schedule;
}

}  // namespace pipelab
