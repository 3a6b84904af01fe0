// gemm_variants.cuh — the three GEMM implementations behind cuda::gemm() (gemm.cu
// checks the arguments and handles the trivial cases, then calls one of these).
// Internal to kernels/cuda/. All take checked arguments with m, n, k > 0 and alpha != 0.
#pragma once

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

void gemm_naive(const GemmArgs& args, Stream stream);                         // gemm_naive.cu
void gemm_tiled(const GemmArgs& args, Stream stream);                         // gemm_tiled.cu
void gemm_cublas(const GemmArgs& args, const GemmEngine& engine);             // gemm_cublas.cu

}  // namespace pipelab::kernels::cuda::detail
