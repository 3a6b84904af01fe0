// gemm_cublas.cu — GEMM by cuBLAS (cublasGemmEx): the reference for speed, and the default.
//
// cuBLAS is column-major; our matrices are row-major. A row-major (r, c) matrix with
// leading dimension ld is, read column-major, its transpose (c, r) with the same ld.
// So row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands
// (B first), swap m and n, and keep each operand's own transpose flag:
//     cublasGemmEx(opB, opA, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc)
// Compute type: CUBLAS_COMPUTE_32F (full fp32) or, with --tf32,
// CUBLAS_COMPUTE_32F_FAST_TF32 (inputs rounded to TF32, 10-bit mantissa, tensor
// cores; accumulation stays fp32).
//
// Napkin math, (m, n, k) = (4096, 4096, 4096): 137 GFLOP; H100 SXM dense peaks are
// ~67 TFLOP/s fp32 and ~495 TFLOP/s TF32 (tensor cores).
#include <cublas_v2.h>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda::detail {

void gemm_cublas(const GemmArgs& g, const GemmEngine& engine) {
  const cublasOperation_t op_a = g.trans_a == Trans::Yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b == Trans::Yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasComputeType_t compute = engine.tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  // alpha and beta are host scalars (the handle's default pointer mode).
  PIPELAB_CUBLAS_CHECK(cublasGemmEx(engine.cublas(), op_b, op_a, g.n, g.m, g.k, &g.alpha, g.B, CUDA_R_32F, g.ldb,
                                    g.A, CUDA_R_32F, g.lda, &g.beta, g.C, CUDA_R_32F, g.ldc, compute,
                                    CUBLAS_GEMM_DEFAULT));
}

}  // namespace pipelab::kernels::cuda::detail
