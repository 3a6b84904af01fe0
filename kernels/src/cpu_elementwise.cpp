// cpu_elementwise.cpp — the element-wise kernels of the model on the CPU:
// GELU and its derivative, bias + GELU (forward, backward), bias + residual,
// bias gradient, residual gradient (add_inplace) and the SGD update.
//
// Every row is computed independently, so a micro-batch gives the same bits as
// the same rows inside a full batch. Bias gradients are accumulated column by
// column in row order starting from the stored dbias (a plain fp32 chain), so
// accumulating them over micro-batches equals one full-batch call to the bit.
//
// Speed. GELU needs erf and exp; libm's scalar erff + expf cost ~15 ns per element
// here, more than the block's GEMMs at small micro-batches. So Φ(x) and exp are
// written out below with plain +, ×, ÷ and bit operations, without branches, and
// every row loop is one inline body that the compiler vectorizes, compiled twice:
// for baseline x86-64 (SSE2, 4 lanes) and for AVX2 (8 lanes, chosen at run time).
// Neither is compiled for FMA, so no multiply-add is contracted: both give the same
// bits, and gelu() / gelu_grad() are the same math on one element.
//
// Napkin math, bias_gelu_backward on (16, 1024): 16 Ki elements × ~40 operations (exp,
// a degree-9 polynomial, one division) ≈ 0.65 M and 192 KiB moved, ~80 K 8-lane vector
// operations: ~10 µs at 3 GHz. Measured on the kit's 2-core VM: 1.3 ns per element (21 µs)
// against 16 ns (260 µs) with libm (bench/results/2026-12-01-cpu-blas.md).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PIPELAB_ELEMENTWISE_HAVE_AVX2 1
#else
#define PIPELAB_ELEMENTWISE_HAVE_AVX2 0
#endif

namespace pipelab::kernels::cpu {

namespace {

using Index = std::ptrdiff_t;

// Throws unless rows, cols >= 0 and every named buffer is non-null when the
// matrix has elements. `what` names the kernel in the message.
void check_matrix(const char* what, int rows, int cols,
                  std::initializer_list<std::pair<const char*, const void*>> buffers) {
  if (rows < 0 || cols < 0)
    PIPELAB_THROW(std::string(what) + ": negative shape (rows, cols) = (" + std::to_string(rows) +
                      ", " + std::to_string(cols) + ")",
                  "rows and cols count elements: pass values >= 0");
  if (rows == 0 || cols == 0) return;
  for (const auto& [name, pointer] : buffers)
    if (pointer == nullptr)
      PIPELAB_THROW(std::string(what) + ": " + name + " is null for a (" + std::to_string(rows) +
                        ", " + std::to_string(cols) + ") matrix",
                    "pass an allocated buffer of rows · cols floats (cols for a bias)");
}

// Same for a flat vector of n elements.
void check_vector(const char* what, std::size_t n,
                  std::initializer_list<std::pair<const char*, const void*>> buffers) {
  if (n == 0) return;
  for (const auto& [name, pointer] : buffers)
    if (pointer == nullptr)
      PIPELAB_THROW(std::string(what) + ": " + name + " is null for n = " + std::to_string(n),
                    "pass an allocated buffer of n floats");
}

// ---- Φ(x), φ(x) without libm -------------------------------------------------------

#define PIPELAB_INLINE inline __attribute__((always_inline))

PIPELAB_INLINE float float_from_bits(std::int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
PIPELAB_INLINE std::int32_t bits_of(float f) {
  std::int32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// exp(−s) for s >= 0, relative error < 1e-7. s above 80 is taken as 80 (exp ≈ 1.8e-35), so
// that no result here or in normal_cdf_pdf is a denormal (~100× slower on x86):
//   w = n·ln2 + r with n = round(w / ln2), |r| <= ln2 / 2;  exp(w) = 2^n · exp(r),
// exp(r) by its Taylor series to r^7 (remainder < 0.35^8 / 8! ≈ 5e-9), 2^n built in the
// exponent bits. round() is the float trick: adding 1.5·2^23 leaves the integer part in
// the low mantissa bits, so both n and round(w / ln2) come without a conversion call.
PIPELAB_INLINE float exp_of_negative(float s) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;    // ln 2 to 16 bits: n·kLn2Hi is exact
  constexpr float kLn2Lo = 1.42860676533018e-06f;  // ln 2 − kLn2Hi
  constexpr float kRound = 12582912.0f;            // 1.5 · 2^23
  // min(s, 87) on the bits (non-negative floats order like their bits): a float
  // comparison may raise an FP exception, so the compiler would keep it as a branch.
  const std::int32_t s_bits = bits_of(s), max_bits = bits_of(80.0f);
  const float w = -float_from_bits(s_bits < max_bits ? s_bits : max_bits);
  const float shifted = w * kLog2e + kRound;
  const float n = shifted - kRound;                                  // round(w / ln 2)
  const std::int32_t n_int = bits_of(shifted) - bits_of(kRound);   // the same, as an integer
  const float r = (w - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;  // Σ_{i<=7} r^i / i!, Horner
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * float_from_bits((n_int + 127) << 23);  // · 2^n (n >= −116: a normal float)
}

// Φ(x) = 0.5·erfc(−x/√2) and φ(x) = exp(−x²/2)/√(2π), sharing one exp. With z = |x|/√2:
//   erfc(z) = exp(−z²) · R(t),  t = 1 / (1 + z·3/8),
// R(t) a degree-9 polynomial fitted to erfc(z)·exp(z²) on z in [0, 9.5] (relative error
// < 1e-8 in double; bench/results/2026-12-01-cpu-blas.md has the fit). Then Φ = 0.5·erfc
// for x < 0 (small values keep their relative accuracy) and 1 − 0.5·erfc for x >= 0.
// Over x in [−14, 14] in fp32: |gelu − exact| < 4e-7, |gelu' − exact| < 2e-7.
PIPELAB_INLINE void normal_cdf_pdf(float x, float& cdf, float& pdf) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;    // 1 / √2
  constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / √(2π)
  const float z = std::fabs(x) * kInvSqrt2;
  const float e = exp_of_negative(z * z);  // exp(−z²) = exp(−x²/2)
  const float t = 1.0f / (1.0f + 0.375f * z);
  float r = 0.0613807552f;  // R(t), Horner from t^9 down to t^0
  r = r * t - 0.286340743f;
  r = r * t + 0.42976284f;
  r = r * t - 0.225487396f;
  r = r * t + 0.270118296f;
  r = r * t + 0.123624139f;
  r = r * t + 0.204517081f;
  r = r * t + 0.21083416f;
  r = r * t + 0.211589575f;
  r = r * t + 1.32021671e-06f;
  const float half_erfc = 0.5f * (e * r);
  // cdf = x < 0 ? half_erfc : 1 − half_erfc, chosen by x's sign bit: a float comparison
  // may raise an FP exception, so the compiler would keep it as a branch, not a blend.
  const std::int32_t sign = static_cast<std::int32_t>(static_cast<std::uint32_t>(bits_of(x)) >> 31);
  const std::int32_t negative = -sign;  // all ones for x < 0 (and −0), else 0
  const std::int32_t lower = bits_of(half_erfc), upper = bits_of(1.0f - half_erfc);
  cdf = float_from_bits((lower & negative) | (upper & ~negative));
  pdf = kInvSqrt2Pi * e;
}

PIPELAB_INLINE float gelu_inline(float x) {
  float cdf, pdf;
  normal_cdf_pdf(x, cdf, pdf);
  return x * cdf;  // gelu(x) = x · Φ(x)
}

PIPELAB_INLINE float gelu_grad_inline(float x) {
  float cdf, pdf;
  normal_cdf_pdf(x, cdf, pdf);
  return cdf + x * pdf;  // d/dx [x · Φ(x)] = Φ(x) + x · φ(x)
}

// ---- row loops: one body each, compiled for two instruction sets --------------------

PIPELAB_INLINE void bias_gelu_forward_rows(float* a, const float* bias, float* g, int rows,
                                           int cols) {
  for (Index i = 0; i < rows; ++i) {
    float* a_row = a + i * cols;  // a_row is (cols): the pre-activation, kept for backward
    float* g_row = g + i * cols;  // g_row is (cols)
    for (int j = 0; j < cols; ++j) {
      const float pre = a_row[j] + bias[j];  // a = a + bias (broadcast over rows)
      a_row[j] = pre;
      g_row[j] = gelu_inline(pre);
    }
  }
}

PIPELAB_INLINE void bias_gelu_backward_rows(const float* dg, const float* a, float* da,
                                            float* dbias, int rows, int cols) {
  for (Index i = 0; i < rows; ++i) {
    const Index row = i * cols;  // dg, a, da are (rows, cols)
    for (int j = 0; j < cols; ++j) {
      const float grad = dg[row + j] * gelu_grad_inline(a[row + j]);  // chain rule through gelu
      da[row + j] = grad;
      dbias[j] += grad;  // the bias was broadcast over rows: its gradient sums them
    }
  }
}

PIPELAB_INLINE void bias_residual_forward_rows(float* y, const float* bias, const float* x,
                                               int rows, int cols) {
  for (Index i = 0; i < rows; ++i) {
    float* y_row = y + i * cols;        // y_row is (cols)
    const float* x_row = x + i * cols;  // x_row is (cols)
    // y = y + (bias + x): the layer output plus its bias plus the residual input x
    for (int j = 0; j < cols; ++j) y_row[j] += bias[j] + x_row[j];
  }
}

PIPELAB_INLINE void bias_backward_rows(const float* dy, float* dbias, int rows, int cols) {
  // dbias(j) += Σ_i dy(i, j), rows in order (see the file comment on determinism).
  for (Index i = 0; i < rows; ++i) {
    const float* dy_row = dy + i * cols;  // dy_row is (cols)
    for (int j = 0; j < cols; ++j) dbias[j] += dy_row[j];
  }
}

PIPELAB_INLINE void add_inplace_all(float* dst, const float* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];  // dst = dst + src
}

PIPELAB_INLINE void sgd_update_all(float* param, const float* grad, std::size_t n,
                                   float learning_rate) {
  for (std::size_t i = 0; i < n; ++i) param[i] -= learning_rate * grad[i];  // θ = θ − lr · ∇θ
}

// name_base (baseline x86-64 / any CPU) and name_avx2 around the inline body `body`.
#if PIPELAB_ELEMENTWISE_HAVE_AVX2
#define PIPELAB_TWO_ISAS(name, body, params, args)                       \
  void name##_base params { body args; }                                 \
  __attribute__((target("avx2"))) void name##_avx2 params { body args; }
#else
#define PIPELAB_TWO_ISAS(name, body, params, args) \
  void name##_base params { body args; }
#endif

PIPELAB_TWO_ISAS(bias_gelu_forward, bias_gelu_forward_rows,
                 (float* a, const float* bias, float* g, int rows, int cols),
                 (a, bias, g, rows, cols))
PIPELAB_TWO_ISAS(bias_gelu_backward, bias_gelu_backward_rows,
                 (const float* dg, const float* a, float* da, float* dbias, int rows, int cols),
                 (dg, a, da, dbias, rows, cols))
PIPELAB_TWO_ISAS(bias_residual_forward, bias_residual_forward_rows,
                 (float* y, const float* bias, const float* x, int rows, int cols),
                 (y, bias, x, rows, cols))
PIPELAB_TWO_ISAS(bias_backward, bias_backward_rows,
                 (const float* dy, float* dbias, int rows, int cols), (dy, dbias, rows, cols))
PIPELAB_TWO_ISAS(add_inplace, add_inplace_all, (float* dst, const float* src, std::size_t n),
                 (dst, src, n))
PIPELAB_TWO_ISAS(sgd_update, sgd_update_all,
                 (float* param, const float* grad, std::size_t n, float learning_rate),
                 (param, grad, n, learning_rate))

bool cpu_has_avx2() {
#if PIPELAB_ELEMENTWISE_HAVE_AVX2
  static const bool has = __builtin_cpu_supports("avx2");  // computed once, thread-safe
  return has;
#else
  return false;
#endif
}

// Calls name_avx2 on CPUs with AVX2, name_base elsewhere (same bits: see the file comment).
#if PIPELAB_ELEMENTWISE_HAVE_AVX2
#define PIPELAB_DISPATCH(name, args) (cpu_has_avx2() ? name##_avx2 args : name##_base args)
#else
#define PIPELAB_DISPATCH(name, args) name##_base args
#endif

}  // namespace

float gelu(float x) { return gelu_inline(x); }

float gelu_grad(float x) { return gelu_grad_inline(x); }

void bias_gelu_forward(float* a, const float* bias, float* g, int rows, int cols) {
  check_matrix("bias_gelu_forward", rows, cols, {{"a", a}, {"bias", bias}, {"g", g}});
  PIPELAB_DISPATCH(bias_gelu_forward, (a, bias, g, rows, cols));
}

void bias_gelu_backward(const float* dg, const float* a, float* da, float* dbias, int rows,
                        int cols) {
  check_matrix("bias_gelu_backward", rows, cols,
               {{"dg", dg}, {"a", a}, {"da", da}, {"dbias", dbias}});
  PIPELAB_DISPATCH(bias_gelu_backward, (dg, a, da, dbias, rows, cols));
}

void bias_residual_forward(float* y, const float* bias, const float* x, int rows, int cols) {
  check_matrix("bias_residual_forward", rows, cols, {{"y", y}, {"bias", bias}, {"x", x}});
  PIPELAB_DISPATCH(bias_residual_forward, (y, bias, x, rows, cols));
}

void bias_backward(const float* dy, float* dbias, int rows, int cols) {
  check_matrix("bias_backward", rows, cols, {{"dy", dy}, {"dbias", dbias}});
  PIPELAB_DISPATCH(bias_backward, (dy, dbias, rows, cols));
}

void add_inplace(float* dst, const float* src, std::size_t n) {
  check_vector("add_inplace", n, {{"dst", dst}, {"src", src}});
  PIPELAB_DISPATCH(add_inplace, (dst, src, n));
}

void sgd_update(float* param, const float* grad, std::size_t n, float learning_rate) {
  check_vector("sgd_update", n, {{"param", param}, {"grad", grad}});
  if (!std::isfinite(learning_rate))
    PIPELAB_THROW("sgd_update: learning rate is " + std::to_string(learning_rate),
                  "the learning rate must be a finite number; check the run config");
  PIPELAB_DISPATCH(sgd_update, (param, grad, n, learning_rate));
}

}  // namespace pipelab::kernels::cpu
