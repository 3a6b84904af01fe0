// ex10_zero_bubble.cpp — ex10 reference: ZB-H1 (Qi et al., "Zero Bubble Pipeline
// Parallelism", ICLR 2024, section 2), one stage per device.
#include "pipelab/exercise.h"

namespace pipelab {

Schedule zb_h1_schedule(int devices, int microbatches) {
  Schedule s = start_schedule(ScheduleKind::ZbH1, "zb_h1_schedule", devices, microbatches);
  for (int stage = 0; stage < devices; ++stage) {
    std::vector<Action>& program = s.per_stage[stage];
    // Stage s delays its I's by d_i = K - 1 - s triples: the K - 1 - s extra warm-up
    // forwards of 1F1B, so it runs K - s forwards before its first I. Every W is delayed
    // by d_w = K - 1: stage 0 runs F, I, W back to back (1F1B's order with B split), and
    // the last stage keeps K micro-batches from F to W like the first (d_w + 1 in flight).
    const int delay_input = devices - 1 - stage;
    const int delay_weight = devices - 1;
    // x runs until the last W (index M - 1 = x - d_w); indices outside [0, M) are the
    // warm-up (no I or W yet) and the cool-down (no F left) of the triple.
    for (int x = 0; x < microbatches + delay_weight; ++x) {
      if (x < microbatches) append_forward(program, stage, x, devices);
      const int i = x - delay_input;
      if (i >= 0 && i < microbatches) append_backward_input(program, stage, i, devices);
      const int w = x - delay_weight;
      if (w >= 0 && w < microbatches) append_weight_backward(program, stage, w);
    }
    program.push_back({ActionKind::OptimizerStep, stage, -1});
  }
  return s;
}

}  // namespace pipelab
