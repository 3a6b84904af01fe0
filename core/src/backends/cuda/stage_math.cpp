// stage_math.cpp — one stage's F, R, B and optimizer step on the GPU (stage_math.h; I and
// W are in stage_split_backward.cpp).
// Read it beside the cpu backend's forward / backward: the same charges (the stage's
// StageMemoryPlan) in the same order, the same checks, kernel for kernel the same math.
#include "stage_math.h"

#include <utility>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::cuda_detail {

namespace {

namespace kc = kernels::cuda;

}  // namespace

void drop_activations(MicrobatchState& mb, bool last) {
  mb.block_inputs.clear();
  mb.pre_activations.clear();
  mb.activations.clear();
  if (last) mb.output.release();
}

void stage_forward(LogicalDevice& dev, const StepData& step, int m, bool recompute) {
  const ModelSpec& spec = step.spec;
  const StageMemoryPlan& plan = dev.memory_plan;
  const bool last = plan.last_stage;
  MicrobatchState& mb = dev.mb.at(m);
  CudaAllocator& alloc = *dev.allocator;
  DeviceMemory& mem = *dev.memory;
  const cudaStream_t stream = dev.compute.get();
  const int rows = step.microbatches.rows[m];
  const int offset = step.microbatches.offsets[m];
  const std::size_t n = static_cast<std::size_t>(rows) * spec.width;  // (b, d)
  if (dev.index == 0 && !recompute) {
    // Stage 0 reads its micro-batch's rows of the batch (rows offset ..).
    mb.input.hold(alloc, mem, MemoryCategory::Stash, plan.input_bytes(rows));
    const float* src = step.inputs + static_cast<std::size_t>(offset) * spec.width;
    PIPELAB_CUDA_CHECK(cudaMemcpyAsync(mb.input.data(), src, float_bytes(n), cudaMemcpyDeviceToDevice, stream));
  }
  if (mb.input.count != n)
    PIPELAB_THROW(to_string(Action{recompute ? ActionKind::Recompute : ActionKind::Forward, dev.index, m}) +
                      ": no input for this micro-batch",
                  "the schedule must receive the activation before F / keep it until R");
  const int blocks = static_cast<int>(dev.params.size());
  mb.pre_activations.resize(blocks);
  mb.activations.resize(blocks);
  mb.block_inputs.resize(blocks > 0 ? blocks - 1 : 0);
  DeviceTensor recomputed_output;  // R on a middle stage: the output is not needed again
  const float* x = mb.input.data();
  for (int i = 0; i < blocks; ++i) {
    mb.pre_activations[i].hold(alloc, mem, MemoryCategory::Stash, plan.hidden_bytes(rows));
    mb.activations[i].hold(alloc, mem, MemoryCategory::Stash, plan.hidden_bytes(rows));
    DeviceTensor* y = nullptr;
    if (i + 1 < blocks) {
      y = &mb.block_inputs[i];
      y->hold(alloc, mem, MemoryCategory::Stash, plan.block_input_bytes(rows));
    } else if (last) {
      y = &mb.output;  // logits stay for the loss backward
      y->hold(alloc, mem, MemoryCategory::Stash, plan.logits_bytes(rows));
    } else if (!recompute) {
      y = &mb.output;  // until SendActivation
      y->hold(alloc, mem, MemoryCategory::Buffers, boundary_bytes(spec, rows));
    } else {
      y = &recomputed_output;
      y->hold(alloc, mem, MemoryCategory::Buffers, boundary_bytes(spec, rows));
    }
    gpu_block_forward(*dev.gemm, spec, dev.params[i].in(), x, rows, mb.pre_activations[i].data(),
                      mb.activations[i].data(), y->data());
    x = y->data();
  }
  if (last && !recompute) {
    // Per-row losses of this micro-batch; scaled and summed on the host (numerics()).
    kc::softmax_xent_forward(mb.output.data(), step.labels + offset, rows, spec.width, step.row_loss + offset,
                             stream);
  }
  if (step.remat && !recompute) drop_activations(mb, last);
}

void stage_backward(LogicalDevice& dev, const StepData& step, int m) {
  const ModelSpec& spec = step.spec;
  const bool last = dev.memory_plan.last_stage;
  MicrobatchState& mb = dev.mb.at(m);
  CudaAllocator& alloc = *dev.allocator;
  DeviceMemory& mem = *dev.memory;
  const cudaStream_t stream = dev.compute.get();
  const int rows = step.microbatches.rows[m];
  const std::size_t n = static_cast<std::size_t>(rows) * spec.width;
  const std::uint64_t boundary = boundary_bytes(spec, rows);                               // (b, d)
  const std::uint64_t hidden = float_bytes(static_cast<std::size_t>(rows) * spec.hidden);  // (b, h)
  const int blocks = static_cast<int>(dev.params.size());
  if (static_cast<int>(mb.activations.size()) != blocks)
    PIPELAB_THROW(to_string(Action{ActionKind::Backward, dev.index, m}) + ": activations missing",
                  "with remat the schedule needs a Recompute before each B");
  if (last) {
    // dlogits = (softmax − onehot) · scale (1/B: the batch mean), into the gradient buffer.
    const float scale = microbatch_loss_scale(rows, spec.batch);  // ex03
    mb.grad_output.hold(alloc, mem, MemoryCategory::Buffers, boundary);
    kc::softmax_xent_backward(mb.output.data(), step.labels + step.microbatches.offsets[m], mb.grad_output.data(),
                              rows, spec.width, scale, stream);
  }
  if (mb.grad_output.count != n)
    PIPELAB_THROW(to_string(Action{ActionKind::Backward, dev.index, m}) + ": no output gradient",
                  "the schedule must receive the gradient before B");
  // Workspace, as on cpu: two (b, d) gradients (ping-pong) and dg (b, h).
  DeviceTensor ping, pong, dg;
  ping.hold(alloc, mem, MemoryCategory::Buffers, boundary);
  pong.hold(alloc, mem, MemoryCategory::Buffers, boundary);
  dg.hold(alloc, mem, MemoryCategory::Buffers, hidden);
  const float* dy = mb.grad_output.data();
  DeviceTensor* dx = &ping;
  DeviceTensor* spare = &pong;
  for (int i = blocks - 1; i >= 0; --i) {
    const float* x = i == 0 ? mb.input.data() : mb.block_inputs[i - 1].data();
    gpu_block_backward(*dev.gemm, spec, dev.params[i].in(), x, mb.pre_activations[i].data(),
                       mb.activations[i].data(), dy, rows, dev.grads[i].out(), dx->data(), dg.data());
    dy = dx->data();
    std::swap(dx, spare);
  }
  DeviceTensor& input_gradient = *spare;  // written by the last block (block 0)
  // Everything this micro-batch kept is freed; the input gradient waits for SendGrad.
  mb.input.release();
  mb.output.release();
  mb.grad_output.release();
  drop_activations(mb, false);
  if (dev.index > 0) {
    // Keep the buffer; charge it as the grad_input (like cpu's hold(std::move(dy))).
    mb.grad_input.release();
    mb.grad_input.buffer = std::move(input_gradient.buffer);
    mb.grad_input.charge = mem.charge(MemoryCategory::Buffers, boundary);
    mb.grad_input.count = n;
    input_gradient.release();  // its charge; the buffer moved on
  }
}

void stage_optimizer_step(LogicalDevice& dev, float learning_rate) {
  const cudaStream_t stream = dev.compute.get();
  for (std::size_t i = 0; i < dev.params.size(); ++i)
    for_each_tensor_pair(dev.params[i], dev.grads[i], [&](const char*, const CudaBuffer& p, const CudaBuffer& g) {
      kc::sgd_update(p.floats(), g.floats(), p.bytes() / sizeof(float), learning_rate, stream);
    });
}

}  // namespace pipelab::cuda_detail
