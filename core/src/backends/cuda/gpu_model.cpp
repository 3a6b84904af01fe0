// gpu_model.cpp — one block's forward and backward on the GPU, kernel for kernel
// the CPU's block_forward / block_backward (core/src/model/model.cpp): read them side by side.
// The split halves (I, W) are compiled and not yet run on a GPU (--cuda-split-backward).
#include "gpu_model.h"

#include <cuda_runtime.h>

#include <cstddef>

namespace pipelab::cuda_detail {

namespace kc = kernels::cuda;
using kernels::cpu::Trans;

void gpu_block_forward(const kc::GemmEngine& engine, const ModelSpec& s, const BlockPointers<const float>& p,
                       const float* x, int rows, float* a, float* g, float* y) {
  const int d = s.width, h = s.hidden;
  // a (b, h) = x (b, d) · W1ᵀ (d, h);  then a += b1, g = GELU(a)
  kc::gemm(engine, Trans::No, Trans::Yes, rows, h, d, 1.f, x, d, p.w1, d, 0.f, a, h);
  kc::bias_gelu_forward(a, p.b1, g, rows, h, engine.stream());
  // y (b, d) = g (b, h) · W2ᵀ (h, d);  then y += b2 + x (the residual)
  kc::gemm(engine, Trans::No, Trans::Yes, rows, d, h, 1.f, g, h, p.w2, h, 0.f, y, d);
  kc::bias_residual_forward(y, p.b2, x, rows, d, engine.stream());
}

void gpu_block_backward(const kc::GemmEngine& engine, const ModelSpec& s, const BlockPointers<const float>& p,
                        const float* x, const float* a, const float* g, const float* dy, int rows,
                        const BlockPointers<float>& grad, float* dx, float* dg) {
  const int d = s.width, h = s.hidden;
  // dW2 (d, h) += dyᵀ (d, b) · g (b, h);   db2 += Σ_rows dy
  kc::gemm(engine, Trans::Yes, Trans::No, d, h, rows, 1.f, dy, d, g, h, 1.f, grad.w2, h);
  kc::bias_backward(dy, grad.b2, rows, d, engine.stream());
  // dg (b, h) = dy (b, d) · W2 (d, h)
  kc::gemm(engine, Trans::No, Trans::No, rows, h, d, 1.f, dy, d, p.w2, h, 0.f, dg, h);
  // da = dg ⊙ GELU'(a) (in place);  db1 += Σ_rows da
  kc::bias_gelu_backward(dg, a, dg, grad.b1, rows, h, engine.stream());
  // dW1 (h, d) += daᵀ (h, b) · x (b, d)
  kc::gemm(engine, Trans::Yes, Trans::No, h, d, rows, 1.f, dg, h, x, d, 1.f, grad.w1, d);
  // dx (b, d) = da (b, h) · W1 (h, d) + dy   (the residual passes dy straight through)
  kc::gemm(engine, Trans::No, Trans::No, rows, d, h, 1.f, dg, h, p.w1, d, 0.f, dx, d);
  kc::add_inplace(dx, dy, static_cast<std::size_t>(rows) * d, engine.stream());
}

void gpu_block_backward_input(const kc::GemmEngine& engine, const ModelSpec& s, const BlockPointers<const float>& p,
                              const float* a, const float* dy, int rows, float* da, float* dx, float* dbias_scratch) {
  const int d = s.width, h = s.hidden;
  // dg (b, h) = dy (b, d) · W2 (d, h), written into da and turned into da in place below.
  kc::gemm(engine, Trans::No, Trans::No, rows, h, d, 1.f, dy, d, p.w2, h, 0.f, da, h);
  // da = dg ⊙ GELU'(a) (in place). The kernel also adds db1 = Σ_rows da onto its dbias
  // argument; that sum is W's, so it goes to a scratch zeroed first (the kernel reads it).
  PIPELAB_CUDA_CHECK(cudaMemsetAsync(dbias_scratch, 0, sizeof(float) * static_cast<std::size_t>(h), engine.stream()));
  kc::bias_gelu_backward(da, a, da, dbias_scratch, rows, h, engine.stream());
  // dx (b, d) = da (b, h) · W1 (h, d) + dy   (the residual passes dy straight through)
  kc::gemm(engine, Trans::No, Trans::No, rows, d, h, 1.f, da, h, p.w1, d, 0.f, dx, d);
  kc::add_inplace(dx, dy, static_cast<std::size_t>(rows) * d, engine.stream());
}

void gpu_block_backward_weight(const kc::GemmEngine& engine, const ModelSpec& s, const float* x, const float* g,
                               const float* dy, const float* da, int rows, const BlockPointers<float>& grad) {
  const int d = s.width, h = s.hidden;
  // dW2 (d, h) += dyᵀ (d, b) · g (b, h);   db2 += Σ_rows dy
  kc::gemm(engine, Trans::Yes, Trans::No, d, h, rows, 1.f, dy, d, g, h, 1.f, grad.w2, h);
  kc::bias_backward(dy, grad.b2, rows, d, engine.stream());
  // dW1 (h, d) += daᵀ (h, b) · x (b, d);   db1 += Σ_rows da (rows in order, onto the stored
  // db1, as the fused kernel of gpu_block_backward sums it)
  kc::gemm(engine, Trans::Yes, Trans::No, h, d, rows, 1.f, da, h, x, d, 1.f, grad.w1, d);
  kc::bias_backward(da, grad.b1, rows, h, engine.stream());
}

}  // namespace pipelab::cuda_detail
