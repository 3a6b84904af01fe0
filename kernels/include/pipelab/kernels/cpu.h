// pipelab/kernels/cpu.h — the math of the model on plain buffers (CPU reference).
//
// Every function works on row-major fp32 buffers owned by the caller; nothing
// here knows about stages, schedules or devices. Each CUDA kernel (kernels/cuda)
// has its reference here. Errors (bad sizes) throw pipelab::Error.
//
// Shapes use (rows, cols). b = rows of a (micro-)batch, d = width, h = hidden.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace pipelab::kernels::cpu {

/// Whether a GEMM operand is used as stored or transposed.
enum class Trans { No, Yes };

/// C = alpha · op(A) · op(B) + beta · C, all row-major: the hand-written reference
/// (GemmImpl::Reference; gemm(GemmImpl, ...) below chooses between implementations).
///   op(A) is (m, k): A is stored (m, k) with lda >= k (Trans::No) or (k, m) with lda >= m (Yes).
///   op(B) is (k, n): B is stored (k, n) with ldb >= n (Trans::No) or (n, k) with ldb >= k (Yes).
///   C is (m, n) with ldc >= n. beta == 0 means C is not read (may hold NaN);
///   alpha == 0 or k == 0 means C = beta · C and A, B are not read (BLAS convention).
/// Determinism contract: each C(i, j) sums over p = 0..k-1 in an order that depends
/// only on k — never on m, n, the row offset or any blocking — so computing a batch
/// in one call or split into row blocks (micro-batches) gives bit-identical rows.
/// The CPU reference goes further: C(i, j) is one sequential chain
///   c = beta·C(i, j);  for p = 0..k-1: c += (alpha·op(A)(i, p)) · op(B)(p, j)
/// rounded to fp32 after every step (fused multiply-add on CPUs with AVX2+FMA).
/// So splitting k into consecutive chunks — first call with the caller's beta, the
/// others with beta = 1 — is bit-identical too: weight gradients accumulated over
/// micro-batches equal the full-batch gradient to the bit. The last bits can differ
/// between micro-kernels (gemm_kernel(): one per CPU unless a thread pins another).
/// C's stored span (from C to the last element) must not overlap A's or B's: throws.
/// Safe to call from several threads at once.
void gemm(Trans trans_a, Trans trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

/// The micro-kernels gemm() can run. Auto = the fastest one this CPU supports.
enum class GemmKernel { Auto, Generic, Avx2Fma };
/// Whether this build and this CPU can run `kernel` (Auto and Generic: always).
bool gemm_kernel_supported(GemmKernel kernel);
/// Pins the micro-kernel for gemm() calls made on the calling thread only (tests,
/// diagnostics); Auto restores the automatic choice. Throws if not supported.
void set_gemm_kernel_for_this_thread(GemmKernel kernel);
/// The micro-kernel gemm() uses on the calling thread (never Auto).
GemmKernel gemm_kernel();
/// "generic" or "avx2-fma": for reports and trace metadata.
const char* gemm_kernel_name(GemmKernel kernel);

/// The GEMM implementations the cpu backend can run (`--gemm reference|blas`).
enum class GemmImpl {
  Reference,  ///< gemm() above: the hand-written kernel, for teaching; bit-exact splits
  Blas,       ///< cblas_sgemm of the BLAS found at configure time (Debian's OpenBLAS)
};
/// "reference" or "blas": the one spelling in flags, reports and traces.
const char* to_string(GemmImpl impl);
/// The implementation named `name`, if there is one by that name (built or not).
std::optional<GemmImpl> gemm_impl_named(const std::string& name);
/// "reference, blas": every name, for hints.
std::string gemm_impl_names();
/// Whether this build can run `impl` (Reference: always; Blas: when built with a BLAS
/// that is safe to call from several threads at once).
bool gemm_impl_available(GemmImpl impl);
/// Why `impl` is not available ("" when it is): what to install or rebuild.
std::string gemm_impl_unavailable_reason(GemmImpl impl);
/// Blas where built, else Reference.
GemmImpl default_gemm_impl();
/// What runs, for reports and trace metadata: "reference avx2-fma" (the calling
/// thread's micro-kernel), "blas OpenBLAS 0.3.21 Cooperlake, 1 thread per call".
std::string gemm_impl_description(GemmImpl impl);

/// gemm() by `impl`, with the same arguments, checks and BLAS conventions (beta == 0
/// never reads C; k == 0 or alpha == 0 only scales C). Blas keeps every determinism
/// promise of the reference except the bit-exact splits: its summation order may change
/// with m, n and k (kernels for small and large problems), so a split agrees with one
/// call to rounding (~1e-6 relative), not to the bit. Both are deterministic for a given
/// call and safe to call from several threads at once. Throws if `impl` is not available.
void gemm(GemmImpl impl, Trans trans_a, Trans trans_b, int m, int n, int k, float alpha,
          const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

/// GELU, exact form: gelu(x) = x · Φ(x) = 0.5 · x · (1 + erf(x / √2)). Computed without
/// libm (cpu_elementwise.cpp): within 4e-7 of the exact value over x in [−14, 14].
float gelu(float x);
/// d gelu / dx = Φ(x) + x · φ(x), φ the standard normal density (within 2e-7, same way).
float gelu_grad(float x);

/// a (rows, cols) += bias (cols) broadcast over rows, in place; then g = gelu(a).
void bias_gelu_forward(float* a, const float* bias, float* g, int rows, int cols);

/// Backward of bias_gelu_forward: da = dg ⊙ gelu'(a); dbias (cols) += Σ_rows da.
/// `a` is the pre-activation (after the bias add). dbias is accumulated, not overwritten.
/// da may be the same buffer as dg (computed in place).
void bias_gelu_backward(const float* dg, const float* a, float* da, float* dbias, int rows,
                        int cols);

/// Residual + bias: y (rows, cols) += bias (cols, broadcast) + x (rows, cols), in place.
void bias_residual_forward(float* y, const float* bias, const float* x, int rows, int cols);

/// dbias (cols) += Σ_rows dy (rows, cols): the backward of any broadcast bias add.
/// Rows are added one by one, in order, onto the stored dbias (same in
/// bias_gelu_backward), so accumulating over micro-batches equals one call to the bit.
void bias_backward(const float* dy, float* dbias, int rows, int cols);

/// dst[i] += src[i] for i < n: the backward of a residual connection (dx += dy).
void add_inplace(float* dst, const float* src, std::size_t n);

/// Softmax cross-entropy, summed over rows and multiplied by `scale`:
///   returns scale · Σ_i −log softmax(logits_i)[labels_i]   (logits is (rows, classes)).
/// Numerically stable (subtracts the row max). Labels outside [0, classes) throw.
/// Use scale = 1 / global_batch so that micro-batch losses add up to the batch mean.
double softmax_xent_forward(const float* logits, const int* labels, int rows, int classes,
                            float scale);

/// Gradient of softmax_xent_forward w.r.t. logits:
///   dlogits_i = scale · (softmax(logits_i) − onehot(labels_i)). Overwrites dlogits.
void softmax_xent_backward(const float* logits, const int* labels, float* dlogits, int rows,
                           int classes, float scale);

/// Plain SGD: param[i] −= lr · grad[i] for i < n.
void sgd_update(float* param, const float* grad, std::size_t n, float learning_rate);

}  // namespace pipelab::kernels::cpu
