// pipelab/kernels/cuda.h — the model's math on the GPU: one CUDA kernel per CPU
// reference in cpu.h (same shapes, same conventions, same argument checks), and
// GEMM in five variants (four numbered teaching kernels, naive to vectorized, and cuBLAS).
//
// Buffers are device pointers to row-major fp32 (labels: int32). Every function
// enqueues its work on `stream` and returns without waiting; argument and launch
// errors are checked at once and thrown as pipelab::Error. A fault while a kernel
// runs surfaces at the caller's next synchronization, checked with PIPELAB_CUDA_CHECK.
//
// This header includes no CUDA header, so plain C++ (core/, tests/) can use it.
// Built only when CMake found nvcc (PIPELAB_HAVE_CUDA): kernels/cuda/. Tested
// against the CPU reference in tests/gpu/test_gpu_kernels.cpp.
//
// Numerics next to the CPU reference:
//   - element-wise kernels, bias gradients and SGD round exactly like the CPU code
//     (no fused multiply-add where the CPU has none; bias gradients add rows in
//     order); only erff/expf may differ from the C library by an ulp or two;
//   - softmax cross-entropy works in double, like the CPU, but sums a row in a tree;
//   - GEMM sums in a different order than the CPU (and TF32, when allowed, rounds the
//     inputs to 10 mantissa bits), so it matches within a stated tolerance, not bits.
#pragma once

#include <cstddef>

#include "pipelab/kernels/cpu.h"

// CUDA's stream and cuBLAS handle types (cudaStream_t is CUstream_st*,
// cublasHandle_t is cublasContext*), declared so that this header needs no CUDA include.
struct CUstream_st;
struct cublasContext;

namespace pipelab::kernels::cuda {

using cpu::Trans;
/// A CUDA stream (cudaStream_t).
using Stream = CUstream_st*;

// ---- errors -----------------------------------------------------------------

/// Throws pipelab::Error unless `status` (a cudaError_t) is cudaSuccess. The message
/// names the call, the error's name and text; the hint says what to try.
void check_cuda(int status, const char* call, const char* file, int line);
/// Same for a cublasStatus_t.
void check_cublas(int status, const char* call, const char* file, int line);

/// Check a CUDA runtime call: PIPELAB_CUDA_CHECK(cudaMemcpy(...));
#define PIPELAB_CUDA_CHECK(call) \
  ::pipelab::kernels::cuda::check_cuda(static_cast<int>(call), #call, __FILE__, __LINE__)
/// Check a cuBLAS call.
#define PIPELAB_CUBLAS_CHECK(call) \
  ::pipelab::kernels::cuda::check_cublas(static_cast<int>(call), #call, __FILE__, __LINE__)

// ---- GEMM -------------------------------------------------------------------

/// Which GEMM implementation runs: the teaching kernels in the order to read them
/// (v1 .. v4, each file's header says what changed from the one before), then cuBLAS.
enum class GemmVariant {
  Naive,       ///< v1: one thread per C(i, j), the textbook triple loop (gemm_naive.cu)
  Tiled,       ///< v2: 64 × 64 shared-memory tiles, 4 × 4 outputs per thread (gemm_tiled.cu)
  Register,    ///< v3: 128 × 128 tiles, an 8 × 8 register tile per thread (gemm_register.cu)
  Vectorized,  ///< v4: v3 + float4 loads and double-buffered shared tiles (gemm_vectorized.cu)
  Cublas,      ///< cuBLAS cublasGemmEx (gemm_cublas.cu): the fast one, the default
};
/// "naive", "tiled", "register", "vectorized", "cublas".
const char* to_string(GemmVariant variant);

/// Everything a GEMM needs besides its operands: the variant, the stream, and for
/// cuBLAS a handle bound to that stream. One per stream (a cuBLAS handle must not be
/// shared between threads). Create it with the stream's device current.
class GemmEngine {
 public:
  /// `allow_tf32`: cuBLAS may round the inputs to TF32 and use tensor cores
  /// (CUBLAS_COMPUTE_32F_FAST_TF32). The hand-written kernels are always full fp32.
  GemmEngine(GemmVariant variant, Stream stream, bool allow_tf32);
  ~GemmEngine();
  GemmEngine(const GemmEngine&) = delete;
  GemmEngine& operator=(const GemmEngine&) = delete;

  GemmVariant variant() const { return variant_; }  ///< which implementation gemm() runs
  Stream stream() const { return stream_; }         ///< where gemm() enqueues its work
  /// True when TF32 is allowed and the variant is cuBLAS (the only one that uses it).
  bool tf32() const { return allow_tf32_ && variant_ == GemmVariant::Cublas; }
  /// The cuBLAS handle (nullptr unless the variant is Cublas).
  cublasContext* cublas() const { return cublas_; }

 private:
  GemmVariant variant_;
  Stream stream_;
  bool allow_tf32_;
  cublasContext* cublas_ = nullptr;
};

/// C = alpha · op(A) · op(B) + beta · C on the GPU, row-major, with exactly the
/// contract of cpu::gemm (shapes, leading dimensions, beta == 0 never reads C,
/// alpha == 0 or k == 0 never reads A and B, C must not overlap A or B) except the
/// summation order (see the file comment). Runs on engine.stream().
void gemm(const GemmEngine& engine, Trans trans_a, Trans trans_b, int m, int n, int k, float alpha,
          const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

// ---- element-wise ---------------------------------------------------------------

/// a (rows, cols) += bias (cols) broadcast over rows, in place; then g = gelu(a).
void bias_gelu_forward(float* a, const float* bias, float* g, int rows, int cols, Stream stream);

/// da = dg ⊙ gelu'(a); dbias (cols) += Σ_rows da (rows added in order, onto the
/// stored dbias, as on the CPU). da may be the same buffer as dg.
void bias_gelu_backward(const float* dg, const float* a, float* da, float* dbias, int rows, int cols,
                        Stream stream);

/// y (rows, cols) += bias (cols, broadcast) + x (rows, cols), in place.
void bias_residual_forward(float* y, const float* bias, const float* x, int rows, int cols,
                           Stream stream);

/// dbias (cols) += Σ_rows dy (rows, cols), rows added in order.
void bias_backward(const float* dy, float* dbias, int rows, int cols, Stream stream);

/// dst[i] += src[i] for i < n.
void add_inplace(float* dst, const float* src, std::size_t n, Stream stream);

/// param[i] −= learning_rate · grad[i] for i < n. Throws if the rate is not finite.
void sgd_update(float* param, const float* grad, std::size_t n, float learning_rate, Stream stream);

// ---- loss -------------------------------------------------------------------------

/// Per-row softmax cross-entropy, unscaled, in double:
///   row_loss[i] = −log softmax(logits_i)[labels_i]   (logits is (rows, classes)).
/// The CPU's softmax_xent_forward(scale) equals scale · Σ_i row_loss[i]; the sum is
/// left to the caller (on the host, in row order) so no device-wide reduction is
/// needed. A label outside [0, classes) gives row_loss[i] = NaN (device data cannot
/// be checked before the launch without a copy; validate labels when uploading them).
void softmax_xent_forward(const float* logits, const int* labels, int rows, int classes,
                          double* row_loss, Stream stream);

/// dlogits_i = scale · (softmax(logits_i) − onehot(labels_i)), overwriting dlogits.
/// A label outside [0, classes) makes that row NaN.
void softmax_xent_backward(const float* logits, const int* labels, float* dlogits, int rows, int classes,
                           float scale, Stream stream);

}  // namespace pipelab::kernels::cuda
