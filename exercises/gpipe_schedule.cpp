// gpipe_schedule.cpp — ex02: the GPipe fill-drain schedule (lab 02).
//
// Contract: core/include/pipelab/exercise.h. Check your work: scripts/grade ex02
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule gpipe_schedule(int devices, int microbatches) {
  // TODO(ex02): GPipe fill-drain for K = devices stages and M = microbatches.
  //   - Unless devices >= 1 and microbatches >= 1, throw a pipelab::Error (PIPELAB_THROW).
  //   - Set name = "gpipe", stages = K, microbatches = M, per_stage.resize(K).
  //   - For each stage s:
  //       fill:  append_forward(program, s, m, K)  for m = 0, 1, ..., M-1
  //       drain: append_backward(program, s, m, K) for m = M-1, ..., 1, 0  (reverse!)
  //       then one {ActionKind::OptimizerStep, s, -1}: gradients of all M micro-batches
  //       were accumulated, so the parameters are updated once per step.
  (void)devices, (void)microbatches;
  throw NotImplemented("ex02: gpipe_schedule");
}

}  // namespace pipelab
