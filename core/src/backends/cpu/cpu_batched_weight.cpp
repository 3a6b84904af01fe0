// cpu_batched_weight.cpp — the whole-batch W of --w-batch on one cpu stage
// (schedule/batched_weight.h): the weight gradients of every micro-batch as one GEMM per
// weight over all B rows, instead of M GEMMs of B/M rows that each read and write dW.
//
//   per block i (last to first):
//     x (B, d), g (B, h) from F's stash, dy (B, d), da (B, h) from I's, micro-batch m's
//     rows at its offset in the batch  ─► [block_backward_weight, rows = B] ─► grads += ...
//   then every micro-batch's stash (F's, R's, the logits, I's dy and da) is freed.
// The four (B, ·) tensors are copied side by side first (Buffers, one block at a time):
// the stash is kept per micro-batch, where F and I wrote it. The copy moves
// 4·B·(2d + 2h) bytes per block against the GEMMs' 4·B·d·h FLOPs: small beside them.
#include <cstring>

#include "cpu_stage.h"
#include "pipelab/error.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::cpu_detail {

namespace {

// Copies micro-batch m's (rows, width) tensor `from` into rows offset.. of `to` (B, width).
void place_rows(std::vector<float>& to, const float* from, int offset, int rows, int width) {
  const std::size_t start = static_cast<std::size_t>(offset) * width;
  std::memcpy(to.data() + start, from, float_bytes(static_cast<std::size_t>(rows) * width));
}

}  // namespace

void stage_backward_weight_batch(Stage& st, DeviceMemory& mem, const StepData& step) {
  const Action action{ActionKind::BackwardWeight, st.index, -1, st.chunk};
  const MicrobatchRows& mbs = step.microbatches;
  const int count = static_cast<int>(mbs.rows.size());
  for (int m = 0; m < count; ++m)
    if (!st.mb[m].awaiting_weight)
      PIPELAB_THROW(to_string(action) + ": micro-batch " + std::to_string(m) +
                        " has no I before it (or its weight gradient was already accumulated)",
                    "a whole-batch W comes after every I of its stage, once, and no W of one micro-batch runs");
  const int d = step.spec.width, h = step.spec.hidden;
  int batch = 0;  // B: every micro-batch's rows
  for (int rows : mbs.rows) batch += rows;
  const auto floats = [batch](int width) { return static_cast<std::size_t>(batch) * width; };
  // Workspace: one block's x and dy (B, d), g and da (B, h), side by side in batch order.
  const MemoryCharge workspace = mem.charge(MemoryCategory::Buffers, float_bytes(2 * floats(d) + 2 * floats(h)));
  std::vector<float> x(floats(d)), dy(floats(d)), da(floats(h));
  BlockActivations whole;  // only g: block_backward_weight reads no a
  whole.g.resize(floats(h));
  const int blocks = static_cast<int>(st.params.size());
  for (int i = blocks - 1; i >= 0; --i) {
    for (int m = 0; m < count; ++m) {
      const MicrobatchState& mb = st.mb[m];
      const int rows = mbs.rows[m], offset = mbs.offsets[m];
      // Block i's x: the stage input for block 0, else the previous block's output.
      place_rows(x, i == 0 ? mb.input.data.data() : mb.block_inputs[i - 1].data.data(), offset, rows, d);
      place_rows(whole.g, mb.activations[i].g.data(), offset, rows, h);
      place_rows(dy, mb.output_grads[i].data(), offset, rows, d);
      place_rows(da, mb.preactivation_grads[i].data(), offset, rows, h);
    }
    // dW2 (d, h) += dyᵀ (d, B) · g (B, h) and dW1 (h, d) += daᵀ (h, B) · x (B, d): k = B.
    block_backward_weight(step.spec, x.data(), whole, dy.data(), da.data(), batch, st.grads[i], step.gemm);
  }
  // Everything every micro-batch kept is freed, as W of each would free it.
  for (MicrobatchState& mb : st.mb) release_weight_inputs(st, mb);
}

}  // namespace pipelab::cpu_detail
