// ex03_microbatches.cpp — ex03: micro-batch sizes and gradient accumulation (lab 03).
//
// Contracts: core/include/pipelab/exercise.h, ex03. Hints: labs/03_microbatches/README.md,
// Part 2. Check your work: scripts/grade ex03
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

std::vector<int> split_microbatches(int batch, int microbatches) {
  // TODO(ex03): split_microbatches, as exercise.h (ex03) states it.
  //   Example: split_microbatches(10, 3) == {4, 3, 3}.
  (void)batch, (void)microbatches;
  throw NotImplemented("ex03: split_microbatches");
}

float microbatch_loss_scale(int microbatch_rows, int batch) {
  // TODO(ex03): microbatch_loss_scale, as exercise.h (ex03) states it.
  (void)microbatch_rows, (void)batch;
  throw NotImplemented("ex03: microbatch_loss_scale");
}

}  // namespace pipelab
