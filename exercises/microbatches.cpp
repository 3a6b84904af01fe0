// microbatches.cpp — ex03: micro-batch sizes and gradient accumulation (lab 03).
//
// Contracts: core/include/pipelab/exercise.h. Check your work: scripts/grade ex03
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

std::vector<int> split_microbatches(int batch, int microbatches) {
  // TODO(ex03): sizes of M = microbatches micro-batches of a batch of B = batch samples,
  //   like numpy.array_split: every size is B / M, and the first B % M get one more
  //   (B = 10, M = 3: {4, 3, 3}). The sizes add up to B.
  //   Unless 1 <= microbatches <= batch, throw a pipelab::Error (PIPELAB_THROW).
  (void)batch, (void)microbatches;
  throw NotImplemented("ex03: split_microbatches");
}

float microbatch_loss_scale(int microbatch_rows, int batch) {
  // TODO(ex03): the factor each row's loss (and gradient) is multiplied by when a
  //   micro-batch of `microbatch_rows` rows runs, so that the gradients accumulated
  //   over all micro-batches equal the gradient of the mean loss over the whole batch.
  //   Think about uneven micro-batches (B = 10, M = 3): is the mean of the three
  //   micro-batch means the batch mean?
  (void)microbatch_rows, (void)batch;
  throw NotImplemented("ex03: microbatch_loss_scale");
}

}  // namespace pipelab
