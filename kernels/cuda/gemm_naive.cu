// gemm_naive.cu — GEMM, version 1 (`--gemm naive`): one thread per output element.
//
// Thread (i, j) walks p = 0..k-1 and accumulates op(A)(i, p) · op(B)(p, j) into a
// register, starting from beta·C(i, j) exactly like the CPU reference's chain
// (c = beta·C; c += (alpha·a)·b). It is correct and simple, and slow: every thread
// reads a whole row of A and a whole column of B from global memory, 2k loads for
// 2k FLOPs, so it runs at the speed of memory (L2 at best), not of the ALUs.
// gemm_tiled.cu is version 2: share those loads between threads.
//
// Napkin math, (m, n, k) = (4096, 4096, 4096): 2·m·n·k = 137 GFLOP. Each FMA needs
// two 4-byte loads; even if L1/L2 serve most of them, the naive kernel reaches only
// a few TFLOP/s on an H100 (~67 TFLOP/s fp32 peak): see `pipelab bench` for measured.
#include <cuda_runtime.h>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda::detail {

namespace {

constexpr int kTileX = 32;  // threads along n (a warp: consecutive j → coalesced C and B(No) accesses)
constexpr int kTileY = 8;   // threads along m

// op(M)(row, col) for M stored row-major with leading dimension ld.
template <bool kTrans>
__device__ inline float op_at(const float* M, int ld, int row, int col) {
  return kTrans ? M[static_cast<std::size_t>(col) * ld + row] : M[static_cast<std::size_t>(row) * ld + col];
}

template <bool kTransA, bool kTransB>
__global__ void gemm_naive_kernel(int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                                  int ldb, float beta, float* C, int ldc) {
  const int j = blockIdx.x * kTileX + threadIdx.x;  // column of C
  const int i = blockIdx.y * kTileY + threadIdx.y;  // row of C
  if (i >= m || j >= n) return;
  float* c = C + static_cast<std::size_t>(i) * ldc + j;
  float acc = beta == 0.0f ? 0.0f : beta * *c;  // beta == 0: C is never read (may be NaN)
  for (int p = 0; p < k; ++p) acc += (alpha * op_at<kTransA>(A, lda, i, p)) * op_at<kTransB>(B, ldb, p, j);
  *c = acc;
}

template <bool kTransA, bool kTransB>
void launch(const GemmArgs& g, Stream stream) {
  const dim3 block(kTileX, kTileY);
  const dim3 grid((g.n + kTileX - 1) / kTileX, (g.m + kTileY - 1) / kTileY);
  gemm_naive_kernel<kTransA, kTransB><<<grid, block, 0, stream>>>(g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb,
                                                                  g.beta, g.C, g.ldc);
  PIPELAB_CHECK_LAUNCH("gemm_naive_kernel");
}

}  // namespace

void gemm_naive(const GemmArgs& g, Stream stream) {
  dispatch_transposes(g, [&](auto ta, auto tb) { launch<decltype(ta)::value, decltype(tb)::value>(g, stream); });
}

}  // namespace pipelab::kernels::cuda::detail
