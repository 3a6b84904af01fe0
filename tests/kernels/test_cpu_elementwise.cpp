// tests/kernels/test_cpu_elementwise.cpp — GELU (also over its whole range), bias + GELU,
// bias + residual, bias gradient, add_inplace and SGD against double-precision references;
// the vectorized row kernels give the scalar gelu's bits; every backward
// against central finite differences of a scalar objective L = Σ w ⊙ out (w random)
// computed in double; micro-batch bit-identity of the bias gradients; bad arguments.
//
// Run: ./build/tests/pipelab_kernel_tests --gtest_filter='Gelu*:Bias*:AddInplace*:Sgd*:Elem*'
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "reference_math.h"

namespace {

namespace cpu = pipelab::kernels::cpu;
namespace ref = pipelab::kernels::reference;

// (rows, cols) with no common tile size; the second list is small enough for
// finite differences, which evaluate the whole objective twice per input.
struct Shape {
  int rows, cols;
};
constexpr Shape kShapes[] = {{1, 1}, {1, 130}, {7, 33}, {33, 130}, {130, 7}};
constexpr Shape kGradShapes[] = {{1, 1}, {1, 33}, {7, 33}, {33, 7}};

std::string shape_label(const char* what, Shape s) {
  return std::string(what) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

// Inputs of a GELU over (−4, 4): covers both tails and the curved middle.
std::vector<float> preactivations(std::size_t n, std::uint32_t seed) {
  return ref::random_floats(n, seed, -4.0f, 4.0f);
}

TEST(GeluCpu, MatchesReference) {
  std::vector<float> x = preactivations(4096, 1);
  for (float edge : {0.0f, -0.0f, 1e-30f, -10.0f, 10.0f, -30.0f, 30.0f}) x.push_back(edge);
  std::vector<float> got(x.size()), got_grad(x.size());
  std::vector<double> want(x.size()), want_grad(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    got[i] = cpu::gelu(x[i]);
    got_grad[i] = cpu::gelu_grad(x[i]);
    want[i] = ref::gelu(x[i]);
    want_grad[i] = ref::gelu_grad(x[i]);
  }
  EXPECT_TRUE(ref::all_close("gelu", got, want, 1e-6, 1e-5));
  EXPECT_TRUE(ref::all_close("gelu_grad", got_grad, want_grad, 1e-6, 1e-5));
}

// gelu() has no libm call (cpu_elementwise.cpp: exp and Φ written out): check it over
// the whole range where Φ is neither 0 nor 1 in fp32, densely, and past it.
TEST(GeluCpu, MatchesReferenceOverTheWholeRange) {
  std::vector<float> x;
  for (int i = 0; i <= 280000; ++i) x.push_back(-14.0f + 1e-4f * float(i));
  for (float edge : {-87.0f, -20.0f, 20.0f, 87.0f, 1e-38f, -1e-38f}) x.push_back(edge);
  std::vector<float> got(x.size()), got_grad(x.size());
  std::vector<double> want(x.size()), want_grad(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    got[i] = cpu::gelu(x[i]);
    got_grad[i] = cpu::gelu_grad(x[i]);
    want[i] = ref::gelu(x[i]);
    want_grad[i] = ref::gelu_grad(x[i]);
  }
  EXPECT_TRUE(ref::all_close("gelu on [-14, 14]", got, want, 1e-6, 1e-5));
  EXPECT_TRUE(ref::all_close("gelu_grad on [-14, 14]", got_grad, want_grad, 1e-6, 1e-5));
  EXPECT_TRUE(std::isnan(cpu::gelu(std::numeric_limits<float>::quiet_NaN())));
}

// The row kernels are vectorized (and dispatched by CPU); each element must still be
// exactly the scalar gelu / gelu_grad, whatever the row length (vector tails).
TEST(BiasGeluCpu, RowKernelsGiveTheScalarFunctionsBits) {
  for (int cols : {1, 3, 7, 8, 9, 15, 16, 17, 33, 130}) {
    const int rows = 3;
    const std::size_t n = std::size_t(rows) * cols;
    std::vector<float> a = preactivations(n, 90 + cols), g(n), da(n), dbias(cols, 0.0f);
    const std::vector<float> bias = ref::random_floats(cols, 91), dg = ref::random_floats(n, 92);
    const std::vector<float> a_in = a;
    cpu::bias_gelu_forward(a.data(), bias.data(), g.data(), rows, cols);
    cpu::bias_gelu_backward(dg.data(), a.data(), da.data(), dbias.data(), rows, cols);
    for (std::size_t i = 0; i < n; ++i) {
      const float pre = a_in[i] + bias[i % cols];
      const float want_g = cpu::gelu(pre), want_da = dg[i] * cpu::gelu_grad(pre);
      ASSERT_EQ(std::memcmp(&a[i], &pre, sizeof(float)), 0) << "cols " << cols << " [" << i << "]";
      ASSERT_EQ(std::memcmp(&g[i], &want_g, sizeof(float)), 0) << "cols " << cols << " [" << i << "]";
      ASSERT_EQ(std::memcmp(&da[i], &want_da, sizeof(float)), 0) << "cols " << cols << " [" << i << "]";
    }
  }
}

TEST(GeluCpu, GradMatchesFiniteDifferences) {
  const std::vector<float> x = preactivations(1024, 2);
  std::vector<float> got(x.size());
  std::vector<double> numeric(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    got[i] = cpu::gelu_grad(x[i]);
    std::vector<double> xi = {x[i]};
    numeric[i] = ref::central_differences(xi, [&] { return ref::gelu(xi[0]); })[0];
  }
  EXPECT_TRUE(ref::all_close("gelu_grad vs finite differences", got, numeric, 1e-6, 1e-5));
}

TEST(BiasGeluCpu, ForwardMatchesReference) {
  std::uint32_t seed = 10;
  for (Shape s : kShapes) {
    const std::size_t n = std::size_t(s.rows) * s.cols;
    std::vector<float> a = preactivations(n, ++seed), g(n);
    const std::vector<float> bias = ref::random_floats(s.cols, ++seed);
    std::vector<double> want_a(n), want_g(n);
    for (std::size_t i = 0; i < n; ++i) {
      want_a[i] = double(a[i]) + bias[i % s.cols];  // a + bias, broadcast over rows
      want_g[i] = ref::gelu(want_a[i]);
    }
    cpu::bias_gelu_forward(a.data(), bias.data(), g.data(), s.rows, s.cols);
    EXPECT_TRUE(ref::all_close(shape_label("bias_gelu_forward a", s), a, want_a, 1e-6, 1e-6));
    EXPECT_TRUE(ref::all_close(shape_label("bias_gelu_forward g", s), g, want_g, 1e-6, 1e-5));
  }
}

// L(a, bias) = Σ w ⊙ gelu(a + bias). The kernel gets dg = w and the pre-activation
// a + bias; it must return da = ∂L/∂a and add ∂L/∂bias to the dbias it is given.
TEST(BiasGeluCpu, BackwardMatchesFiniteDifferences) {
  std::uint32_t seed = 20;
  for (Shape s : kGradShapes) {
    const std::size_t n = std::size_t(s.rows) * s.cols;
    const std::vector<float> a_in = preactivations(n, ++seed),
                             bias = ref::random_floats(s.cols, ++seed);
    const std::vector<float> w = ref::random_floats(n, ++seed);
    const std::vector<float> dbias_before = ref::random_floats(s.cols, ++seed);
    std::vector<float> pre = a_in, g(n), da(n), dbias = dbias_before;
    cpu::bias_gelu_forward(pre.data(), bias.data(), g.data(), s.rows, s.cols);
    cpu::bias_gelu_backward(w.data(), pre.data(), da.data(), dbias.data(), s.rows, s.cols);

    std::vector<double> a = ref::to_double(a_in), b = ref::to_double(bias);
    const std::vector<double> wd = ref::to_double(w);
    const auto loss = [&] {  // Σ_ij w_ij · gelu(a_ij + b_j)
      double total = 0.0;
      for (std::size_t i = 0; i < n; ++i) total += wd[i] * ref::gelu(a[i] + b[i % s.cols]);
      return total;
    };
    const std::vector<double> numeric_da = ref::central_differences(a, loss);
    std::vector<double> numeric_dbias = ref::central_differences(b, loss);
    for (int j = 0; j < s.cols; ++j) numeric_dbias[j] += dbias_before[j];  // dbias accumulates
    EXPECT_TRUE(
        ref::all_close(shape_label("bias_gelu_backward da", s), da, numeric_da, 1e-5, 1e-4));
    EXPECT_TRUE(ref::all_close(shape_label("bias_gelu_backward dbias", s), dbias, numeric_dbias,
                               1e-5 * s.rows, 1e-4));
  }
}

// The model computes da over dg's buffer: in place must give the same bits.
TEST(BiasGeluCpu, BackwardInPlaceOverDgIsBitIdentical) {
  const int rows = 33, cols = 130;
  const std::vector<float> dg = ref::random_floats(std::size_t(rows) * cols, 25);
  const std::vector<float> a = preactivations(dg.size(), 26);
  std::vector<float> da(dg.size()), dbias(cols, 0.0f), in_place = dg, dbias_in_place(cols, 0.0f);
  cpu::bias_gelu_backward(dg.data(), a.data(), da.data(), dbias.data(), rows, cols);
  cpu::bias_gelu_backward(in_place.data(), a.data(), in_place.data(), dbias_in_place.data(), rows,
                          cols);
  EXPECT_EQ(std::memcmp(da.data(), in_place.data(), da.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(dbias.data(), dbias_in_place.data(), cols * sizeof(float)), 0);
}

TEST(BiasResidualCpu, ForwardMatchesReference) {
  std::uint32_t seed = 30;
  for (Shape s : kShapes) {
    const std::size_t n = std::size_t(s.rows) * s.cols;
    std::vector<float> y = ref::random_floats(n, ++seed);
    const std::vector<float> x = ref::random_floats(n, ++seed),
                             bias = ref::random_floats(s.cols, ++seed);
    std::vector<double> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = double(y[i]) + bias[i % s.cols] + x[i];
    cpu::bias_residual_forward(y.data(), bias.data(), x.data(), s.rows, s.cols);
    EXPECT_TRUE(ref::all_close(shape_label("bias_residual_forward", s), y, want, 1e-6, 1e-6));
  }
}

// L(y, bias, x) = Σ w ⊙ (y + bias + x). Its backward in the model: dy passes through,
// dx += w (add_inplace: the residual branch), dbias += Σ_rows w (bias_backward).
TEST(BiasResidualCpu, BackwardMatchesFiniteDifferences) {
  std::uint32_t seed = 40;
  for (Shape s : kGradShapes) {
    const std::size_t n = std::size_t(s.rows) * s.cols;
    const std::vector<float> y_in = ref::random_floats(n, ++seed),
                             x_in = ref::random_floats(n, ++seed);
    const std::vector<float> bias = ref::random_floats(s.cols, ++seed),
                             w = ref::random_floats(n, ++seed);
    const std::vector<float> dx_before = ref::random_floats(n, ++seed);
    const std::vector<float> dbias_before = ref::random_floats(s.cols, ++seed);
    std::vector<float> dx = dx_before, dbias = dbias_before;
    cpu::add_inplace(dx.data(), w.data(), n);
    cpu::bias_backward(w.data(), dbias.data(), s.rows, s.cols);

    std::vector<double> y = ref::to_double(y_in), x = ref::to_double(x_in),
                        b = ref::to_double(bias);
    const std::vector<double> wd = ref::to_double(w);
    const auto loss = [&] {  // Σ_ij w_ij · (y_ij + b_j + x_ij)
      double total = 0.0;
      for (std::size_t i = 0; i < n; ++i) total += wd[i] * (y[i] + b[i % s.cols] + x[i]);
      return total;
    };
    std::vector<double> numeric_dx = ref::central_differences(x, loss);
    std::vector<double> numeric_dbias = ref::central_differences(b, loss);
    const std::vector<double> numeric_dy = ref::central_differences(y, loss);
    for (std::size_t i = 0; i < n; ++i) numeric_dx[i] += dx_before[i];     // dx accumulates
    for (int j = 0; j < s.cols; ++j) numeric_dbias[j] += dbias_before[j];  // dbias accumulates
    EXPECT_TRUE(
        ref::all_close(shape_label("residual dy (pass-through)", s), w, numeric_dy, 1e-6, 1e-6));
    EXPECT_TRUE(
        ref::all_close(shape_label("residual dx (add_inplace)", s), dx, numeric_dx, 1e-6, 1e-6));
    EXPECT_TRUE(ref::all_close(shape_label("bias_backward dbias", s), dbias, numeric_dbias,
                               1e-6 * s.rows, 1e-6));
  }
}

// Bias gradients accumulated over micro-batches equal one full-batch call, bit for bit.
TEST(BiasBackwardCpu, MicroBatchAccumulationIsBitIdentical) {
  const int rows = 130, cols = 33;
  const int splits[] = {0, 1, 8, 9, 64, 130};
  const std::vector<float> dy = ref::random_floats(std::size_t(rows) * cols, 50);
  const std::vector<float> a = preactivations(std::size_t(rows) * cols, 51);
  const std::vector<float> dbias0 = ref::random_floats(cols, 52);
  std::vector<float> whole = dbias0, split = dbias0;
  std::vector<float> whole_gelu = dbias0, split_gelu = dbias0, da(dy.size());
  cpu::bias_backward(dy.data(), whole.data(), rows, cols);
  cpu::bias_gelu_backward(dy.data(), a.data(), da.data(), whole_gelu.data(), rows, cols);
  for (std::size_t s = 0; s + 1 < std::size(splits); ++s) {
    const std::size_t offset = std::size_t(splits[s]) * cols;
    const int mb_rows = splits[s + 1] - splits[s];
    cpu::bias_backward(dy.data() + offset, split.data(), mb_rows, cols);
    cpu::bias_gelu_backward(dy.data() + offset, a.data() + offset, da.data() + offset,
                            split_gelu.data(), mb_rows, cols);
  }
  EXPECT_EQ(std::memcmp(whole.data(), split.data(), cols * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(whole_gelu.data(), split_gelu.data(), cols * sizeof(float)), 0);
}

TEST(AddInplaceCpu, MatchesReference) {
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{4291}}) {
    std::vector<float> dst = ref::random_floats(n, 60);
    const std::vector<float> src = ref::random_floats(n, 61);
    std::vector<double> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = double(dst[i]) + src[i];
    cpu::add_inplace(dst.data(), src.data(), n);
    EXPECT_TRUE(ref::all_close("add_inplace n=" + std::to_string(n), dst, want, 1e-7, 1e-6));
  }
}

TEST(SgdCpu, MatchesReference) {
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{4291}}) {
    std::vector<float> param = ref::random_floats(n, 70);
    const std::vector<float> grad = ref::random_floats(n, 71, -10.0f, 10.0f);
    const float lr = 0.05f;
    std::vector<double> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = double(param[i]) - double(lr) * grad[i];
    cpu::sgd_update(param.data(), grad.data(), n, lr);
    EXPECT_TRUE(ref::all_close("sgd_update n=" + std::to_string(n), param, want, 1e-7, 1e-6));
  }
}

TEST(ElementwiseCpuArguments, BadArgumentsThrow) {
  std::vector<float> buf(16, 1.0f), out(16), bias(4, 0.0f);
  float* p = buf.data();
  EXPECT_THROW(cpu::bias_gelu_forward(p, bias.data(), out.data(), -1, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_gelu_forward(p, nullptr, out.data(), 4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_gelu_forward(p, bias.data(), nullptr, 4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_gelu_backward(p, p, out.data(), bias.data(), 4, -4), pipelab::Error);
  EXPECT_THROW(cpu::bias_gelu_backward(p, p, out.data(), nullptr, 4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_residual_forward(p, bias.data(), nullptr, 4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_residual_forward(p, bias.data(), p, -4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_backward(nullptr, bias.data(), 4, 4), pipelab::Error);
  EXPECT_THROW(cpu::bias_backward(p, bias.data(), 4, -1), pipelab::Error);
  EXPECT_THROW(cpu::add_inplace(nullptr, p, 3), pipelab::Error);
  EXPECT_THROW(cpu::sgd_update(p, nullptr, 3, 0.1f), pipelab::Error);
  EXPECT_THROW(cpu::sgd_update(p, p, 3, std::numeric_limits<float>::quiet_NaN()), pipelab::Error);
  try {
    cpu::bias_backward(p, nullptr, 2, 2);
    FAIL() << "null dbias did not throw";
  } catch (const pipelab::Error& error) {
    EXPECT_NE(error.message().find("dbias"), std::string::npos) << error.what();
    EXPECT_FALSE(error.hint().empty());
  }
  // Empty shapes touch nothing, so null buffers are fine.
  EXPECT_NO_THROW(cpu::bias_gelu_forward(nullptr, nullptr, nullptr, 0, 4));
  EXPECT_NO_THROW(cpu::bias_backward(nullptr, nullptr, 4, 0));
  EXPECT_NO_THROW(cpu::add_inplace(nullptr, nullptr, 0));
  EXPECT_NO_THROW(cpu::sgd_update(nullptr, nullptr, 0, 0.1f));
}

}  // namespace
