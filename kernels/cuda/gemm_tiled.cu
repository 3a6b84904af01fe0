// gemm_tiled.cu — GEMM, version 2 (`--gemm tiled`): shared-memory tiling and register blocking.
// The teaching kernel: read it top to bottom next to gemm_naive.cu.
//
// The problem with the naive kernel: thread (i, j) loads row i of A and column j
// of B from global memory, so every loaded float feeds just one FMA, and 64 threads
// that share row i each load it again. The fix has two levels:
//
//   1. Block tiling (shared memory). A thread block owns a BM × BN tile of C. It
//      walks k in steps of BK: all its threads cooperatively copy a BM × BK tile of
//      op(A) and a BK × BN tile of op(B) into shared memory (each float loaded from
//      global memory once per block), wait, and then compute from shared memory.
//   2. Register blocking. Each thread computes TM × TN outputs, not one: per step p
//      it reads TM values of A and TN values of B from shared memory into registers
//      and does TM · TN FMAs with them — 16 FMAs for 8 shared-memory loads here.
//
//        op(B) tile  Bs (BK × BN)
//                    ┌──────────┐
//                    │ k0..+BK  │
//                    └──────────┘
//   op(A) tile   ┌──┐┌──────────┐
//   As (BM × BK) │  ││ C tile   │  thread (ty, tx) owns rows ty + 16·r (r < TM)
//                │  ││ BM × BN  │  and columns tx + 16·c (c < TN): strided, so a
//                └──┘└──────────┘  warp touches consecutive addresses (see step 4)
//
// Arithmetic intensity per k-step: the block loads (BM + BN) · BK = 2048 floats
// (8 KiB) and does BM · BN · BK = 65536 FMAs: 32 FMAs per float loaded from global
// memory, against 0.5 in the naive kernel.
//
// Ragged edges (m, n, k not multiples of the tile) load zeros past the end and
// skip the stores, so any size works. Still missing: larger per-thread tiles
// (gemm_register.cu, version 3), wide (float4) loads and double buffering, loading
// tile t+1 while computing tile t (gemm_vectorized.cu, version 4); and what only
// cuBLAS has here, tensor cores (TF32 with --tf32).
//
// Napkin math, (m, n, k) = (4096, 4096, 4096): 137 GFLOP; an H100 SXM peaks at
// ~67 TFLOP/s fp32 without tensor cores. This kernel reaches a fraction of that
// (`pipelab bench` reports the measured TFLOP/s and the ratio to cuBLAS).
#include <cuda_runtime.h>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda::detail {

namespace {

constexpr int BM = 64;  // rows of the C tile of one block
constexpr int BN = 64;  // columns of the C tile of one block
constexpr int BK = 16;  // depth of one step through k
constexpr int TM = 4;   // rows of C per thread
constexpr int TN = 4;   // columns of C per thread
constexpr int kThreadsX = BN / TN;                // 16
constexpr int kThreadsY = BM / TM;                // 16
constexpr int kThreads = kThreadsX * kThreadsY;   // 256
// +1 column of padding: the transposing stores of step 2 would otherwise hit one
// shared-memory bank 16 times.
constexpr int kPad = 1;

static_assert((BM * BK) % kThreads == 0 && (BK * BN) % kThreads == 0, "each thread loads whole elements");

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kThreads)
    gemm_tiled_kernel(int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
                      float beta, float* C, int ldc) {
  // ---- 1. Who am I. ----------------------------------------------------------------
  // This block computes C(row0 .. row0+BM, col0 .. col0+BN).
  const int row0 = blockIdx.y * BM;
  const int col0 = blockIdx.x * BN;
  const int tx = threadIdx.x % kThreadsX;  // 0..15: this thread's columns are col0 + tx + 16·c
  const int ty = threadIdx.x / kThreadsX;  // 0..15: this thread's rows are    row0 + ty + 16·r
  const int t = threadIdx.x;

  // op(A) tile stored transposed, As[p][i] = op(A)(row0 + i, k0 + p), so that step 3
  // reads a column of it (fixed p) as a row; Bs[p][j] = op(B)(k0 + p, col0 + j).
  __shared__ float As[BK][BM + kPad];
  __shared__ float Bs[BK][BN + kPad];

  float acc[TM][TN] = {};  // this thread's TM × TN outputs, in registers

  for (int k0 = 0; k0 < k; k0 += BK) {
    // ---- 2. Load one tile of op(A) and one of op(B) into shared memory. --------------
    // 256 threads move BM·BK = 1024 floats of A (4 each) and BK·BN = 1024 of B. Element
    // e of a tile goes to thread e % 256; which index varies fastest with e is chosen
    // so that consecutive threads read consecutive addresses of the *stored* matrix
    // (coalesced global loads). Outside the matrix we store 0, which adds nothing.
    for (int e = t; e < BM * BK; e += kThreads) {
      int i, p;
      if (kTransA) {  // A is stored (k, m): a row of storage runs along i
        p = e / BM;
        i = e % BM;
      } else {        // A is stored (m, k): a row of storage runs along p
        i = e / BK;
        p = e % BK;
      }
      const int row = row0 + i, depth = k0 + p;
      float value = 0.0f;
      if (row < m && depth < k)
        value = kTransA ? A[static_cast<std::size_t>(depth) * lda + row] : A[static_cast<std::size_t>(row) * lda + depth];
      As[p][i] = value;
    }
    for (int e = t; e < BK * BN; e += kThreads) {
      int p, j;
      if (kTransB) {  // B is stored (n, k): a row of storage runs along p
        j = e / BK;
        p = e % BK;
      } else {        // B is stored (k, n): a row of storage runs along j
        p = e / BN;
        j = e % BN;
      }
      const int depth = k0 + p, col = col0 + j;
      float value = 0.0f;
      if (depth < k && col < n)
        value = kTransB ? B[static_cast<std::size_t>(col) * ldb + depth] : B[static_cast<std::size_t>(depth) * ldb + col];
      Bs[p][j] = value;
    }
    // Nobody may read the tiles before everybody has written them.
    __syncthreads();

    // ---- 3. Multiply the tiles out of shared memory and registers. --------------------
    // For each depth p: TM values of A and TN of B into registers, then TM·TN FMAs.
#pragma unroll
    for (int p = 0; p < BK; ++p) {
      float a[TM], b[TN];
#pragma unroll
      for (int r = 0; r < TM; ++r) a[r] = As[p][ty + kThreadsY * r];  // a warp reads 2 addresses: broadcast
#pragma unroll
      for (int c = 0; c < TN; ++c) b[c] = Bs[p][tx + kThreadsX * c];  // 16 consecutive addresses: no conflict
#pragma unroll
      for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int c = 0; c < TN; ++c) acc[r][c] += a[r] * b[c];
    }
    // Nobody may overwrite the tiles (next k0) while others still read them.
    __syncthreads();
  }

  // ---- 4. Write this thread's outputs: C = alpha · acc + beta · C. ---------------------
  // Columns tx + 16·c: the 16 threads of a half-warp write 16 consecutive floats.
#pragma unroll
  for (int r = 0; r < TM; ++r) {
    const int row = row0 + ty + kThreadsY * r;
    if (row >= m) continue;
#pragma unroll
    for (int c = 0; c < TN; ++c) {
      const int col = col0 + tx + kThreadsX * c;
      if (col >= n) continue;
      float* out = C + static_cast<std::size_t>(row) * ldc + col;
      *out = beta == 0.0f ? alpha * acc[r][c] : alpha * acc[r][c] + beta * *out;  // beta == 0: C unread
    }
  }
}

template <bool kTransA, bool kTransB>
void launch(const GemmArgs& g, Stream stream) {
  const dim3 grid((g.n + BN - 1) / BN, (g.m + BM - 1) / BM);
  gemm_tiled_kernel<kTransA, kTransB><<<grid, kThreads, 0, stream>>>(g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B,
                                                                     g.ldb, g.beta, g.C, g.ldc);
  PIPELAB_CHECK_LAUNCH("gemm_tiled_kernel");
}

}  // namespace

void gemm_tiled(const GemmArgs& g, Stream stream) {
  dispatch_transposes(g, [&](auto ta, auto tb) { launch<decltype(ta)::value, decltype(tb)::value>(g, stream); });
}

}  // namespace pipelab::kernels::cuda::detail
