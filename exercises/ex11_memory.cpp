// ex11_memory.cpp — ex11 (bonus): each device's peak memory, predicted from the model's
// shapes, for data parallelism and for a pipeline stage (lab 00).
//
// Contracts: core/include/pipelab/exercise.h, ex11. Hints: labs/00_why_split/README.md,
// Part 4. Check your work: scripts/grade ex11
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

PeakMemory data_parallel_peak_memory(const ModelSpec& model, int devices, int device) {
  // TODO(ex11): data_parallel_peak_memory, as exercise.h (ex11) states it.
  //   Example: L=1 d=2 h=3 B=4, K=2, device 0: params = grads = 4 · (2·2·3 + 3 + 2) = 68
  //   bytes; stash = 2 rows · 4 · (2 + 2·3 + 2) = 80 bytes (x, a, g and the logits).
  (void)model, (void)devices, (void)device;
  throw NotImplemented("ex11: data_parallel_peak_memory");
}

PeakMemory pipeline_peak_memory(const ModelSpec& model, const Partition& partition, int stage, int microbatches,
                                bool remat) {
  // TODO(ex11): pipeline_peak_memory, as exercise.h (ex11) states it.
  (void)model, (void)partition, (void)stage, (void)microbatches, (void)remat;
  throw NotImplemented("ex11: pipeline_peak_memory");
}

}  // namespace pipelab
