// cpu_gemm.cpp — gemm(): C = alpha·op(A)·op(B) + beta·C on the CPU, single-threaded: the
// hand-written reference (GemmImpl::Reference). The BLAS one is cpu_gemm_blas.cpp.
//
// The GotoBLAS / BLIS scheme, reduced to what the kit needs:
//   1. C = beta·C once (C = 0 when beta == 0, so a NaN in C is never read).
//   2. for each block of NC columns, for each block of KC depths p (in order):
//        pack op(B) into panels of NR columns (zero-padded) in per-thread scratch;
//        for each block of MC rows:
//          pack alpha·op(A) into panels of MR rows (zero-padded);
//          for each MR × NR tile of C: the micro-kernel adds Σ_p a_p · b_p into it.
// Packing turns every transpose case into the same unit-stride layout, so one
// micro-kernel serves all four; it costs O(mk + kn) next to the O(mnk) product.
// Exception: with few rows (a small micro-batch) and Trans::No, op(B) is read in
// place, since packing it would then cost about as much as the product.
//
// Determinism: inside the micro-kernel every C(i, j) is its own accumulator that
// receives p = 0, 1, ..., k-1 in order (KC blocks are visited in order and the tile
// is stored to C, exactly, between them). Edge tiles run the same micro-kernel on a
// zero-padded copy. So the bits of C(i, j) depend only on row i of op(A), column j
// of op(B), k, alpha and beta·C(i, j) — never on m, n, offsets, blocking or packing.
//
// Micro-kernels: a 6 × 16 AVX2+FMA one (12 ymm accumulators) chosen at run time
// when the CPU has it, and a portable one otherwise (GCC/Clang vector types: SSE2
// on baseline x86-64, NEON on arm64). The build stays baseline x86-64: only the
// AVX2 function is compiled for AVX2 (target attribute).
//
// Napkin math, (m, n, k) = (256, 1024, 256): 2·m·n·k = 134 MFLOP on 2 MiB of
// operands and result. A Zen 3 core does 2 FMA × 8 lanes × 2 = 32 FLOP/cycle with
// AVX2+FMA (≈ 78 GFLOP/s at 2.45 GHz) and 2 mul + 2 add × 4 lanes = 16 FLOP/cycle
// with SSE2. Measured on a 2-core AMD EPYC (Zen 3) VM, one thread, all four
// transpose cases: avx2-fma 46–73 GFLOP/s, generic 19–28 GFLOP/s (range = noise
// from a busy machine); a 4-row micro-batch (4, 1024, 256): 25–30 GFLOP/s.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu_gemm_detail.h"
#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PIPELAB_GEMM_HAVE_AVX2 1
#include <immintrin.h>
#else
#define PIPELAB_GEMM_HAVE_AVX2 0
#endif

namespace pipelab::kernels::cpu {

namespace {

using Index = std::ptrdiff_t;

// Tile and block sizes. MR × NR = 6 × 16 fills 12 of the 16 ymm registers with
// accumulators; a KC × NR panel of B (16 KiB) stays in L1, an MC × KC block of A
// (144 KiB) in L2. MC is a multiple of MR and NC of NR so only the last block of
// a matrix has a partial tile.
constexpr int kMR = 6;
constexpr int kNR = 16;
constexpr int kKC = 256;
constexpr int kMC = 24 * kMR;
constexpr int kNC = 128 * kNR;
// Up to this many rows of C, op(B) with Trans::No is read in place, not packed.
constexpr int kMaxRowsForUnpackedB = 2 * kMR;

// Adds Σ_{p<kc} a_panel[p][r] · b_panel[p][c] to c[r·ldc + c] for the MR × NR tile.
// a_panel is (kc, MR) contiguous; b_panel is (kc, NR) with row stride ldb (NR when
// packed, the caller's ldb when op(B) is read in place).
using MicroKernel = void (*)(int kc, const float* a_panel, const float* b_panel, Index ldb,
                             float* c, Index ldc);

// Portable micro-kernel, written with GCC/Clang vector types (SSE2 on baseline
// x86-64, NEON on arm64). Two halves of 8 columns so the 6 × 8 accumulator
// (12 four-wide registers) fits the 16-register file; each C element still gets
// its own sequential chain, so the halves change no bits.
using Float4 = float __attribute__((vector_size(16)));

Float4 load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }

void micro_kernel_generic(int kc, const float* a_panel, const float* b_panel, Index ldb, float* c,
                          Index ldc) {
  for (int half = 0; half < kNR; half += 8) {
    Float4 acc[kMR][2];
    for (int r = 0; r < kMR; ++r) {
      acc[r][0] = load4(c + r * ldc + half);
      acc[r][1] = load4(c + r * ldc + half + 4);
    }
    for (int p = 0; p < kc; ++p) {
      const Float4 b0 = load4(b_panel + p * ldb + half);
      const Float4 b1 = load4(b_panel + p * ldb + half + 4);
      // acc(r, :) += a(r) · b(:): one rank-1 update of the 6 × 8 half tile.
      for (int r = 0; r < kMR; ++r) {
        const float a = a_panel[p * kMR + r];
        acc[r][0] += a * b0;
        acc[r][1] += a * b1;
      }
    }
    for (int r = 0; r < kMR; ++r) {
      store4(c + r * ldc + half, acc[r][0]);
      store4(c + r * ldc + half + 4, acc[r][1]);
    }
  }
}

#if PIPELAB_GEMM_HAVE_AVX2
// AVX2 + FMA micro-kernel: row r of the tile is two ymm accumulators (cr0, cr1);
// per p, two loads of b and six broadcasts of a feed twelve fused multiply-adds.
__attribute__((target("avx2,fma"))) void micro_kernel_avx2(int kc, const float* a_panel,
                                                           const float* b_panel, Index ldb,
                                                           float* c, Index ldc) {
  __m256 c00 = _mm256_loadu_ps(c + 0 * ldc), c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
  __m256 c10 = _mm256_loadu_ps(c + 1 * ldc), c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
  __m256 c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
  __m256 c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
  __m256 c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
  __m256 c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
  for (int p = 0; p < kc; ++p) {
    const float* a = a_panel + p * kMR;
    const __m256 b0 = _mm256_loadu_ps(b_panel + p * ldb);
    const __m256 b1 = _mm256_loadu_ps(b_panel + p * ldb + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);  // c(r, :) = fma(a(r), b(:), c(r, :))
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
  }
  _mm256_storeu_ps(c + 0 * ldc, c00), _mm256_storeu_ps(c + 0 * ldc + 8, c01);
  _mm256_storeu_ps(c + 1 * ldc, c10), _mm256_storeu_ps(c + 1 * ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}
#endif

// ---- kernel choice ---------------------------------------------------------

bool cpu_has_avx2_fma() {
#if PIPELAB_GEMM_HAVE_AVX2
  // Computed once (thread-safe static init) and never written again.
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

// The only mutable state: a per-thread pin set by set_gemm_kernel_for_this_thread.
thread_local GemmKernel pinned_kernel = GemmKernel::Auto;

MicroKernel micro_kernel_for(GemmKernel kernel) {
#if PIPELAB_GEMM_HAVE_AVX2
  if (kernel == GemmKernel::Avx2Fma) return micro_kernel_avx2;
#endif
  (void)kernel;
  return micro_kernel_generic;
}

// ---- packing ----------------------------------------------------------------

// Per-thread scratch for the packed panels: grown on demand, never shared, so
// several device worker threads can run gemm at once.
struct PackScratch {
  std::vector<float> a, b;
};
thread_local PackScratch scratch;

// A 64-byte aligned view of at least `count` floats in `storage` (panel loads
// then never straddle a cache line).
float* aligned_floats(std::vector<float>& storage, std::size_t count) {
  constexpr std::size_t kAlignFloats = 64 / sizeof(float);
  if (storage.size() < count + kAlignFloats) storage.resize(count + kAlignFloats);
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t skip = ((64 - address % 64) % 64) / sizeof(float);
  return storage.data() + skip;
}

// Packs alpha·op(A)(ic .. ic+mc, pc .. pc+kc) into panels of MR rows:
// dst is (ceil(mc / MR), kc, MR); rows past mc are zero.
void pack_a(Trans trans_a, const float* A, Index lda, float alpha, int ic, int mc, int pc, int kc,
            float* dst) {
  for (int ir = 0; ir < mc; ir += kMR, dst += Index{kc} * kMR) {
    const int rows = std::min(kMR, mc - ir);
    const Index i0 = ic + ir;
    if (trans_a == Trans::No) {
      // op(A)(i, p) = A[i·lda + p]: read each row contiguously, scatter by MR.
      for (int r = 0; r < rows; ++r) {
        const float* src = A + (i0 + r) * lda + pc;
        for (int p = 0; p < kc; ++p) dst[p * kMR + r] = alpha * src[p];
      }
      for (int r = rows; r < kMR; ++r)
        for (int p = 0; p < kc; ++p) dst[p * kMR + r] = 0.0f;
    } else {
      // op(A)(i, p) = A[p·lda + i]: the MR rows of a panel are contiguous in A.
      for (int p = 0; p < kc; ++p) {
        const float* src = A + (pc + p) * lda + i0;
        for (int r = 0; r < rows; ++r) dst[p * kMR + r] = alpha * src[r];
        for (int r = rows; r < kMR; ++r) dst[p * kMR + r] = 0.0f;
      }
    }
  }
}

#if PIPELAB_GEMM_HAVE_AVX2
// Transposes the 8 × 8 block held in rows[0..7], in registers (unpack pairs,
// shuffle quads, swap 128-bit halves).
__attribute__((target("avx2"))) inline void transpose_8x8(__m256 rows[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(rows[0], rows[1]), t1 = _mm256_unpackhi_ps(rows[0], rows[1]);
  const __m256 t2 = _mm256_unpacklo_ps(rows[2], rows[3]), t3 = _mm256_unpackhi_ps(rows[2], rows[3]);
  const __m256 t4 = _mm256_unpacklo_ps(rows[4], rows[5]), t5 = _mm256_unpackhi_ps(rows[4], rows[5]);
  const __m256 t6 = _mm256_unpacklo_ps(rows[6], rows[7]), t7 = _mm256_unpackhi_ps(rows[6], rows[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  rows[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  rows[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  rows[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  rows[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  rows[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  rows[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  rows[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  rows[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One full NR-column panel of a Trans::Yes pack, dst(p, c) = src[c·ldb + p], moved
// as 8 × 8 blocks through registers: several times faster than scattering floats,
// which matters when a small micro-batch (few rows) reuses each panel little.
__attribute__((target("avx2"))) void pack_b_panel_transposed_avx2(const float* src, Index ldb,
                                                                  int kc, float* dst) {
  int p = 0;
  for (; p + 8 <= kc; p += 8)
    for (int half = 0; half < kNR; half += 8) {
      // rows[c] = stored row (half + c) of B, i.e. column half + c of op(B), depths p .. p+7
      __m256 rows[8];
      for (int c = 0; c < 8; ++c) rows[c] = _mm256_loadu_ps(src + (half + c) * ldb + p);
      transpose_8x8(rows);  // rows[q] = depth p + q, columns half .. half+7
      for (int q = 0; q < 8; ++q) _mm256_storeu_ps(dst + (p + q) * kNR + half, rows[q]);
    }
  for (; p < kc; ++p)  // the last kc % 8 depths
    for (int c = 0; c < kNR; ++c) dst[p * kNR + c] = src[c * ldb + p];
}
#endif

// Packs op(B)(pc .. pc+kc, jc .. jc+nc) into panels of NR columns:
// dst is (ceil(nc / NR), kc, NR); columns past nc are zero. `avx2`: the CPU has it.
void pack_b(Trans trans_b, const float* B, Index ldb, int pc, int kc, int jc, int nc, bool avx2,
            float* dst) {
  for (int jr = 0; jr < nc; jr += kNR, dst += Index{kc} * kNR) {
    const int cols = std::min(kNR, nc - jr);
    const Index j0 = jc + jr;
    if (trans_b == Trans::No) {
      // op(B)(p, j) = B[p·ldb + j]: NR columns are contiguous in each row of B.
      for (int p = 0; p < kc; ++p) {
        const float* src = B + (pc + p) * ldb + j0;
        for (int c = 0; c < cols; ++c) dst[p * kNR + c] = src[c];
        for (int c = cols; c < kNR; ++c) dst[p * kNR + c] = 0.0f;
      }
    } else {
#if PIPELAB_GEMM_HAVE_AVX2
      if (avx2 && cols == kNR) {
        pack_b_panel_transposed_avx2(B + j0 * ldb + pc, ldb, kc, dst);
        continue;
      }
#endif
      (void)avx2;
      // op(B)(p, j) = B[j·ldb + p]: read each stored row contiguously, scatter by NR.
      for (int c = 0; c < cols; ++c) {
        const float* src = B + (j0 + c) * ldb + pc;
        for (int p = 0; p < kc; ++p) dst[p * kNR + c] = src[p];
      }
      for (int c = cols; c < kNR; ++c)
        for (int p = 0; p < kc; ++p) dst[p * kNR + c] = 0.0f;
    }
  }
}

// One MR × NR tile (rows × cols valid). A partial tile runs the same micro-kernel
// on a zero-padded copy, so its elements get exactly the bits a full tile gives.
void run_tile(MicroKernel kernel, int kc, const float* a_panel, const float* b_panel, Index ldb,
              float* c, Index ldc, int rows, int cols) {
  if (rows == kMR && cols == kNR) {
    kernel(kc, a_panel, b_panel, ldb, c, ldc);
    return;
  }
  float tile[kMR * kNR] = {};
  for (int r = 0; r < rows; ++r) std::copy(c + r * ldc, c + r * ldc + cols, tile + r * kNR);
  kernel(kc, a_panel, b_panel, ldb, tile, kNR);
  for (int r = 0; r < rows; ++r) std::copy(tile + r * kNR, tile + r * kNR + cols, c + r * ldc);
}

}  // namespace

// ---- argument checks and C = beta·C (shared with cpu_gemm_blas.cpp) -------------

namespace detail {

namespace {

const char* trans_name(Trans trans) { return trans == Trans::No ? "No" : "Yes"; }

// Throws unless `ld` can hold rows of `row_length` elements of operand `name`.
void check_leading_dim(const char* name, const char* ld_name, int ld, int row_length, Trans trans,
                       const char* stored_shape) {
  if (ld >= row_length) return;
  PIPELAB_THROW(std::string("gemm: ") + ld_name + " = " + std::to_string(ld) +
                    " is smaller than the row length " + std::to_string(row_length) + " of " +
                    name + " (stored " + stored_shape + ", trans = " + trans_name(trans) + ")",
                std::string(ld_name) + " is the distance between consecutive rows of the stored " +
                    name + "; pass " + ld_name + " >= its number of columns");
}

// [first, last) byte range of a stored (rows, cols) matrix with leading dimension ld.
struct ByteRange {
  std::uintptr_t first, last;
};
ByteRange stored_range(const float* base, Index rows, Index cols, Index ld) {
  const auto first = reinterpret_cast<std::uintptr_t>(base);
  return {first, first + static_cast<std::uintptr_t>(((rows - 1) * ld + cols) * sizeof(float))};
}
bool overlap(ByteRange x, ByteRange y) { return x.first < y.last && y.first < x.last; }

}  // namespace

void check_gemm_args(Trans trans_a, Trans trans_b, int m, int n, int k, const float* A, int lda,
                     const float* B, int ldb, const float* C, int ldc) {
  if (m < 0 || n < 0 || k < 0)
    PIPELAB_THROW("gemm: negative size (m, n, k) = (" + std::to_string(m) + ", " +
                      std::to_string(n) + ", " + std::to_string(k) + ")",
                  "m, n, k count rows and columns: pass values >= 0");
  // Stored shapes: A is (m, k) or (k, m); B is (k, n) or (n, k); C is (m, n).
  const int a_rows = trans_a == Trans::No ? m : k, a_cols = trans_a == Trans::No ? k : m;
  const int b_rows = trans_b == Trans::No ? k : n, b_cols = trans_b == Trans::No ? n : k;
  check_leading_dim("A", "lda", lda, a_cols, trans_a, trans_a == Trans::No ? "(m, k)" : "(k, m)");
  check_leading_dim("B", "ldb", ldb, b_cols, trans_b, trans_b == Trans::No ? "(k, n)" : "(n, k)");
  check_leading_dim("C", "ldc", ldc, n, Trans::No, "(m, n)");
  // A buffer may be null exactly when gemm reads nothing from it: C is empty
  // (m == 0 or n == 0) or, for A and B, the depth k is 0.
  const bool c_used = m > 0 && n > 0, a_used = c_used && k > 0, b_used = a_used;
  const char* missing = (a_used && A == nullptr)   ? "A"
                        : (b_used && B == nullptr) ? "B"
                        : (c_used && C == nullptr) ? "C"
                                                   : nullptr;
  if (missing != nullptr)
    PIPELAB_THROW(std::string("gemm: null ") + missing + " with (m, n, k) = (" + std::to_string(m) +
                      ", " + std::to_string(n) + ", " + std::to_string(k) + ")",
                  "a matrix with rows and columns needs a buffer; was it allocated?");
  if (!c_used) return;
  // The packed panels are read while C is written, so C must not share memory with A or B.
  const ByteRange c_range = stored_range(C, m, n, ldc);
  if ((a_used && overlap(c_range, stored_range(A, a_rows, a_cols, lda))) ||
      (b_used && overlap(c_range, stored_range(B, b_rows, b_cols, ldb))))
    PIPELAB_THROW("gemm: C overlaps A or B",
                  "write the product into a separate buffer, then copy it if needed");
}

void scale_c(int m, int n, float beta, float* C, int ldc) {
  if (beta == 1.0f) return;
  for (Index i = 0; i < m; ++i) {
    float* row = C + i * ldc;  // row i of C is (n)
    if (beta == 0.0f)
      std::fill(row, row + n, 0.0f);
    else
      for (int j = 0; j < n; ++j) row[j] *= beta;
  }
}

}  // namespace detail

// ---- public API -----------------------------------------------------------------

bool gemm_kernel_supported(GemmKernel kernel) {
  return kernel != GemmKernel::Avx2Fma || cpu_has_avx2_fma();
}

void set_gemm_kernel_for_this_thread(GemmKernel kernel) {
  if (!gemm_kernel_supported(kernel))
    PIPELAB_THROW(std::string("gemm kernel '") + gemm_kernel_name(kernel) +
                      "' is not supported on this CPU or build",
                  "check gemm_kernel_supported() first, or use GemmKernel::Auto");
  pinned_kernel = kernel;
}

GemmKernel gemm_kernel() {
  if (pinned_kernel != GemmKernel::Auto) return pinned_kernel;
  return cpu_has_avx2_fma() ? GemmKernel::Avx2Fma : GemmKernel::Generic;
}

const char* gemm_kernel_name(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::Auto:
      return "auto";
    case GemmKernel::Generic:
      return "generic";
    case GemmKernel::Avx2Fma:
      return "avx2-fma";
  }
  return "unknown";
}

void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  detail::check_gemm_args(trans_a, trans_b, m, n, k, A, lda, B, ldb, C, ldc);
  if (m == 0 || n == 0) return;

  // 1. C = beta·C; with beta == 0 the old C is never read (it may hold NaN).
  detail::scale_c(m, n, beta, C, ldc);
  if (k == 0 || alpha == 0.0f) return;  // nothing to add: C = beta·C (BLAS convention)

  // 2. C += alpha·op(A)·op(B), block by block (see the file comment).
  const GemmKernel kernel_choice = gemm_kernel();
  const MicroKernel kernel = micro_kernel_for(kernel_choice);
  const bool avx2 = kernel_choice == GemmKernel::Avx2Fma;  // also packs with AVX2
  const int n_block = std::min(kNC, n), k_block = std::min(kKC, k), m_block = std::min(kMC, m);
  const auto round_up = [](int x, int to) { return Index{(x + to - 1) / to * to}; };
  float* packed_b = aligned_floats(scratch.b, round_up(n_block, kNR) * k_block);
  float* packed_a = aligned_floats(scratch.a, round_up(m_block, kMR) * k_block);
  // Few rows use each B panel only a few times, so packing op(B) would cost as much
  // as the product; with Trans::No its rows are already NR-contiguous and are read
  // in place (only a ragged last panel is packed). Same micro-kernel, same bits.
  const bool b_in_place = trans_b == Trans::No && m <= kMaxRowsForUnpackedB;
  for (int jc = 0; jc < n; jc += kNC) {
    const int nc = std::min(kNC, n - jc);
    const int nc_whole = b_in_place ? nc / kNR * kNR : 0;  // columns read in place
    for (int pc = 0; pc < k; pc += kKC) {  // increasing p: each C(i, j) chain stays in order
      const int kc = std::min(kKC, k - pc);
      // packed_b is (ceil((nc − nc_whole) / NR), kc, NR)
      pack_b(trans_b, B, ldb, pc, kc, jc + nc_whole, nc - nc_whole, avx2, packed_b);
      for (int ic = 0; ic < m; ic += kMC) {
        const int mc = std::min(kMC, m - ic);
        pack_a(trans_a, A, lda, alpha, ic, mc, pc, kc, packed_a);  // packed_a is (mc/MR, kc, MR)
        for (int jr = 0; jr < nc; jr += kNR) {
          const bool in_place = jr < nc_whole;
          const float* b_panel = in_place ? B + pc * Index{ldb} + (jc + jr)
                                          : packed_b + Index{(jr - nc_whole) / kNR} * kc * kNR;
          const Index b_stride = in_place ? Index{ldb} : Index{kNR};
          for (int ir = 0; ir < mc; ir += kMR) {
            const float* a_panel = packed_a + Index{ir / kMR} * kc * kMR;
            float* c_tile = C + (ic + ir) * Index{ldc} + (jc + jr);
            run_tile(kernel, kc, a_panel, b_panel, b_stride, c_tile, ldc, std::min(kMR, mc - ir),
                     std::min(kNR, nc - jr));
          }
        }
      }
    }
  }
}

}  // namespace pipelab::kernels::cpu
