// ex11_memory.cpp — ex11 reference: each device's peak memory, in bytes by category, for
// data parallelism and for a fill-drain pipeline stage, from the model's shapes alone.
//
// Written from the shapes (fp32 = 4 bytes), not from StageMemoryPlan
// (model/memory_plan.h): that plan is what the backends charge, and the graded tests
// compare this file with their allocators.
#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

namespace {

constexpr std::uint64_t kFloatBytes = 4;  // fp32

// One block's parameters: W1 (h, d) + b1 (h) + W2 (d, h) + b2 (d) floats.
std::uint64_t block_param_bytes(const ModelSpec& model) {
  const std::uint64_t d = static_cast<std::uint64_t>(model.width);
  const std::uint64_t h = static_cast<std::uint64_t>(model.hidden);
  return kFloatBytes * (2 * d * h + h + d);
}

// What F keeps per row of its micro-batch on a stage of `blocks` blocks: each block's
// input x (d floats) and its a and g (h floats each), and on the last stage the logits (d).
std::uint64_t stash_bytes_per_row(const ModelSpec& model, int blocks, bool last_stage) {
  const std::uint64_t d = static_cast<std::uint64_t>(model.width);
  const std::uint64_t h = static_cast<std::uint64_t>(model.hidden);
  std::uint64_t floats = static_cast<std::uint64_t>(blocks) * (d + 2 * h);
  if (last_stage) floats += d;  // the logits (b, d), kept for the loss backward
  return kFloatBytes * floats;
}

// Rows of share `index` of `batch` split into `parts`: B / P, one more for the first
// B mod P (split_microbatches' rule, written out so the predictor needs no run).
std::uint64_t share_rows(int batch, int parts, int index) {
  return static_cast<std::uint64_t>(batch / parts + (index < batch % parts ? 1 : 0));
}

}  // namespace

PeakMemory data_parallel_peak_memory(const ModelSpec& model, int devices, int device) {
  if (devices < 1 || devices > model.batch)
    PIPELAB_THROW("data_parallel_peak_memory: cannot split a batch of " + std::to_string(model.batch) + " over " +
                      std::to_string(devices) + " replicas",
                  "every replica needs at least one row: use 1 <= devices <= batch");
  if (device < 0 || device >= devices)
    PIPELAB_THROW("data_parallel_peak_memory: device " + std::to_string(device) + " is not one of the " +
                      std::to_string(devices) + " replicas",
                  "use 0 <= device < devices");
  PeakMemory peak;
  // Every replica holds every layer: L blocks of parameters, and as many gradients.
  peak.params = static_cast<std::uint64_t>(model.layers) * block_param_bytes(model);
  peak.grads = peak.params;
  // One micro-batch (its share) through all L blocks; each device is its replica's last stage.
  peak.stash = share_rows(model.batch, devices, device) * stash_bytes_per_row(model, model.layers, true);
  return peak;
}

PeakMemory pipeline_peak_memory(const ModelSpec& model, const Partition& partition, int stage, int microbatches,
                                bool remat) {
  if (stage < 0 || stage >= partition.stages())
    PIPELAB_THROW("pipeline_peak_memory: stage " + std::to_string(stage) + " is not one of the " +
                      std::to_string(partition.stages()) + " stages of the partition",
                  "use 0 <= stage < partition.stages()");
  if (microbatches < 1 || microbatches > model.batch)
    PIPELAB_THROW("pipeline_peak_memory: cannot split a batch of " + std::to_string(model.batch) + " into " +
                      std::to_string(microbatches) + " micro-batches",
                  "every micro-batch needs at least one row: use 1 <= microbatches <= batch");
  const int blocks = partition.layer_count(stage);
  const bool last = stage == partition.stages() - 1;
  PeakMemory peak;
  peak.params = static_cast<std::uint64_t>(blocks) * block_param_bytes(model);
  peak.grads = peak.params;
  const std::uint64_t full = stash_bytes_per_row(model, blocks, last);  // per row, F to B
  if (!remat) {
    // Every F runs before the first B, so after the last F every micro-batch's stash is
    // held: Σ_m rows_m · full = B · full, however the rows are split.
    peak.stash = static_cast<std::uint64_t>(model.batch) * full;
    return peak;
  }
  // Remat: F keeps the stage input x (d floats per row); R(m) adds the rest, full − x, right
  // before B(m). B runs M−1, ..., 0, so at R(m) the inputs of micro-batches 0..m are held:
  //   stash at R(m) = Σ_{j <= m} rows_j · x + rows_m · (full − x); the peak is the largest.
  const std::uint64_t input = kFloatBytes * static_cast<std::uint64_t>(model.width);
  std::uint64_t inputs_held = static_cast<std::uint64_t>(model.batch) * input;  // after every F
  for (int m = microbatches - 1; m >= 0; --m) {
    const std::uint64_t rows = share_rows(model.batch, microbatches, m);
    peak.stash = std::max(peak.stash, inputs_held + rows * (full - input));
    inputs_held -= rows * input;  // B(m) frees micro-batch m's input
  }
  return peak;
}

}  // namespace pipelab
