// one_f_one_b.cpp — ex09 (bonus): the 1F1B schedule (lab 07).
//
// Contract: core/include/pipelab/exercise.h. Check your work: scripts/grade ex09
#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule one_f_one_b_schedule(int devices, int microbatches) {
  // TODO(ex09): 1F1B (PipeDream-Flush) for K = devices, M = microbatches.
  //   name = "1f1b", stages = K, microbatches = M, per_stage.resize(K). For each stage s:
  //     warm-up:   append_forward for the first min(K - s, M) micro-batches (0, 1, ...)
  //     steady:    while forwards remain: append_backward(next B), append_forward(next F)
  //     cool-down: append_backward for the remaining micro-batches
  //     then one {ActionKind::OptimizerStep, s, -1}.
  //   Forwards and backwards both go in micro-batch order 0..M-1.
  (void)devices, (void)microbatches;
  throw NotImplemented("ex09: one_f_one_b_schedule");
}

}  // namespace pipelab
