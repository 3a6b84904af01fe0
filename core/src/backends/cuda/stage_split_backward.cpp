// stage_split_backward.cpp — the split backward of one micro-batch on one cuda stage: I (the
// input gradient, sent upstream) and W (the weight gradients, later), behind
// --cuda-split-backward (CudaOptions::split_backward). Compiled; NOT yet run on a GPU.
//
// The data flow is the cpu's (core/src/backends/cpu/cpu_backward.cpp), read them side by side:
//   I:  dy ─► [block n−1 … block 0: gpu_block_backward_input] ─► dx (SendGrad); every block's
//       dy and da kept (Stash: plan.weight_stash_bytes in all); F's stash kept.
//   W:  every block's dy, da + F's x, g ─► [gpu_block_backward_weight] ─► grads += ...;
//       I's dy, da and F's stash freed.
// The loss backward (dlogits from the logits) is the start of I on the last stage.
//
// Every kernel goes on dev.compute, in the order written. A tensor released here goes back
// to the allocator's pending list, reusable only after compute() has waited for the
// stream (allocator retire()): the GPU may still be reading it when these functions return.
#include <utility>

#include "stage_math.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::cuda_detail {

namespace {

namespace kc = kernels::cuda;

// Checks that F (or R) left what I reads, and puts the stage's output gradient into
// mb.grad_output: the loss backward from the logits on the last stage, the received
// gradient on the others. B (stage_math.cpp) does the same inline; it has run on a GPU
// and is left as it was.
void load_output_grad(LogicalDevice& dev, const StepData& step, MicrobatchState& mb, const Action& action) {
  const int m = action.microbatch;
  const int rows = step.microbatches.rows[m];
  const std::size_t n = static_cast<std::size_t>(rows) * step.spec.width;  // (b, d)
  if (mb.activations.size() != dev.params.size())
    PIPELAB_THROW(to_string(action) + ": activations missing",
                  "with remat the schedule needs a Recompute before each B (or I)");
  if (dev.memory_plan.last_stage) {
    // dlogits = (softmax − onehot) · scale (1/B: the batch mean), into the gradient buffer.
    const float scale = microbatch_loss_scale(rows, step.spec.batch);  // ex03
    mb.grad_output.hold(*dev.allocator, *dev.memory, MemoryCategory::Buffers, boundary_bytes(step.spec, rows));
    kc::softmax_xent_backward(mb.output.data(), step.labels + step.microbatches.offsets[m], mb.grad_output.data(),
                              rows, step.spec.width, scale, dev.compute.get());
  }
  if (mb.grad_output.count != n)
    PIPELAB_THROW(to_string(action) + ": no output gradient", "the schedule must receive the gradient before B (or I)");
}

// The x (b, d) block i of the stage read in F: the stage input for block 0.
const float* block_input(const MicrobatchState& mb, int i) {
  return i == 0 ? mb.input.data() : mb.block_inputs[i - 1].data();
}

}  // namespace

void stage_backward_input(LogicalDevice& dev, const StepData& step, int m) {
  const Action action{ActionKind::BackwardInput, dev.index, m};
  MicrobatchState& mb = dev.mb.at(m);
  if (mb.awaiting_weight)
    PIPELAB_THROW(to_string(action) + ": I of this micro-batch already ran and its W has not",
                  "a schedule runs I(s, m) once, then W(s, m)");
  load_output_grad(dev, step, mb, action);
  const StageMemoryPlan& plan = dev.memory_plan;
  CudaAllocator& alloc = *dev.allocator;
  DeviceMemory& mem = *dev.memory;
  const int rows = step.microbatches.rows[m];
  const int blocks = static_cast<int>(dev.params.size());
  // The output gradient becomes block n−1's dy, which W keeps: its buffer moves from the
  // received gradient (Buffers) into what I keeps for W (Stash), the same 4·b·d bytes.
  // The books are released first, then charged again: live >= accounted throughout.
  DeviceTensor dy = std::move(mb.grad_output);
  dy.charge.reset();
  dy.charge = mem.charge(MemoryCategory::Stash, plan.block_output_grad_bytes(rows));
  // Workspace: the discarded db1 sum (h) of the fused GELU-backward kernel.
  DeviceTensor dbias_scratch;
  dbias_scratch.hold(alloc, mem, MemoryCategory::Buffers, float_bytes(static_cast<std::size_t>(step.spec.hidden)));
  mb.output_grads.clear();
  mb.output_grads.resize(static_cast<std::size_t>(blocks));
  mb.preactivation_grads.clear();
  mb.preactivation_grads.resize(static_cast<std::size_t>(blocks));
  for (int i = blocks - 1; i >= 0; --i) {
    // da (b, h) of block i, for W: Stash, block_preactivation_grad_bytes = 4·b·h.
    DeviceTensor& da = mb.preactivation_grads[i];
    da.hold(alloc, mem, MemoryCategory::Stash, plan.block_preactivation_grad_bytes(rows));
    // Block i's dx is block i−1's dy, which W keeps (Stash, 4·b·d): a fresh buffer each
    // block, no ping-pong. Block 0's is the stage's input gradient (Buffers until SendGrad).
    DeviceTensor dx;
    if (i > 0)
      dx.hold(alloc, mem, MemoryCategory::Stash, plan.block_output_grad_bytes(rows));
    else
      dx.hold(alloc, mem, MemoryCategory::Buffers, boundary_bytes(step.spec, rows));
    gpu_block_backward_input(*dev.gemm, step.spec, dev.params[i].in(), mb.pre_activations[i].data(), dy.data(), rows,
                             da.data(), dx.data(), dbias_scratch.data());
    mb.output_grads[i] = std::move(dy);
    dy = std::move(dx);
  }
  mb.awaiting_weight = true;
  // dy is now the stage's input gradient: it waits for SendGrad. The first stage has no
  // one to send it to, so it is dropped (as B drops it there).
  if (dev.index > 0) mb.grad_input = std::move(dy);
}

void stage_backward_weight(LogicalDevice& dev, const StepData& step, int m) {
  // A whole-batch W (--w-batch, or "W s1" in a schedule file) has micro-batch −1.
  if (m < 0)
    PIPELAB_THROW(to_string(Action{ActionKind::BackwardWeight, dev.index, m}) +
                      ": the whole-batch W is not supported on the cuda backend yet",
                  "run it on --backend cpu or sim; --cuda-split-backward runs one W per micro-batch");
  MicrobatchState& mb = dev.mb.at(m);
  if (!mb.awaiting_weight)
    PIPELAB_THROW(to_string(Action{ActionKind::BackwardWeight, dev.index, m}) +
                      ": no I of this micro-batch ran before it, so there are no gradients to accumulate from",
                  "a schedule runs W(s, m) after I(s, m) of the same stage and micro-batch, once");
  const int rows = step.microbatches.rows[m];
  const int blocks = static_cast<int>(dev.params.size());
  for (int i = blocks - 1; i >= 0; --i)
    gpu_block_backward_weight(*dev.gemm, step.spec, block_input(mb, i), mb.activations[i].data(),
                              mb.output_grads[i].data(), mb.preactivation_grads[i].data(), rows, dev.grads[i].out());
  // Everything the micro-batch kept is freed: F's stash (and R's), the logits, I's dy and da.
  mb.input.release();
  mb.output.release();
  drop_activations(mb, false);
  mb.output_grads.clear();
  mb.preactivation_grads.clear();
  mb.awaiting_weight = false;
}

}  // namespace pipelab::cuda_detail
