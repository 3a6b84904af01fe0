// gemm.cu — cuda::gemm(): argument checks (the CPU reference's), the trivial cases
// (empty C; C = beta·C when alpha == 0 or k == 0), then the chosen variant; and
// GemmEngine, which owns the cuBLAS handle of one stream.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "common.cuh"
#include "gemm_variants.cuh"

namespace pipelab::kernels::cuda {

namespace {

const char* trans_name(Trans trans) { return trans == Trans::No ? "No" : "Yes"; }

void check_leading_dim(const char* name, const char* ld_name, int ld, int row_length, Trans trans,
                       const char* stored_shape) {
  if (ld >= row_length) return;
  PIPELAB_THROW(std::string("cuda::gemm: ") + ld_name + " = " + std::to_string(ld) +
                    " is smaller than the row length " + std::to_string(row_length) + " of " + name + " (stored " +
                    stored_shape + ", trans = " + trans_name(trans) + ")",
                std::string(ld_name) + " is the distance between consecutive rows of the stored " + name +
                    "; pass " + ld_name + " >= its number of columns");
}

// [first, last) byte range of a stored (rows, cols) matrix with leading dimension ld.
struct ByteRange {
  std::uintptr_t first, last;
};
ByteRange stored_range(const float* base, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  const auto first = reinterpret_cast<std::uintptr_t>(base);
  return {first, first + static_cast<std::uintptr_t>(((rows - 1) * ld + cols) * sizeof(float))};
}
bool overlap(ByteRange x, ByteRange y) { return x.first < y.last && y.first < x.last; }

void check_gemm_args(const detail::GemmArgs& g) {
  if (g.m < 0 || g.n < 0 || g.k < 0)
    PIPELAB_THROW("cuda::gemm: negative size (m, n, k) = (" + std::to_string(g.m) + ", " + std::to_string(g.n) +
                      ", " + std::to_string(g.k) + ")",
                  "m, n, k count rows and columns: pass values >= 0");
  // Stored shapes: A is (m, k) or (k, m); B is (k, n) or (n, k); C is (m, n).
  const bool a_no = g.trans_a == Trans::No, b_no = g.trans_b == Trans::No;
  const int a_rows = a_no ? g.m : g.k, a_cols = a_no ? g.k : g.m;
  const int b_rows = b_no ? g.k : g.n, b_cols = b_no ? g.n : g.k;
  check_leading_dim("A", "lda", g.lda, a_cols, g.trans_a, a_no ? "(m, k)" : "(k, m)");
  check_leading_dim("B", "ldb", g.ldb, b_cols, g.trans_b, b_no ? "(k, n)" : "(n, k)");
  check_leading_dim("C", "ldc", g.ldc, g.n, Trans::No, "(m, n)");
  const bool c_used = g.m > 0 && g.n > 0, a_used = c_used && g.k > 0, b_used = a_used;
  if ((a_used && g.A == nullptr) || (b_used && g.B == nullptr) || (c_used && g.C == nullptr))
    PIPELAB_THROW(std::string("cuda::gemm: null ") + (a_used && !g.A ? "A" : b_used && !g.B ? "B" : "C") +
                      " with (m, n, k) = (" + std::to_string(g.m) + ", " + std::to_string(g.n) + ", " +
                      std::to_string(g.k) + ")",
                  "a matrix with rows and columns needs a device buffer; was it allocated?");
  if (!c_used) return;
  // Kernels read A and B while writing C: they must not share memory.
  const ByteRange c_range = stored_range(g.C, g.m, g.n, g.ldc);
  if ((a_used && overlap(c_range, stored_range(g.A, a_rows, a_cols, g.lda))) ||
      (b_used && overlap(c_range, stored_range(g.B, b_rows, b_cols, g.ldb))))
    PIPELAB_THROW("cuda::gemm: C overlaps A or B", "write the product into a separate buffer");
}

// C (m, n) = beta · C; with beta == 0, C = 0 without reading it (it may hold NaN).
__global__ void scale_kernel(float* C, int m, int n, int ldc, float beta) {
  const std::size_t total = static_cast<std::size_t>(m) * n;
  for (std::size_t idx = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; idx < total;
       idx += std::size_t{gridDim.x} * blockDim.x) {
    float* c = C + (idx / n) * static_cast<std::size_t>(ldc) + idx % n;
    *c = beta == 0.0f ? 0.0f : beta * *c;
  }
}

}  // namespace

GemmEngine::GemmEngine(GemmVariant variant, Stream stream, bool allow_tf32)
    : variant_(variant), stream_(stream), allow_tf32_(allow_tf32) {
  if (variant_ != GemmVariant::Cublas) return;
  cublasHandle_t handle = nullptr;
  PIPELAB_CUBLAS_CHECK(cublasCreate(&handle));
  cublas_ = handle;
  try {
    PIPELAB_CUBLAS_CHECK(cublasSetStream(handle, stream_));
    // Full fp32 unless TF32 is asked for; gemm_cublas passes the compute type per call.
    PIPELAB_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  } catch (...) {
    cublasDestroy(handle);
    throw;
  }
}

GemmEngine::~GemmEngine() {
  if (cublas_ != nullptr) cublasDestroy(cublas_);  // no throwing from a destructor
}

void gemm(const GemmEngine& engine, Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* A,
          int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  const detail::GemmArgs args{trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc};
  check_gemm_args(args);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    // Nothing to add (BLAS convention): C = beta · C, A and B unread.
    if (beta == 1.0f) return;
    const std::size_t total = static_cast<std::size_t>(m) * n;
    scale_kernel<<<detail::grid_for(total), detail::kBlock, 0, engine.stream()>>>(C, m, n, ldc, beta);
    PIPELAB_CHECK_LAUNCH("scale_kernel");
    return;
  }
  switch (engine.variant()) {
    case GemmVariant::Naive: detail::gemm_naive(args, engine.stream()); break;
    case GemmVariant::Tiled: detail::gemm_tiled(args, engine.stream()); break;
    case GemmVariant::Register: detail::gemm_register(args, engine.stream()); break;
    case GemmVariant::Vectorized: detail::gemm_vectorized(args, engine.stream()); break;
    case GemmVariant::Cublas: detail::gemm_cublas(args, engine); break;
  }
}

}  // namespace pipelab::kernels::cuda
