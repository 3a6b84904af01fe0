// cpu_elementwise.cpp — the element-wise kernels of the model on the CPU:
// GELU and its derivative, bias + GELU (forward, backward), bias + residual,
// bias gradient, residual gradient (add_inplace) and the SGD update.
//
// Every row is computed independently, so a micro-batch gives the same bits as
// the same rows inside a full batch. Bias gradients are accumulated column by
// column in row order starting from the stored dbias (a plain fp32 chain), so
// accumulating them over micro-batches equals one full-batch call to the bit.
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"

namespace pipelab::kernels::cpu {

namespace {

using Index = std::ptrdiff_t;

constexpr float kInvSqrt2 = 0.70710678118654752440f;    // 1 / √2
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / √(2π)

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

}  // namespace

float gelu(float x) {
  // gelu(x) = x · Φ(x) = 0.5 · x · (1 + erf(x / √2))
  return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
}

float gelu_grad(float x) {
  // d/dx [x · Φ(x)] = Φ(x) + x · φ(x), with φ(x) = exp(−x² / 2) / √(2π)
  const float cdf = 0.5f * (1.0f + std::erf(x * kInvSqrt2));
  const float pdf = kInvSqrt2Pi * std::exp(-0.5f * x * x);
  return cdf + x * pdf;
}

void bias_gelu_forward(float* a, const float* bias, float* g, int rows, int cols) {
  check_matrix("bias_gelu_forward", rows, cols, {{"a", a}, {"bias", bias}, {"g", g}});
  for (Index i = 0; i < rows; ++i) {
    float* a_row = a + i * cols;  // a_row is (cols): the pre-activation, kept for backward
    float* g_row = g + i * cols;  // g_row is (cols)
    for (int j = 0; j < cols; ++j) {
      a_row[j] += bias[j];  // a = a + bias (broadcast over rows)
      g_row[j] = gelu(a_row[j]);
    }
  }
}

void bias_gelu_backward(const float* dg, const float* a, float* da, float* dbias, int rows,
                        int cols) {
  check_matrix("bias_gelu_backward", rows, cols,
               {{"dg", dg}, {"a", a}, {"da", da}, {"dbias", dbias}});
  for (Index i = 0; i < rows; ++i) {
    const Index row = i * cols;  // dg, a, da are (rows, cols)
    for (int j = 0; j < cols; ++j) {
      da[row + j] = dg[row + j] * gelu_grad(a[row + j]);  // chain rule through gelu
      dbias[j] += da[row + j];  // the bias was broadcast over rows: its gradient sums them
    }
  }
}

void bias_residual_forward(float* y, const float* bias, const float* x, int rows, int cols) {
  check_matrix("bias_residual_forward", rows, cols, {{"y", y}, {"bias", bias}, {"x", x}});
  for (Index i = 0; i < rows; ++i) {
    float* y_row = y + i * cols;        // y_row is (cols)
    const float* x_row = x + i * cols;  // x_row is (cols)
    // y = y + (bias + x): the layer output plus its bias plus the residual input x
    for (int j = 0; j < cols; ++j) y_row[j] += bias[j] + x_row[j];
  }
}

void bias_backward(const float* dy, float* dbias, int rows, int cols) {
  check_matrix("bias_backward", rows, cols, {{"dy", dy}, {"dbias", dbias}});
  // dbias(j) += Σ_i dy(i, j), rows in order (see the file comment on determinism).
  for (Index i = 0; i < rows; ++i) {
    const float* dy_row = dy + i * cols;  // dy_row is (cols)
    for (int j = 0; j < cols; ++j) dbias[j] += dy_row[j];
  }
}

void add_inplace(float* dst, const float* src, std::size_t n) {
  check_vector("add_inplace", n, {{"dst", dst}, {"src", src}});
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];  // dst = dst + src
}

void sgd_update(float* param, const float* grad, std::size_t n, float learning_rate) {
  check_vector("sgd_update", n, {{"param", param}, {"grad", grad}});
  if (!std::isfinite(learning_rate))
    PIPELAB_THROW("sgd_update: learning rate is " + std::to_string(learning_rate),
                  "the learning rate must be a finite number; check the run config");
  for (std::size_t i = 0; i < n; ++i) param[i] -= learning_rate * grad[i];  // θ = θ − lr · ∇θ
}

}  // namespace pipelab::kernels::cpu
