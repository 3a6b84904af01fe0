// tests/kernels/test_cpu_loss.cpp — softmax cross-entropy: the loss against a
// double-precision log-sum-exp, stability for huge logits, micro-batch losses adding
// up to the batch mean, the gradient against central finite differences of the
// loss (in double), and label / shape checks.
//
// Run: ./build/tests/pipelab_kernel_tests --gtest_filter='SoftmaxXent*'
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "reference_math.h"

namespace {

namespace cpu = pipelab::kernels::cpu;
namespace ref = pipelab::kernels::reference;

struct Shape {
  int rows, classes;
};
constexpr Shape kShapes[] = {{1, 1}, {1, 130}, {7, 33}, {33, 130}, {130, 7}};
constexpr Shape kGradShapes[] = {{1, 1}, {1, 33}, {7, 33}, {33, 7}};

std::string shape_label(const char* what, Shape s) {
  return std::string(what) + " " + std::to_string(s.rows) + "x" + std::to_string(s.classes);
}

TEST(SoftmaxXentCpu, ForwardMatchesReference) {
  std::uint32_t seed = 1;
  for (Shape s : kShapes) {
    const std::vector<float> logits =
        ref::random_floats(std::size_t(s.rows) * s.classes, ++seed, -5.0f, 5.0f);
    const std::vector<int> labels = ref::random_labels(s.rows, s.classes, ++seed);
    const float scale = 1.0f / s.rows;  // batch mean
    const double got =
        cpu::softmax_xent_forward(logits.data(), labels.data(), s.rows, s.classes, scale);
    const double want =
        ref::softmax_xent(ref::to_double(logits), labels.data(), s.rows, s.classes, scale);
    EXPECT_TRUE(
        ref::all_close(shape_label("softmax_xent_forward", s), &got, &want, 1, 1e-12, 1e-12));
  }
}

// Logits far beyond exp's range: a naive exp(z) overflows to inf and gives NaN.
TEST(SoftmaxXentCpu, StableForHugeLogits) {
  const std::vector<float> logits = {1e4f,  0.0f,  -1e4f,    // row 0
                                     3e38f, 3e38f, -3e38f};  // row 1: two tied maxima
  const std::vector<int> labels = {1, 0};
  // Row 0: log Σ exp(z) − z_1 = 1e4 + log(1 + e^−1e4 + e^−2e4) − 0 ≈ 1e4.
  // Row 1: log(e^m + e^m + ~0) − m = log 2.
  const double want_loss = 1e4 + std::log(2.0);
  const double got = cpu::softmax_xent_forward(logits.data(), labels.data(), 2, 3, 1.0f);
  EXPECT_TRUE(ref::all_close("softmax_xent_forward huge logits", &got, &want_loss, 1, 1e-9, 1e-12));
  std::vector<float> dlogits(6);
  cpu::softmax_xent_backward(logits.data(), labels.data(), dlogits.data(), 2, 3, 1.0f);
  // softmax(row 0) = (1, 0, 0) → dz = (1, −1, 0); softmax(row 1) = (½, ½, 0) → dz = (−½, ½, 0).
  const std::vector<double> want_grad = {1.0, -1.0, 0.0, -0.5, 0.5, 0.0};
  EXPECT_TRUE(ref::all_close("softmax_xent_backward huge logits", dlogits, want_grad, 1e-7, 0.0));
}

// With scale = 1 / global batch, the losses of the micro-batches add up to the batch mean.
TEST(SoftmaxXentCpu, MicroBatchLossesAddUpToBatchMean) {
  const int rows = 130, classes = 33;
  const int splits[] = {0, 1, 8, 40, 41, 130};
  const std::vector<float> logits =
      ref::random_floats(std::size_t(rows) * classes, 10, -3.0f, 3.0f);
  const std::vector<int> labels = ref::random_labels(rows, classes, 11);
  const float scale = 1.0f / rows;
  const double whole =
      cpu::softmax_xent_forward(logits.data(), labels.data(), rows, classes, scale);
  double summed = 0.0;
  for (std::size_t s = 0; s + 1 < std::size(splits); ++s)
    summed += cpu::softmax_xent_forward(logits.data() + std::size_t(splits[s]) * classes,
                                        labels.data() + splits[s], splits[s + 1] - splits[s],
                                        classes, scale);
  EXPECT_TRUE(ref::all_close("micro-batch losses vs batch loss", &summed, &whole, 1, 1e-12, 1e-12));
}

// dlogits must be ∂L/∂logits of L = scale · Σ_i −log softmax(z_i)[y_i].
TEST(SoftmaxXentCpu, BackwardMatchesFiniteDifferences) {
  std::uint32_t seed = 20;
  for (Shape s : kGradShapes) {
    const std::size_t n = std::size_t(s.rows) * s.classes;
    const std::vector<float> logits = ref::random_floats(n, ++seed, -3.0f, 3.0f);
    const std::vector<int> labels = ref::random_labels(s.rows, s.classes, ++seed);
    const float scale = 1.0f / s.rows;
    std::vector<float> dlogits(n);
    cpu::softmax_xent_backward(logits.data(), labels.data(), dlogits.data(), s.rows, s.classes,
                               scale);
    std::vector<double> z = ref::to_double(logits);
    const std::vector<double> numeric = ref::central_differences(
        z, [&] { return ref::softmax_xent(z, labels.data(), s.rows, s.classes, scale); });
    EXPECT_TRUE(
        ref::all_close(shape_label("softmax_xent_backward", s), dlogits, numeric, 1e-7, 1e-5));
  }
}

TEST(SoftmaxXentCpu, BadLabelsThrowAndWriteNothing) {
  const std::vector<float> logits = ref::random_floats(3 * 4, 30);
  std::vector<float> dlogits(3 * 4, 7.0f);
  for (int bad : {-1, 4}) {
    const std::vector<int> labels = {0, 3, bad};  // row 2 is out of [0, 4)
    EXPECT_THROW(cpu::softmax_xent_forward(logits.data(), labels.data(), 3, 4, 1.0f),
                 pipelab::Error);
    EXPECT_THROW(
        cpu::softmax_xent_backward(logits.data(), labels.data(), dlogits.data(), 3, 4, 1.0f),
        pipelab::Error);
  }
  EXPECT_EQ(dlogits, std::vector<float>(3 * 4, 7.0f)) << "a rejected batch must not write dlogits";
  try {
    const std::vector<int> labels = {0, 1, 9};
    cpu::softmax_xent_forward(logits.data(), labels.data(), 3, 4, 1.0f);
    FAIL() << "label 9 of 4 classes did not throw";
  } catch (const pipelab::Error& error) {
    EXPECT_NE(error.message().find("row 2"), std::string::npos) << error.what();
    EXPECT_FALSE(error.hint().empty());
  }
}

TEST(SoftmaxXentCpu, BadShapesThrow) {
  const std::vector<float> logits(8, 0.0f);
  std::vector<float> dlogits(8);
  const std::vector<int> labels(2, 0);
  EXPECT_THROW(cpu::softmax_xent_forward(logits.data(), labels.data(), -1, 4, 1.0f),
               pipelab::Error);
  EXPECT_THROW(cpu::softmax_xent_forward(logits.data(), labels.data(), 2, 0, 1.0f), pipelab::Error);
  EXPECT_THROW(cpu::softmax_xent_forward(nullptr, labels.data(), 2, 4, 1.0f), pipelab::Error);
  EXPECT_THROW(cpu::softmax_xent_forward(logits.data(), nullptr, 2, 4, 1.0f), pipelab::Error);
  EXPECT_THROW(cpu::softmax_xent_backward(logits.data(), labels.data(), nullptr, 2, 4, 1.0f),
               pipelab::Error);
  // No rows: zero loss, nothing read.
  EXPECT_EQ(cpu::softmax_xent_forward(nullptr, nullptr, 0, 4, 1.0f), 0.0);
  EXPECT_NO_THROW(cpu::softmax_xent_backward(nullptr, nullptr, nullptr, 0, 4, 1.0f));
}

}  // namespace
