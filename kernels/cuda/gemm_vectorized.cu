// gemm_vectorized.cu — GEMM, version 4: vectorized loads and double buffering
// (`--gemm vectorized`). Read it after gemm_register.cu (v3): the block and thread
// tiles are the same (128 × 128 per block, 8 × 8 per thread, BK = 8, 256 threads);
// what changed is how the data gets to the FMAs.
//
//   1. float4 global loads. Each thread moves one float4 of op(A) and one of op(B)
//      per tile (v3: 4 + 4 scalar loads), 4× fewer load instructions for the same
//      bytes. A float4 load needs a 16-byte aligned address, so it is used only when
//      the matrix pointer is 16-byte aligned and its leading dimension a multiple of 4
//      (then every row starts aligned, and every group of 4 starts at a column that
//      is a multiple of 4), and only for groups that lie inside the matrix. Anything
//      else (odd leading dimensions, the ragged end of a row) takes the scalar path,
//      element by element with bounds checks: any shape is correct, aligned ones fast.
//   2. float4 shared loads. The thread's 8 × 8 sub-tile is 2 × 2 blocks of 4 × 4:
//      rows 4·ty + 64·h + (0..3), columns 4·tx + 64·g + (0..3), h, g ∈ {0, 1}. The 8
//      values of op(A) a thread needs per step p are then two runs of 4 consecutive
//      floats of the transposed tile As[p][·], the 8 of op(B) two runs of Bs[p][·]:
//      4 float4 shared loads per 64 FMAs instead of 16 scalar ones. (A warp's float4
//      load of Bs covers 256 consecutive bytes, 2 shared-memory cycles; of As, 2
//      distinct float4s, broadcast, 1 cycle: ~6 cycles against v3's 16, while the 64
//      FMAs take 16.) That is why As holds op(A) transposed: a column of op(A), which
//      the outer product needs, is a row of As.
//   3. Double buffering. Two pairs of shared tiles. While the block multiplies tile t
//      out of one pair, every thread's float4 loads of tile t + 1 are already in
//      flight into registers; after the math they go to the other pair. The global
//      memory latency (hundreds of cycles) hides behind the BK · 64 = 512 FMAs each
//      thread does per tile, and one barrier per tile suffices (v3 has two).
//
//           prologue:  load tile 0 → registers → buffer 0;  barrier
//           tile t:    issue loads of tile t+1 → registers   (in flight ...)
//                      multiply buffer t mod 2                (... during the math)
//                      registers → buffer (t+1) mod 2
//                      barrier
//
//      Why one barrier is enough: tile t writes buffer (t+1) mod 2, which was last
//      read while multiplying tile t − 1, and the barrier that ended tile t − 1 lies
//      between those reads and these writes; the barrier that ends tile t lies between
//      these writes and tile t + 1's reads of them.
//
// Napkin math, (m, n, k) = (4096, 4096, 4096): 137 GFLOP = 68.7 G FMAs, 2.05 ms at the
// H100 SXM's fp32 peak (~67 TFLOP/s). Same L2 → SM traffic as v3 (4.3 GB: the tiles did
// not change), in 4× fewer load instructions (268 M per-thread float4 loads instead
// of 1.07 G scalar ones). Shared memory, ~6 cycles per 16 cycles of FMAs (v3: 16 per
// 16), no longer competes with the FMAs. cuBLAS measured 2.8 ms (49 TFLOP/s) there;
// the goal of this kernel is ≥ 0.6 of that. It has not run on a GPU yet: `pipelab
// bench --parts kernels` prints it as a ratio to cuBLAS. Costs: shared memory 2
// buffers × (As + Bs) × 8 × 132 floats = 16.5 KiB per block; ptxas (CUDA 13, sm_90)
// gives 126–128 registers per thread and no spills, so 2 blocks of 256 threads fit
// an SM's 64 K registers. What cuBLAS adds on top: warp tiles sized to the register
// file, cp.async / TMA copies that skip the registers, swizzled shared memory, and
// tuning per GPU.
//
// Ragged edges load zeros past the end of A and B and skip the stores past the end
// of C (float4 stores where the whole group of 4 is inside C and C is aligned).
#include <cuda_runtime.h>

#include <cstdint>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda::detail {

namespace {

constexpr int BM = 128;  // rows of the C tile of one block
constexpr int BN = 128;  // columns of the C tile of one block
constexpr int BK = 8;    // depth of one step through k (one pair of tiles)
constexpr int TM = 8;    // rows of C per thread: 2 groups of 4
constexpr int TN = 8;    // columns of C per thread: 2 groups of 4
constexpr int kThreadsX = BN / TN;               // 16 threads along n
constexpr int kThreadsY = BM / TM;               // 16 threads along m
constexpr int kThreads = kThreadsX * kThreadsY;  // 256
constexpr int kHalfM = BM / 2;                   // 64: the second group of rows starts here
constexpr int kHalfN = BN / 2;                   // 64: the second group of columns starts here
// Row length of a shared tile: BM + 4 floats keeps each row 16-byte aligned (528
// bytes) for the float4 accesses and spreads the transposing stores of step 2 over
// all 32 banks (bank = (4·p + i) mod 32, see store_tile_transposed).
constexpr int kRow = BM + 4;

static_assert(BM == BN, "one shared row length (kRow) serves As and Bs");
static_assert(BM * BK == 4 * kThreads && BK * BN == 4 * kThreads, "one float4 of each tile per thread");
static_assert(TM == 8 && TN == 8 && kHalfM == 4 * kThreadsY && kHalfN == 4 * kThreadsX,
              "the sub-tile is 2 × 2 groups of 4 × 4 (step 3)");

// Stored matrix M, (rows, cols) with leading dimension ld: M(row, col .. col+3), zeros
// past its end. `vec`: M and ld allow aligned float4 loads (see `aligned4`); col is
// always a multiple of 4 here, so the address is 16-byte aligned too.
__device__ inline float4 load4(const float* __restrict__ M, int ld, int rows, int cols, int row, int col,
                               bool vec) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (row >= rows) return v;
  const float* at = M + static_cast<std::size_t>(row) * ld;  // start of the stored row
  if (vec && col + 4 <= cols) return *reinterpret_cast<const float4*>(at + col);  // one 16-byte load
  // Scalar path: unaligned matrix, or the ragged end of a row.
  if (col + 0 < cols) v.x = at[col + 0];
  if (col + 1 < cols) v.y = at[col + 1];
  if (col + 2 < cols) v.z = at[col + 2];
  if (col + 3 < cols) v.w = at[col + 3];
  return v;
}

// The float4 each thread moves per tile of op(A) or op(B). A tile is, in the stored
// matrix, either rows × 8 (along the row: 2 float4 per row, 128 rows) or 8 × 128 (32
// float4 per row, 8 rows); both are 256 float4s, one per thread t:
//   "narrow" (8 floats of each stored row): stored row r0 + t / 2, columns c0 + 4·(t mod 2)
//   "wide" (128 floats of each stored row): stored row r0 + t / 32, columns c0 + 4·(t mod 32)
// Consecutive threads read consecutive 16-byte groups of a stored row (coalesced).
struct TileSlot {
  int outer;  // offset of this thread's stored row in the tile
  int inner;  // offset of its first column in the tile (a multiple of 4)
};
__device__ inline TileSlot narrow_slot(int t) { return {t / 2, 4 * (t % 2)}; }
__device__ inline TileSlot wide_slot(int t) { return {t / 32, 4 * (t % 32)}; }

// The shared tiles: S[p][x] = op(A)(row0 + x, k0 + p) for As, op(B)(k0 + p, col0 + x) for
// Bs, so that both are indexed [depth][position along the C tile].
using SharedTile = float[BK][kRow];

// A "narrow" float4 holds 4 depths p .. p+3 of one position x: store it down a column.
// A warp writes 16 positions x × 2 groups of p: bank (p·132 + x) mod 32 = (4·p + x) mod
// 32 takes all 32 values (x runs over 16 consecutive values, 4·p is 0 or 16 for p ∈ {0, 4}).
__device__ inline void store_tile_transposed(SharedTile& S, int x, int p, float4 v) {
  S[p + 0][x] = v.x;
  S[p + 1][x] = v.y;
  S[p + 2][x] = v.z;
  S[p + 3][x] = v.w;
}
// A "wide" float4 holds 4 positions x .. x+3 of one depth p: one float4 store along a row.
__device__ inline void store_tile_row(SharedTile& S, int p, int x, float4 v) {
  *reinterpret_cast<float4*>(&S[p][x]) = v;
}

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kThreads)
    gemm_vectorized_kernel(int m, int n, int k, float alpha, const float* __restrict__ A, int lda, bool vec_a,
                           const float* __restrict__ B, int ldb, bool vec_b, float beta, float* __restrict__ C,
                           int ldc, bool vec_c) {
  // ---- 1. Who am I. ----------------------------------------------------------------
  // This block computes C(row0 .. row0+BM, col0 .. col0+BN); the grid is
  // ceil(n / BN) × ceil(m / BM) blocks (launch below).
  const int row0 = blockIdx.y * BM;
  const int col0 = blockIdx.x * BN;
  const int t = threadIdx.x;     // 0..255
  const int tx = t % kThreadsX;  // 0..15: columns col0 + 4·tx + 64·h + (0..3), h ∈ {0, 1}
  const int ty = t / kThreadsX;  // 0..15: rows    row0 + 4·ty + 64·h + (0..3), h ∈ {0, 1}

  // Two buffers of each tile: As[b][p][i] = op(A)(row0 + i, k0 + p), Bs[b][p][j] =
  // op(B)(k0 + p, col0 + j), for the tile at depth k0 held in buffer b.
  __shared__ __align__(16) float As[2][BK][kRow];
  __shared__ __align__(16) float Bs[2][BK][kRow];

  // Stored shapes: A is (m, k), or (k, m) transposed; B is (k, n), or (n, k) transposed.
  const int a_rows = kTransA ? k : m, a_cols = kTransA ? m : k;
  const int b_rows = kTransB ? n : k, b_cols = kTransB ? k : n;
  // In stored A, a tile of op(A) is BM rows × BK columns (narrow), transposed BK × BM
  // (wide); in stored B, a tile of op(B) is BK × BN (wide), transposed BN × BK (narrow).
  const TileSlot a_slot = kTransA ? wide_slot(t) : narrow_slot(t);
  const TileSlot b_slot = kTransB ? narrow_slot(t) : wide_slot(t);

  // ---- 2. Moving one tile: global → registers (load), registers → shared (store). -----
  // The stored element this thread loads: A(row0 + outer, k0 + inner) untransposed,
  // A(k0 + outer, row0 + inner) transposed; likewise B with col0.
  const auto load_a = [&](int k0) {
    return kTransA ? load4(A, lda, a_rows, a_cols, k0 + a_slot.outer, row0 + a_slot.inner, vec_a)
                   : load4(A, lda, a_rows, a_cols, row0 + a_slot.outer, k0 + a_slot.inner, vec_a);
  };
  const auto load_b = [&](int k0) {
    return kTransB ? load4(B, ldb, b_rows, b_cols, col0 + b_slot.outer, k0 + b_slot.inner, vec_b)
                   : load4(B, ldb, b_rows, b_cols, k0 + b_slot.outer, col0 + b_slot.inner, vec_b);
  };
  // Untransposed A: outer is the position i, inner the depth p (down a column of As);
  // transposed A: outer is p, inner is i (along a row). B the other way round.
  const auto store = [&](int buffer, float4 a, float4 b) {
    if (kTransA) store_tile_row(As[buffer], a_slot.outer, a_slot.inner, a);
    else store_tile_transposed(As[buffer], a_slot.outer, a_slot.inner, a);
    if (kTransB) store_tile_transposed(Bs[buffer], b_slot.outer, b_slot.inner, b);
    else store_tile_row(Bs[buffer], b_slot.outer, b_slot.inner, b);
  };

  float acc[TM][TN] = {};  // acc[4·h + q][4·g + w] = C(row0 + 4·ty + 64·h + q, col0 + 4·tx + 64·g + w)

  // Prologue: tile 0 into buffer 0.
  store(0, load_a(0), load_b(0));
  __syncthreads();

  const int tiles = (k + BK - 1) / BK;  // the last one ragged (zeros past k)
  for (int tile = 0; tile < tiles; ++tile) {
    const int current = tile % 2;
    const bool has_next = tile + 1 < tiles;  // the same for every thread: no divergent barrier
    // ---- 2a. Issue the loads of tile + 1; nothing waits for them until step 2b. ------
    float4 next_a = make_float4(0.0f, 0.0f, 0.0f, 0.0f), next_b = next_a;
    if (has_next) {
      next_a = load_a((tile + 1) * BK);
      next_b = load_b((tile + 1) * BK);
    }

    // ---- 3. The outer products of tile `tile`: 4 float4 shared loads, 64 FMAs per p. --
#pragma unroll
    for (int p = 0; p < BK; ++p) {
      const float* a_row = As[current][p];  // op(A)(row0 + i, k0 + p) at a_row[i]
      const float* b_row = Bs[current][p];  // op(B)(k0 + p, col0 + j) at b_row[j]
      // Rows 4·ty + (0..3) and 64 + 4·ty + (0..3): a warp holds 2 values of ty (broadcast).
      const float4 a_lo = *reinterpret_cast<const float4*>(a_row + 4 * ty);
      const float4 a_hi = *reinterpret_cast<const float4*>(a_row + kHalfM + 4 * ty);
      // Columns 4·tx + (0..3) and 64 + 4·tx + (0..3): 16 consecutive float4s per half-warp.
      const float4 b_lo = *reinterpret_cast<const float4*>(b_row + 4 * tx);
      const float4 b_hi = *reinterpret_cast<const float4*>(b_row + kHalfN + 4 * tx);
      const float a[TM] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float b[TN] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
      for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int c = 0; c < TN; ++c) acc[r][c] += a[r] * b[c];
    }

    // ---- 2b. The loaded tile + 1 into the other buffer (last read in tile − 1). ------
    if (has_next) store(1 - current, next_a, next_b);
    // Tile + 1 is complete in its buffer, and nobody reads `current` any more.
    __syncthreads();
  }

  // ---- 4. Write the 2 × 2 groups of 4 × 4 outputs: C = alpha · acc + beta · C. -------
  // A group row is 4 consecutive floats of C: one float4 store when C allows it
  // (vec_c) and the group lies inside C, else element by element.
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int r = 4 * h + q;                         // row of acc
      const int row = row0 + 4 * ty + kHalfM * h + q;  // row of C
      if (row >= m) continue;
      float* c_row = C + static_cast<std::size_t>(row) * ldc;
#pragma unroll
      for (int g = 0; g < 2; ++g) {
        const int col = col0 + 4 * tx + kHalfN * g;  // first column of the group: acc[r][4·g ..]
        if (vec_c && col + 4 <= n) {
          float4* out = reinterpret_cast<float4*>(c_row + col);
          float4 value = make_float4(alpha * acc[r][4 * g + 0], alpha * acc[r][4 * g + 1],
                                     alpha * acc[r][4 * g + 2], alpha * acc[r][4 * g + 3]);
          if (beta != 0.0f) {  // beta == 0: C unread (it may hold NaN)
            const float4 old = *out;
            value.x += beta * old.x;
            value.y += beta * old.y;
            value.z += beta * old.z;
            value.w += beta * old.w;
          }
          *out = value;
        } else {
#pragma unroll
          for (int w = 0; w < 4; ++w) {
            if (col + w >= n) break;
            float* out = c_row + col + w;
            const float sum = acc[r][4 * g + w];
            *out = beta == 0.0f ? alpha * sum : alpha * sum + beta * *out;
          }
        }
      }
    }
}

// True when every row of a matrix at `base` with leading dimension ld starts on a
// 16-byte boundary: the condition for the float4 paths.
bool aligned4(const void* base, int ld) { return reinterpret_cast<std::uintptr_t>(base) % 16 == 0 && ld % 4 == 0; }

template <bool kTransA, bool kTransB>
void launch(const GemmArgs& g, Stream stream) {
  // One block per BM × BN tile of C, the last row and column of tiles ragged.
  const dim3 grid((g.n + BN - 1) / BN, (g.m + BM - 1) / BM);
  gemm_vectorized_kernel<kTransA, kTransB><<<grid, kThreads, 0, stream>>>(
      g.m, g.n, g.k, g.alpha, g.A, g.lda, aligned4(g.A, g.lda), g.B, g.ldb, aligned4(g.B, g.ldb), g.beta, g.C, g.ldc,
      aligned4(g.C, g.ldc));
  PIPELAB_CHECK_LAUNCH("gemm_vectorized_kernel");
}

}  // namespace

void gemm_vectorized(const GemmArgs& g, Stream stream) {
  dispatch_transposes(g, [&](auto ta, auto tb) { launch<decltype(ta)::value, decltype(tb)::value>(g, stream); });
}

}  // namespace pipelab::kernels::cuda::detail
