// gemm_variants.cuh — the five GEMM implementations behind cuda::gemm() (gemm.cu
// checks the arguments and handles the trivial cases, then calls one of these).
// Internal to kernels/cuda/. All take checked arguments with m, n, k > 0 and alpha != 0.
#pragma once

#include <type_traits>

#include "pipelab/kernels/cuda.h"

namespace pipelab::kernels::cuda::detail {

/// The operands of one C = alpha · op(A) · op(B) + beta · C, row-major (see cpu.h).
struct GemmArgs {
  Trans trans_a, trans_b;
  int m, n, k;
  float alpha;
  const float* A;
  int lda;
  const float* B;
  int ldb;
  float beta;
  float* C;
  int ldc;
};

/// Calls launch(ta, tb) with std::bool_constant transposes for what `g` asks: the
/// hand-written kernels are templated on them, so the index math of their inner loop
/// is fixed at compile time (one instantiation per combination).
template <typename Launch>
void dispatch_transposes(const GemmArgs& g, Launch&& launch) {
  const bool ta = g.trans_a == Trans::Yes, tb = g.trans_b == Trans::Yes;
  if (!ta && !tb) launch(std::false_type{}, std::false_type{});
  if (!ta && tb) launch(std::false_type{}, std::true_type{});
  if (ta && !tb) launch(std::true_type{}, std::false_type{});
  if (ta && tb) launch(std::true_type{}, std::true_type{});
}

void gemm_naive(const GemmArgs& args, Stream stream);                         // gemm_naive.cu, v1
void gemm_tiled(const GemmArgs& args, Stream stream);                         // gemm_tiled.cu, v2
void gemm_register(const GemmArgs& args, Stream stream);                      // gemm_register.cu, v3
void gemm_vectorized(const GemmArgs& args, Stream stream);                    // gemm_vectorized.cu, v4
void gemm_cublas(const GemmArgs& args, const GemmEngine& engine);             // gemm_cublas.cu

}  // namespace pipelab::kernels::cuda::detail
