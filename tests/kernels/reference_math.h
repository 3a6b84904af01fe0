// tests/kernels/reference_math.h — what the CPU kernels are checked against:
// naive double-precision versions of every kernel, random inputs, central finite
// differences, and the llm.c-style comparison
//   |got − ref| <= atol + rtol · |ref|
// that prints the max difference and the first few mismatches.
//
// Header-only, shared by test_cpu_gemm.cpp, test_cpu_elementwise.cpp, test_cpu_loss.cpp.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pipelab/kernels/cpu.h"

namespace pipelab::kernels::reference {

using cpu::Trans;

// ---- inputs -----------------------------------------------------------------

/// n floats uniform in [lo, hi), reproducible from `seed`.
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> values(n);
  for (float& v : values) v = uniform(rng);
  return values;
}

/// n labels uniform in [0, classes), reproducible from `seed`.
inline std::vector<int> random_labels(std::size_t n, int classes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> uniform(0, classes - 1);
  std::vector<int> labels(n);
  for (int& label : labels) label = uniform(rng);
  return labels;
}

inline std::vector<double> to_double(const std::vector<float>& values) {
  return {values.begin(), values.end()};
}

// ---- naive kernels in double ---------------------------------------------------

/// op(A)(i, p) for A stored row-major with leading dimension lda.
inline double op_at(Trans trans, const float* M, int ld, int row, int col) {
  return trans == Trans::No ? M[std::size_t(row) * ld + col] : M[std::size_t(col) * ld + row];
}

/// C = alpha · op(A) · op(B) + beta · C_in as a dense (m, n) matrix. As in BLAS,
/// beta == 0 ignores C_in and alpha == 0 ignores A and B (NaNs there do not leak).
/// The triple loop, in double.
inline std::vector<double> gemm(Trans trans_a, Trans trans_b, int m, int n, int k, double alpha,
                                const float* A, int lda, const float* B, int ldb, double beta,
                                const float* C_in, int ldc) {
  std::vector<double> C(std::size_t(m) * n);  // C is (m, n)
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;  // Σ_p op(A)(i, p) · op(B)(p, j)
      for (int p = 0; p < k; ++p)
        sum += op_at(trans_a, A, lda, i, p) * op_at(trans_b, B, ldb, p, j);
      const double old = beta == 0.0 ? 0.0 : beta * C_in[std::size_t(i) * ldc + j];
      C[std::size_t(i) * n + j] = (alpha == 0.0 ? 0.0 : alpha * sum) + old;
    }
  return C;
}

/// gelu(x) = 0.5 · x · (1 + erf(x / √2)).
inline double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

/// gelu'(x) = Φ(x) + x · φ(x).
inline double gelu_grad(double x) {
  const double pi = 3.14159265358979323846;
  return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) +
         x * std::exp(-0.5 * x * x) / std::sqrt(2 * pi);
}

/// scale · Σ_i −log softmax(z_i)[y_i] over a (rows, classes) matrix, stable log-sum-exp.
inline double softmax_xent(const std::vector<double>& logits, const int* labels, int rows,
                           int classes, double scale) {
  double total = 0.0;
  for (int i = 0; i < rows; ++i) {
    const double* z = logits.data() + std::size_t(i) * classes;  // z is (classes)
    const double max = *std::max_element(z, z + classes);
    double sum_exp = 0.0;
    for (int j = 0; j < classes; ++j) sum_exp += std::exp(z[j] - max);
    total += max + std::log(sum_exp) - z[labels[i]];  // log Σ exp(z) − z_y
  }
  return scale * total;
}

// ---- finite differences ---------------------------------------------------------

/// Central difference dL/dx_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h of a scalar
/// objective, for every i; x is restored afterwards. Error O(h²) + O(ε_double / h).
template <typename Objective>
std::vector<double> central_differences(std::vector<double>& x, Objective objective,
                                        double h = 1e-4) {
  std::vector<double> grad(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = objective();
    x[i] = saved - h;
    const double down = objective();
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/// Σ_i w_i · y_i: the random projection that turns an output into a scalar loss.
inline double dot(const std::vector<double>& w, const std::vector<double>& y) {
  double sum = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) sum += w[i] * y[i];
  return sum;
}

// ---- comparison ---------------------------------------------------------------

/// Checks |got[i] − ref[i]| <= atol + rtol · |ref[i]| for all i < n. Prints one line
/// with the max difference; on failure the message lists the first 5 mismatches.
/// Use as EXPECT_TRUE(all_close("gemm NN", got, ref, n, atol, rtol)).
template <typename Got>
::testing::AssertionResult all_close(const std::string& what, const Got* got, const double* ref,
                                     std::size_t n, double atol, double rtol) {
  constexpr int kShown = 5;
  double max_diff = 0.0;
  std::size_t mismatches = 0;
  std::ostringstream first;
  for (std::size_t i = 0; i < n; ++i) {
    const double diff = std::fabs(double(got[i]) - ref[i]);
    const bool ok = diff <= atol + rtol * std::fabs(ref[i]);  // NaN fails too
    if (!(diff <= max_diff)) max_diff = diff;
    if (ok) continue;
    if (mismatches < kShown)
      first << "\n  [" << i << "] got " << double(got[i]) << ", ref " << ref[i] << ", |diff| "
            << diff;
    ++mismatches;
  }
  std::printf("[ compare  ] %-44s n=%-7zu max |diff| %.3e  %s\n", what.c_str(), n, max_diff,
              mismatches == 0 ? "OK" : "MISMATCH");
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << mismatches << " of " << n << " values outside atol " << atol
         << " + rtol " << rtol << " · |ref| (max |diff| " << max_diff
         << "); first ones:" << first.str();
}

template <typename Got>
::testing::AssertionResult all_close(const std::string& what, const std::vector<Got>& got,
                                     const std::vector<double>& ref, double atol, double rtol) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure()
           << what << ": size " << got.size() << " vs reference size " << ref.size();
  return all_close(what, got.data(), ref.data(), got.size(), atol, rtol);
}

}  // namespace pipelab::kernels::reference
