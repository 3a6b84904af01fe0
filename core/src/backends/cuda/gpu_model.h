// gpu_model.h — one block's forward and backward on the GPU (internal to
// core/src/backends/cuda/): the same sequence of kernels as block_forward / block_backward in
// core/src/model/model.cpp, on device pointers, enqueued on the engine's stream.
#pragma once

#include "pipelab/model/config.h"
#include "pipelab/kernels/cuda.h"

namespace pipelab::cuda_detail {

/// Device pointers to one block's parameters (or gradients): w1 (h, d), b1 (h),
/// w2 (d, h), b2 (d) — the layout of BlockParams.
template <typename T>
struct BlockPointers {
  T* w1 = nullptr;
  T* b1 = nullptr;
  T* w2 = nullptr;
  T* b2 = nullptr;
};

/// y (b, d) = x + W2 · GELU(W1 · x + b1) + b2; a, g (b, h) are kept for backward.
void gpu_block_forward(const kernels::cuda::GemmEngine& engine, const ModelSpec& spec,
                       const BlockPointers<const float>& p, const float* x, int rows, float* a, float* g, float* y);

/// Backward of gpu_block_forward: accumulate into `grad`, write dx (b, d);
/// dg (b, h) is scratch.
void gpu_block_backward(const kernels::cuda::GemmEngine& engine, const ModelSpec& spec,
                        const BlockPointers<const float>& p, const float* x, const float* a, const float* g,
                        const float* dy, int rows, const BlockPointers<float>& grad, float* dx, float* dg);

}  // namespace pipelab::cuda_detail
