// pipelab/backends/microbatches.h — where each micro-batch's rows lie in the batch, as
// the backends with real numerics (cpu, cuda) read them. Header-only.
#pragma once

#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

/// The batch's B rows split into M micro-batches: micro-batch m is rows
/// [offsets[m], offsets[m + 1]) of the batch, and rows[m] = offsets[m + 1] − offsets[m].
struct MicrobatchRows {
  std::vector<int> rows;     ///< M sizes, from split_microbatches (ex03)
  std::vector<int> offsets;  ///< M + 1 prefix sums of `rows`: offsets[0] = 0, offsets[M] = B
};

/// The sizes split_microbatches(batch, microbatches) returns, and their prefix sums.
/// Throws pipelab::Error unless the sizes add up to the batch.
inline MicrobatchRows microbatch_rows(int batch, int microbatches) {
  MicrobatchRows mb;
  mb.rows = split_microbatches(batch, microbatches);
  mb.offsets.push_back(0);
  for (int r : mb.rows) mb.offsets.push_back(mb.offsets.back() + r);
  if (mb.offsets.back() != batch)
    PIPELAB_THROW("micro-batch sizes add up to " + std::to_string(mb.offsets.back()) + ", not the batch " +
                      std::to_string(batch),
                  "split_microbatches (ex03) must return sizes that sum to the batch");
  return mb;
}

}  // namespace pipelab
