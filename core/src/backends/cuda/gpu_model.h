// gpu_model.h — one block's forward and backward on the GPU (internal to
// core/src/backends/cuda/): the same sequence of kernels as block_forward / block_backward
// (and its halves block_backward_input / block_backward_weight) in core/src/model/model.cpp,
// on device pointers, enqueued on the engine's stream.
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

/// I, the input-gradient half of gpu_block_backward (--cuda-split-backward): given dy (b, d),
/// write da = (dy · W2) ⊙ GELU'(a) into `da` (b, h), which W reads, and dx = da · W1 + dy
/// (b, d). Touches no gradient; `dbias_scratch` (h) is zeroed and overwritten (the fused
/// GELU-backward kernel also sums db1, which is W's).
void gpu_block_backward_input(const kernels::cuda::GemmEngine& engine, const ModelSpec& spec,
                              const BlockPointers<const float>& p, const float* a, const float* dy, int rows,
                              float* da, float* dx, float* dbias_scratch);

/// W, the weight-gradient half of gpu_block_backward (--cuda-split-backward): from F's
/// x (b, d) and g (b, h) and I's dy (b, d) and da (b, h), accumulate into `grad`
///   dW2 += dyᵀ · g,  db2 += Σ_rows dy,  dW1 += daᵀ · x,  db1 += Σ_rows da.
void gpu_block_backward_weight(const kernels::cuda::GemmEngine& engine, const ModelSpec& spec, const float* x,
                               const float* g, const float* dy, const float* da, int rows,
                               const BlockPointers<float>& grad);

}  // namespace pipelab::cuda_detail
