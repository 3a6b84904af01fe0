// cpu_backward.cpp — the backward data flow of one micro-batch on one cpu stage: B, or its
// two halves I (the input gradient, sent upstream) and W (the weight gradients, later).
//
//   B:  dy ─► [block n−1 … block 0: block_backward] ─► dx (SendGrad); grads += ...;
//       F's stash freed.
//   I:  dy ─► [block n−1 … block 0: block_backward_input] ─► dx (SendGrad); every block's
//       dy and da kept (Stash: plan.weight_stash_bytes); F's stash kept.
//   W:  every block's dy, da + F's x, g ─► [block_backward_weight] ─► grads += ...;
//       I's dy, da and F's stash freed.
// The loss backward (dlogits from the logits) is the start of B or I on the last stage.
#include <algorithm>

#include "cpu_stage.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::cpu_detail {

namespace k = kernels::cpu;

void drop_activations(Stage& st, MicrobatchState& mb, bool last) {
  mb.block_inputs.clear();
  for (BlockActivations& act : mb.activations) st.spare_activations.push_back(std::move(act));
  mb.activations.clear();
  mb.activation_charge.reset();
  if (last) mb.output.release();
}

namespace {

// Checks that F (or R) left what the backward reads, and puts the stage's output gradient
// into mb.grad_output: computed here from the logits on the last stage (the loss backward),
// received from the next stage on the others.
void load_output_grad(Stage& st, MicrobatchState& mb, DeviceMemory& mem, const StepData& step, const Action& a) {
  const int m = a.microbatch;
  const int rows = step.microbatches.rows[m];
  const std::size_t n = static_cast<std::size_t>(rows) * step.spec.width;
  if (mb.activations.size() != st.params.size())
    PIPELAB_THROW(to_string(a) + ": activations missing",
                  "with remat the schedule needs a Recompute before each B (or I)");
  if (st.memory_plan.last_stage) {
    // dlogits = (softmax − onehot) · scale (1/B: the batch mean), into the gradient buffer.
    const float scale = microbatch_loss_scale(rows, step.spec.batch);  // ex03
    std::vector<float> dlogits(n);
    k::softmax_xent_backward(mb.output.data.data(), step.batch.labels.data() + step.microbatches.offsets[m],
                             dlogits.data(), rows, step.spec.width, scale);
    mb.grad_output.hold(mem, MemoryCategory::Buffers, std::move(dlogits));
  }
  if (mb.grad_output.data.size() != n)
    PIPELAB_THROW(to_string(a) + ": no output gradient", "the schedule must receive the gradient before B (or I)");
}

// The x (b, d) block i of the stage read in F: the stage input for block 0.
const float* block_input(const MicrobatchState& mb, int i) {
  return i == 0 ? mb.input.data.data() : mb.block_inputs[i - 1].data.data();
}

}  // namespace

void stage_backward(Stage& st, DeviceMemory& mem, const StepData& step, int m) {
  MicrobatchState& mb = st.mb[m];
  load_output_grad(st, mb, mem, step, Action{ActionKind::Backward, st.index, m, st.chunk});
  const int rows = step.microbatches.rows[m];
  const std::size_t n = static_cast<std::size_t>(rows) * step.spec.width;
  const std::size_t hidden = static_cast<std::size_t>(step.spec.hidden);
  const int blocks = static_cast<int>(st.params.size());
  // Workspace: dy and dx (b, d) and block_backward's scratch (b·h + h: da, and the
  // discarded db1 sum of block_backward_input).
  const MemoryCharge workspace =
      mem.charge(MemoryCategory::Buffers, 2 * float_bytes(n) + float_bytes(rows * hidden + hidden));
  std::vector<float> dy = mb.grad_output.data, dx(n);
  for (int i = blocks - 1; i >= 0; --i) {
    block_backward(step.spec, st.params[i], block_input(mb, i), mb.activations[i], dy.data(), rows, st.grads[i],
                   dx.data(), st.scratch, step.gemm);
    dy.swap(dx);
  }
  // Everything this micro-batch kept is freed; the input gradient waits for SendGrad.
  mb.input.release();
  mb.output.release();
  mb.grad_output.release();
  drop_activations(st, mb, false);
  if (!st.first_stage) mb.grad_input.hold(mem, MemoryCategory::Buffers, std::move(dy));
}

void stage_backward_input(Stage& st, DeviceMemory& mem, const StepData& step, int m) {
  MicrobatchState& mb = st.mb[m];
  const Action action{ActionKind::BackwardInput, st.index, m, st.chunk};
  if (mb.awaiting_weight)
    PIPELAB_THROW(to_string(action) + ": I of this micro-batch already ran and its W has not",
                  "a schedule runs I(s, m) once, then W(s, m)");
  load_output_grad(st, mb, mem, step, action);
  const int rows = step.microbatches.rows[m];
  const std::size_t n = static_cast<std::size_t>(rows) * step.spec.width;
  const std::size_t da_floats = static_cast<std::size_t>(rows) * step.spec.hidden;
  const int blocks = static_cast<int>(st.params.size());
  // The output gradient becomes block n−1's dy, which W keeps: it moves from the received
  // buffer (Buffers) into what I keeps for W (Stash), charged once for every block below.
  std::vector<float> dy = std::move(mb.grad_output.data);
  mb.grad_output.release();
  mb.weight_stash_charge = mem.charge(MemoryCategory::Stash, st.memory_plan.weight_stash_bytes(rows));
  // Workspace: the discarded db1 sum (h) of block_backward_input.
  const MemoryCharge workspace = mem.charge(MemoryCategory::Buffers, float_bytes(step.spec.hidden));
  st.scratch.resize(std::max(st.scratch.size(), static_cast<std::size_t>(step.spec.hidden)));
  mb.output_grads.assign(static_cast<std::size_t>(blocks), {});
  mb.preactivation_grads.assign(static_cast<std::size_t>(blocks), {});
  for (int i = blocks - 1; i >= 0; --i) {
    // Block i's dx is block i−1's dy: a fresh buffer, because W keeps this block's dy.
    std::vector<float> dx(n);
    mb.preactivation_grads[i].resize(da_floats);
    block_backward_input(step.spec, st.params[i], mb.activations[i], dy.data(), rows,
                         mb.preactivation_grads[i].data(), dx.data(), st.scratch.data(), step.gemm);
    mb.output_grads[i] = std::move(dy);
    dy = std::move(dx);
  }
  mb.awaiting_weight = true;
  // dy is now the stage's input gradient: it waits for SendGrad (the first stage has none).
  if (!st.first_stage) mb.grad_input.hold(mem, MemoryCategory::Buffers, std::move(dy));
}

void stage_backward_weight(Stage& st, const StepData& step, int m) {
  MicrobatchState& mb = st.mb[m];
  if (!mb.awaiting_weight)
    PIPELAB_THROW(to_string(Action{ActionKind::BackwardWeight, st.index, m, st.chunk}) +
                      ": no I of this micro-batch ran before it, so there are no gradients to accumulate from",
                  "a schedule runs W(s, m) after I(s, m) of the same stage and micro-batch, once");
  const int rows = step.microbatches.rows[m];
  const int blocks = static_cast<int>(st.params.size());
  for (int i = blocks - 1; i >= 0; --i)
    block_backward_weight(step.spec, block_input(mb, i), mb.activations[i], mb.output_grads[i].data(),
                          mb.preactivation_grads[i].data(), rows, st.grads[i], step.gemm);
  release_weight_inputs(st, mb);
}

void release_weight_inputs(Stage& st, MicrobatchState& mb) {
  // Everything the micro-batch kept is freed: F's stash (and R's), the logits, I's dy and da.
  mb.input.release();
  mb.output.release();
  drop_activations(st, mb, false);
  mb.output_grads.clear();
  mb.preactivation_grads.clear();
  mb.weight_stash_charge.reset();
  mb.awaiting_weight = false;
}

}  // namespace pipelab::cpu_detail
