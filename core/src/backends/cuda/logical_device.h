// logical_device.h — one logical device of the cuda backend and what its stage keeps
// per micro-batch (internal to core/src/backends/cuda/).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cuda_util.h"
#include "device_tensor.h"
#include "pipelab/backends/cuda/allocator.h"
#include "pipelab/kernels/cuda.h"
#include "pipelab/model/memory_plan.h"
#include "pipelab/runtime/memory.h"

namespace pipelab::cuda_detail {

/// What a stage keeps for one micro-batch between its F and its B (or its I and W).
struct MicrobatchState {
  DeviceTensor input;                       ///< stage input (b, d): Stash, kept until B (or W)
  std::vector<DeviceTensor> block_inputs;   ///< inputs of blocks 1..n-1 of the stage (b, d): Stash
  std::vector<DeviceTensor> pre_activations;  ///< per block: a (b, h), Stash
  std::vector<DeviceTensor> activations;      ///< per block: g = GELU(a) (b, h), Stash
  DeviceTensor output;       ///< stage output (b, d): Buffers until sent; logits (Stash) on the last stage
  DeviceTensor grad_output;  ///< dL/d output (b, d): received (Buffers) or dlogits on the last stage
  DeviceTensor grad_input;   ///< dL/d input (b, d): Buffers until sent

  // The split backward (--cuda-split-backward): what I keeps for W, per block i of the stage.
  std::vector<DeviceTensor> output_grads;         ///< dy (b, d) of block i: Stash
  std::vector<DeviceTensor> preactivation_grads;  ///< da (b, h) of block i: Stash
  bool awaiting_weight = false;                   ///< I ran and its W has not yet
};

/// One logical device: where it runs, its streams, events, memory and stage.
/// Members are destroyed bottom-up: tensors before the allocator and the books,
/// the cuBLAS handle (in `gemm`) before the streams it is bound to.
struct LogicalDevice {
  int index = 0;
  int gpu = 0;
  std::string name;
  StreamHandle compute;  ///< kernels of F, B, R, OptimizerStep
  StreamHandle copy;     ///< outgoing transfers (and incoming ones with NCCL)
  std::unique_ptr<kernels::cuda::GemmEngine> gemm;
  EventHandle start, end;            ///< the compute span (timing events)
  EventHandle copy_start, copy_end;  ///< the send span (timing events)
  EventHandle ready;                 ///< the compute stream reached a send (sync only)
  std::unique_ptr<CudaAllocator> allocator;
  std::unique_ptr<DeviceMemory> memory;
  int first_layer = 0;
  StageMemoryPlan memory_plan;  ///< what the stage holds, in bytes (charged to `memory`)
  std::vector<GpuBlock> params;
  std::vector<GpuBlock> grads;
  std::vector<MemoryCharge> resident;  ///< params + grads
  std::vector<MicrobatchState> mb;
};

}  // namespace pipelab::cuda_detail
