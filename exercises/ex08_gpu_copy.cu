// ex08_gpu_copy.cu — ex08 (GPU): move one activation to the next stage's GPU (lab 06).
//
// Contract: core/include/pipelab/exercise.h, ex08. Hints: labs/06_real_gpus/README.md,
// Part 3. Compiled only where CUDA is found; graded only on a machine with a GPU:
// scripts/grade ex08
#include <cuda_runtime.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

void copy_activation(const ActivationCopy& copy) {
  // TODO(ex08): copy_activation, as exercise.h (ex08) states it (the three streams are
  //   drawn in the handout, Part 3).
  (void)copy;
  throw NotImplemented("ex08: copy_activation");
}

}  // namespace pipelab
