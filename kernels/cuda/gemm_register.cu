// gemm_register.cu — GEMM, version 3: register tiling (`--gemm register`).
// Read it after gemm_naive.cu (v1) and gemm_tiled.cu (v2); gemm_vectorized.cu is v4.
//
// What changed from v2. The tiled kernel already keeps a 4 × 4 block of C per thread
// in registers, but its tiles are small (a 64 × 64 C tile per block, 16 outputs per
// thread). Here the register tile is the main lever: a block owns a 128 × 128 tile
// of C and each of its 256 threads an 8 × 8 sub-tile, 64 accumulators in registers.
// The inner loop is an outer product: per step p through k, a thread loads a column
// of 8 values of op(A) and a row of 8 values of op(B) from shared memory into
// registers and does all 8 · 8 = 64 FMAs between them.
//
//                         op(B) tile Bs (BK × BN), in shared memory
//                         ┌──────────────────────────┐
//                         │ b[c] = Bs[p][tx + 16·c]  │
//                         └──────────────────────────┘
//   op(A) tile As   ┌───┐ ┌──────────────────────────┐
//   (BM × BK, kept  │a[r│ │ C tile (BM × BN): thread │  thread (ty, tx) owns rows
//   transposed)     │ = │ │ (ty, tx) accumulates     │  ty + 16·r and columns
//                   │As │ │ acc[r][c] += a[r] · b[c] │  tx + 16·c (r, c < 8):
//                   │[p]│ │ for p = 0 .. BK-1        │  strided, so that a warp's
//                   │[ty│ │                          │  loads and stores touch
//                   │+16│ │                          │  consecutive addresses
//                   │·r]│ │                          │
//                   └───┘ └──────────────────────────┘
//
// Why that is faster, counted per fused multiply-add (FMA):
//   - shared memory: v2 issues 4 + 4 = 8 shared loads per 16 FMAs (0.5 per FMA); v3
//     issues 8 + 8 = 16 per 64 FMAs (0.25). A warp's shared-memory load takes the
//     SM's shared memory a cycle while the SM's four schedulers issue four warp FMAs a
//     cycle, so v2 waits on shared memory (8 cycles of loads against 4 of FMAs per
//     step per warp) and v3 much less (16 against 16).
//   - global memory: per step through k a block loads (BM + BN) · BK floats for
//     BM · BN · BK FMAs: v2 (64 + 64) · 16 = 2048 floats for 65536 FMAs (32 FMAs per
//     float), v3 (128 + 128) · 8 = 2048 floats for 131072 FMAs (64 per float).
//
// Napkin math, (m, n, k) = (4096, 4096, 4096): 2·m·n·k = 137 GFLOP = 68.7 G FMAs.
//   - shared-memory loads: v2 0.5 per FMA = 34.4 G, i.e. 1.07 G warp instructions;
//     at one per cycle per SM (132 SMs at 1.98 GHz, H100 SXM) that is 4.1 ms, twice
//     the 2.05 ms that the FMAs themselves take at the fp32 peak (~67 TFLOP/s). v3:
//     0.25 per FMA, 537 M warp loads, 2.05 ms: no longer more than the FMAs.
//   - L2 → SM traffic: every block reads its BM rows of op(A) and BN columns of op(B)
//     whole, so the grid reads m·n·k·(1/BN + 1/BM) floats: 2.1 G floats = 8.6 GB for
//     v2, 1.07 G floats = 4.3 GB for v3, against 134 MB of distinct operands. At
//     HBM3's 3.35 TB/s 8.6 GB would take 2.6 ms, as long as cuBLAS's whole GEMM
//     (2.8 ms measured, bench/results/2026-11-23-h100.md); L2 serves much of it faster,
//     but halving it is what lets the FMAs, not the memory system, set the pace.
// Measured for v2 on the H100: 7.0 ms (19.5 TFLOP/s, 0.40 of cuBLAS); v3 has not run
// yet (`pipelab bench --parts kernels` prints both as a ratio to cuBLAS). Costs: 64
// accumulators plus 16 operands per thread (ptxas, CUDA 13, sm_90: 99–105 registers,
// no spills; v2 40–63), so 2 blocks of 256 threads per SM, and 8.3 KiB of shared
// memory per block. Still missing, and
// added by v4: wide (float4) loads, and overlapping the next tile's loads with the
// current tile's math (here every thread waits for its global loads, then for the
// barrier, every BK = 8 steps).
//
// Ragged edges (m, n, k not multiples of the tile) load zeros past the end of A and
// B (they add nothing) and skip the stores past the end of C, so any size works.
#include <cuda_runtime.h>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda::detail {

namespace {

constexpr int BM = 128;  // rows of the C tile of one block
constexpr int BN = 128;  // columns of the C tile of one block
constexpr int BK = 8;    // depth of one step through k (one pair of tiles)
constexpr int TM = 8;    // rows of C per thread
constexpr int TN = 8;    // columns of C per thread
constexpr int kThreadsX = BN / TN;               // 16 threads along n
constexpr int kThreadsY = BM / TM;               // 16 threads along m
constexpr int kThreads = kThreadsX * kThreadsY;  // 256
// Padding of a shared-memory row: the transposing stores of step 2 (e.g. As[p][i]
// from A stored (m, k)) write 8 values of p for each of 4 values of i per warp; with
// rows of BM + 4 floats those land in 32 different banks (bank = (4·p + i) mod 32),
// with rows of BM they would share 4 banks (8-way conflicts).
constexpr int kPad = 4;

static_assert((BM * BK) % kThreads == 0 && (BK * BN) % kThreads == 0, "each thread loads whole elements");
static_assert(BM % TM == 0 && BN % TN == 0, "the thread grid covers the C tile");

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kThreads)
    gemm_register_kernel(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                         const float* __restrict__ B, int ldb, float beta, float* __restrict__ C, int ldc) {
  // ---- 1. Who am I. ----------------------------------------------------------------
  // This block computes C(row0 .. row0+BM, col0 .. col0+BN); the grid is
  // ceil(n / BN) × ceil(m / BM) blocks (launch below).
  const int row0 = blockIdx.y * BM;
  const int col0 = blockIdx.x * BN;
  const int t = threadIdx.x;         // 0..255
  const int tx = t % kThreadsX;      // 0..15: this thread's columns are col0 + tx + 16·c
  const int ty = t / kThreadsX;      // 0..15: this thread's rows are    row0 + ty + 16·r

  // As[p][i] = op(A)(row0 + i, k0 + p): transposed, so that step 3's column of op(A)
  // (fixed p, 8 values of i) is a row of As. Bs[p][j] = op(B)(k0 + p, col0 + j).
  __shared__ float As[BK][BM + kPad];
  __shared__ float Bs[BK][BN + kPad];

  float acc[TM][TN] = {};  // acc[r][c] accumulates C(row0 + ty + 16·r, col0 + tx + 16·c)

  for (int k0 = 0; k0 < k; k0 += BK) {
    // ---- 2. Load one BM × BK tile of op(A) and one BK × BN tile of op(B). -------------
    // 256 threads move 1024 floats of each, 4 per thread: tile element e goes to thread
    // e mod 256. The index that varies fastest with e is the one along a row of the
    // *stored* matrix, so that consecutive threads read consecutive addresses
    // (coalesced). Past the end of the matrix the tile holds 0.
#pragma unroll
    for (int e = t; e < BM * BK; e += kThreads) {
      int i, p;  // the element op(A)(row0 + i, k0 + p)
      if (kTransA) {  // A stored (k, m): a stored row runs along i
        p = e / BM;
        i = e % BM;
      } else {        // A stored (m, k): a stored row runs along p
        i = e / BK;
        p = e % BK;
      }
      const int row = row0 + i, depth = k0 + p;
      float value = 0.0f;
      if (row < m && depth < k)  // op(A)(row, depth) = A(depth, row) when transposed
        value = kTransA ? A[static_cast<std::size_t>(depth) * lda + row] : A[static_cast<std::size_t>(row) * lda + depth];
      As[p][i] = value;
    }
#pragma unroll
    for (int e = t; e < BK * BN; e += kThreads) {
      int p, j;  // the element op(B)(k0 + p, col0 + j)
      if (kTransB) {  // B stored (n, k): a stored row runs along p
        j = e / BK;
        p = e % BK;
      } else {        // B stored (k, n): a stored row runs along j
        p = e / BN;
        j = e % BN;
      }
      const int depth = k0 + p, col = col0 + j;
      float value = 0.0f;
      if (depth < k && col < n)  // op(B)(depth, col) = B(col, depth) when transposed
        value = kTransB ? B[static_cast<std::size_t>(col) * ldb + depth] : B[static_cast<std::size_t>(depth) * ldb + col];
      Bs[p][j] = value;
    }
    // Nobody may read the tiles before everybody has written them.
    __syncthreads();

    // ---- 3. The outer products: BK steps of 8 + 8 shared loads and 64 FMAs. ----------
#pragma unroll
    for (int p = 0; p < BK; ++p) {
      float a[TM], b[TN];
#pragma unroll
      for (int r = 0; r < TM; ++r) a[r] = As[p][ty + kThreadsY * r];  // a warp: 2 values of ty, a broadcast
#pragma unroll
      for (int c = 0; c < TN; ++c) b[c] = Bs[p][tx + kThreadsX * c];  // 16 consecutive floats: no conflict
#pragma unroll
      for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int c = 0; c < TN; ++c) acc[r][c] += a[r] * b[c];
    }
    // Nobody may overwrite the tiles (next k0) while others still read them.
    __syncthreads();
  }

  // ---- 4. Write this thread's 8 × 8 outputs: C = alpha · acc + beta · C. -------------
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
  // One block per BM × BN tile of C, the last row and column of tiles ragged.
  const dim3 grid((g.n + BN - 1) / BN, (g.m + BM - 1) / BM);
  gemm_register_kernel<kTransA, kTransB><<<grid, kThreads, 0, stream>>>(g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B,
                                                                        g.ldb, g.beta, g.C, g.ldc);
  PIPELAB_CHECK_LAUNCH("gemm_register_kernel");
}

}  // namespace

void gemm_register(const GemmArgs& g, Stream stream) {
  dispatch_transposes(g, [&](auto ta, auto tb) { launch<decltype(ta)::value, decltype(tb)::value>(g, stream); });
}

}  // namespace pipelab::kernels::cuda::detail
