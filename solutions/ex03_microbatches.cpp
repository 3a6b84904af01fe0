// ex03_microbatches.cpp — ex03 reference: micro-batch sizes, like numpy.array_split, and
// the loss scale that makes accumulated gradients the full batch's.
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

std::vector<int> split_microbatches(int batch, int microbatches) {
  if (microbatches < 1 || microbatches > batch)
    PIPELAB_THROW("cannot split a batch of " + std::to_string(batch) + " into " +
                      std::to_string(microbatches) + " micro-batches",
                  "every micro-batch needs at least one sample: use 1 <= microbatches <= batch");
  // size_m = B / M, plus one for the first B % M micro-batches; the sizes sum to B.
  const int base = batch / microbatches;
  const int extra = batch % microbatches;
  std::vector<int> sizes(microbatches, base);
  for (int m = 0; m < extra; ++m) ++sizes[m];
  return sizes;
}

float microbatch_loss_scale(int microbatch_rows, int batch) {
  (void)microbatch_rows;
  // The step's loss is the mean over the whole batch, (1/B) Σ_i loss_i. A
  // micro-batch contributes its rows' terms, each scaled by 1/B — not 1/b: the
  // mean of micro-batch means is wrong when micro-batches are uneven.
  return 1.0f / static_cast<float>(batch);
}

}  // namespace pipelab
