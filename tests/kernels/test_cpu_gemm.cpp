// tests/kernels/test_cpu_gemm.cpp — cpu::gemm against a double-precision triple
// loop, its determinism contract (row, column and k splits are bit-identical),
// thread safety, the gradients of a linear layer, and argument checks.
//
// Every contract test runs once per micro-kernel this CPU supports (GemmCpu/Kernels.*/
// Generic and .../Avx2Fma). Run: ./build/tests/pipelab_kernel_tests --gtest_filter='Gemm*'
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "reference_math.h"

// Names the micro-kernel in gtest output ("GetParam() = avx2-fma", not raw bytes).
namespace pipelab::kernels::cpu {
void PrintTo(GemmKernel kernel, std::ostream* out) { *out << gemm_kernel_name(kernel); }
}  // namespace pipelab::kernels::cpu

namespace {

namespace cpu = pipelab::kernels::cpu;
namespace ref = pipelab::kernels::reference;
using cpu::GemmKernel;
using cpu::Trans;

constexpr Trans kTrans[] = {Trans::No, Trans::Yes};

std::string trans_label(Trans ta, Trans tb) {
  return std::string(ta == Trans::No ? "N" : "T") + (tb == Trans::No ? "N" : "T");
}

// One gemm problem with stored operands padded beyond their minimal leading
// dimension, so a kernel that confuses ld with the row length is caught.
struct GemmProblem {
  Trans ta, tb;
  int m, n, k;
  int lda, ldb, ldc;
  std::vector<float> A, B, C;  // A is (m, k) or (k, m); B is (k, n) or (n, k); C is (m, n); +pad

  GemmProblem(Trans trans_a, Trans trans_b, int m_, int n_, int k_, int pad, std::uint32_t seed)
      : ta(trans_a), tb(trans_b), m(m_), n(n_), k(k_) {
    const int a_rows = ta == Trans::No ? m : k, a_cols = ta == Trans::No ? k : m;
    const int b_rows = tb == Trans::No ? k : n, b_cols = tb == Trans::No ? n : k;
    lda = a_cols + pad;
    ldb = b_cols + pad;
    ldc = n + pad;
    A = ref::random_floats(std::size_t(a_rows) * lda, seed);
    B = ref::random_floats(std::size_t(b_rows) * ldb, seed + 1);
    C = ref::random_floats(std::size_t(m) * ldc, seed + 2);
  }
  std::string label() const {
    return trans_label(ta, tb) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" +
           std::to_string(k);
  }
  // C = alpha·op(A)·op(B) + beta·C with the kernel under test.
  void run(float alpha, float beta) {
    cpu::gemm(ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  }
  // The (m, n) block of a C-like buffer with leading dimension ldc, dense.
  std::vector<float> dense(const std::vector<float>& c) const {
    std::vector<float> out(std::size_t(m) * n);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) out[std::size_t(i) * n + j] = c[std::size_t(i) * ldc + j];
    return out;
  }
};

// Float error of a length-k dot product of values in [-1, 1] grows like k·ε; this
// bound is ~100× the typical error and far below any wrong or missing term (~0.1).
double gemm_atol(int k, float alpha, float beta) {
  return 2e-6 * (k + 1) * (std::fabs(alpha) + std::fabs(beta) + 1.0);
}

// Runs the problem through gemm and the reference; checks the (m, n) values and
// that the padding columns of C (j >= n) are untouched.
void expect_matches_reference(GemmProblem& problem, float alpha, float beta) {
  const std::vector<float> before = problem.C;
  const std::vector<double> want =
      ref::gemm(problem.ta, problem.tb, problem.m, problem.n, problem.k, alpha, problem.A.data(),
                problem.lda, problem.B.data(), problem.ldb, beta, before.data(), problem.ldc);
  problem.run(alpha, beta);
  const std::string what = "gemm " + problem.label() +
                           " alpha=" + std::to_string(alpha).substr(0, 5) +
                           " beta=" + std::to_string(beta).substr(0, 5);
  EXPECT_TRUE(ref::all_close(what, problem.dense(problem.C), want,
                             gemm_atol(problem.k, alpha, beta), 1e-5));
  for (int i = 0; i < problem.m; ++i)
    for (int j = problem.n; j < problem.ldc; ++j) {
      const std::size_t at = std::size_t(i) * problem.ldc + j;
      ASSERT_EQ(std::memcmp(&problem.C[at], &before[at], sizeof(float)), 0)
          << what << ": padding C[" << i << "][" << j << "] was written";
    }
}

class GemmCpu : public ::testing::TestWithParam<GemmKernel> {
 protected:
  void SetUp() override { cpu::set_gemm_kernel_for_this_thread(GetParam()); }
  void TearDown() override { cpu::set_gemm_kernel_for_this_thread(GemmKernel::Auto); }
};

std::vector<GemmKernel> supported_kernels() {
  std::vector<GemmKernel> kernels;
  for (GemmKernel kernel : {GemmKernel::Generic, GemmKernel::Avx2Fma})
    if (cpu::gemm_kernel_supported(kernel)) kernels.push_back(kernel);
  return kernels;
}

// Awkward (m, n, k): no multiple of any tile, 1s, and the last two cross every block
// boundary of the implementation (MC = 144 rows, KC = 256 depths, NC = 2048 columns).
struct Shape {
  int m, n, k;
};
constexpr Shape kShapes[] = {{1, 1, 1},     {1, 7, 33},    {7, 1, 130},    {33, 130, 7},
                             {130, 33, 1},  {7, 33, 130},  {130, 130, 33}, {33, 7, 257},
                             {130, 1, 130}, {1, 130, 130}, {145, 33, 257}, {7, 2049, 257}};

TEST_P(GemmCpu, MatchesReferenceInAllTransposeCases) {
  std::uint32_t seed = 100;
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (const Shape& s : kShapes) {
        GemmProblem problem(ta, tb, s.m, s.n, s.k, /*pad=*/3, seed += 3);
        expect_matches_reference(problem, 1.0f, 0.0f);
      }
}

TEST_P(GemmCpu, MatchesReferenceForAlphaBetaVariations) {
  std::uint32_t seed = 200;
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (float alpha : {1.0f, -0.5f, 2.0f})
        for (float beta : {0.0f, 1.0f, 0.25f, -1.0f}) {
          GemmProblem problem(ta, tb, 33, 7, 130, /*pad=*/5, seed += 3);
          expect_matches_reference(problem, alpha, beta);
        }
}

TEST_P(GemmCpu, BetaZeroNeverReadsC) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (const Shape& s : {Shape{7, 33, 130}, Shape{130, 7, 1}}) {
        GemmProblem problem(ta, tb, s.m, s.n, s.k, /*pad=*/2, 300);
        std::fill(problem.C.begin(), problem.C.end(), nan);  // padding stays NaN: checked as bits
        expect_matches_reference(problem, 0.5f, 0.0f);
      }
}

TEST_P(GemmCpu, ZeroDepthOrZeroAlphaOnlyScalesC) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Trans ta : kTrans)
    for (Trans tb : kTrans) {
      GemmProblem empty_k(ta, tb, 7, 33, 0, /*pad=*/1, 400);
      expect_matches_reference(empty_k, 1.0f, 0.5f);  // C = 0.5·C
      GemmProblem zero_alpha(ta, tb, 33, 7, 130, /*pad=*/1, 401);
      zero_alpha.A.assign(zero_alpha.A.size(), nan);  // alpha == 0: A is not used (BLAS)
      expect_matches_reference(zero_alpha, 0.0f, -1.0f);
      GemmProblem cleared(ta, tb, 7, 7, 0, /*pad=*/0, 402);
      cleared.C.assign(cleared.C.size(), nan);
      expect_matches_reference(cleared, 1.0f, 0.0f);  // k == 0, beta == 0: C = 0
    }
}

// The determinism contract: rows computed in several calls (micro-batches) equal
// the same rows of one call, bit for bit.
TEST_P(GemmCpu, RowSplitIsBitIdentical) {
  const int splits[] = {0, 1, 7, 8, 40, 97, 150, 151};  // row blocks of 1, 6, 1, 32, ...
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (float beta : {0.0f, 0.5f}) {
        GemmProblem whole(ta, tb, 151, 33, 257, /*pad=*/2, 500);
        GemmProblem split = whole;
        whole.run(0.75f, beta);
        for (std::size_t s = 0; s + 1 < std::size(splits); ++s) {
          const int r0 = splits[s], rows = splits[s + 1] - splits[s];
          // Row r0 of op(A) starts at row r0 of A (No) or column r0 of A (Yes).
          const float* a_rows =
              split.A.data() + (ta == Trans::No ? std::size_t(r0) * split.lda : r0);
          cpu::gemm(ta, tb, rows, split.n, split.k, 0.75f, a_rows, split.lda, split.B.data(),
                    split.ldb, beta, split.C.data() + std::size_t(r0) * split.ldc, split.ldc);
        }
        EXPECT_EQ(std::memcmp(whole.C.data(), split.C.data(), whole.C.size() * sizeof(float)), 0)
            << "row split differs from one call: " << whole.label() << " beta " << beta;
      }
}

// No blocking over n either: a column split gives the same bits.
TEST_P(GemmCpu, ColumnSplitIsBitIdentical) {
  const int splits[] = {0, 5, 16, 17, 40};
  for (Trans ta : kTrans)
    for (Trans tb : kTrans) {
      GemmProblem whole(ta, tb, 33, 40, 130, /*pad=*/1, 600);
      GemmProblem split = whole;
      whole.run(1.0f, 1.0f);
      for (std::size_t s = 0; s + 1 < std::size(splits); ++s) {
        const int c0 = splits[s], cols = splits[s + 1] - splits[s];
        // Column c0 of op(B) starts at column c0 of B (No) or row c0 of B (Yes).
        const float* b_cols = split.B.data() + (tb == Trans::No ? c0 : std::size_t(c0) * split.ldb);
        cpu::gemm(ta, tb, split.m, cols, split.k, 1.0f, split.A.data(), split.lda, b_cols,
                  split.ldb, 1.0f, split.C.data() + c0, split.ldc);
      }
      EXPECT_EQ(std::memcmp(whole.C.data(), split.C.data(), whole.C.size() * sizeof(float)), 0)
          << "column split differs from one call: " << whole.label();
    }
}

// The CPU reference's stronger promise: splitting k into consecutive chunks (first
// with the caller's beta, then beta = 1) is bit-identical — gradient accumulation
// over micro-batches, dW += X_mbᵀ · dY_mb, equals the full-batch dW.
TEST_P(GemmCpu, DepthSplitWithBetaOneIsBitIdentical) {
  const int splits[] = {0, 1, 100, 256, 300, 513};  // chunks cross the KC = 256 block
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (float beta : {0.0f, 0.5f}) {
        GemmProblem whole(ta, tb, 33, 130, 513, /*pad=*/1, 700);
        GemmProblem split = whole;
        whole.run(0.75f, beta);
        for (std::size_t s = 0; s + 1 < std::size(splits); ++s) {
          const int p0 = splits[s], depth = splits[s + 1] - splits[s];
          // Depth p0 is column p0 of A (No) or row p0 (Yes); row p0 of B (No) or column p0 (Yes).
          const float* a_part =
              split.A.data() + (ta == Trans::No ? p0 : std::size_t(p0) * split.lda);
          const float* b_part =
              split.B.data() + (tb == Trans::No ? std::size_t(p0) * split.ldb : p0);
          cpu::gemm(ta, tb, split.m, split.n, depth, 0.75f, a_part, split.lda, b_part, split.ldb,
                    s == 0 ? beta : 1.0f, split.C.data(), split.ldc);
        }
        EXPECT_EQ(std::memcmp(whole.C.data(), split.C.data(), whole.C.size() * sizeof(float)), 0)
            << "k split differs from one call: " << whole.label() << " beta " << beta;
      }
}

// Several device worker threads call gemm at once; each must get exactly the bits
// it gets alone (no shared scratch, no shared state).
TEST_P(GemmCpu, ConcurrentCallsMatchSingleThreaded) {
  constexpr int kThreads = 4, kRepeats = 3;
  std::vector<GemmProblem> alone, together;
  for (int t = 0; t < kThreads; ++t) {
    const Trans ta = kTrans[t % 2], tb = kTrans[t / 2 % 2];
    alone.emplace_back(ta, tb, 67 + 13 * t, 150 - 9 * t, 200 + 31 * t, /*pad=*/1, 800 + t);
  }
  together = alone;
  for (GemmProblem& problem : alone)
    for (int r = 0; r < kRepeats; ++r) problem.run(1.0f, 0.5f);
  std::vector<std::thread> workers;
  const GemmKernel kernel = GetParam();
  for (GemmProblem& problem : together)
    workers.emplace_back([&problem, kernel] {
      cpu::set_gemm_kernel_for_this_thread(kernel);  // the pin is per thread
      for (int r = 0; r < kRepeats; ++r) problem.run(1.0f, 0.5f);
    });
  for (std::thread& worker : workers) worker.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(
        std::memcmp(alone[t].C.data(), together[t].C.data(), alone[t].C.size() * sizeof(float)), 0)
        << "thread " << t << " (" << alone[t].label() << ") differs from a single-threaded run";
}

// How the model uses the transposes: a linear layer Y = X·W (X is (b, d), W is (d, h))
// has dX = dY·Wᵀ (No, Yes) and dW = Xᵀ·dY (Yes, No). Checked against central finite
// differences of L = Σ R ⊙ Y computed in double.
TEST_P(GemmCpu, LinearLayerGradientsMatchFiniteDifferences) {
  const int b = 7, d = 33, h = 13;
  const std::vector<float> X = ref::random_floats(std::size_t(b) * d, 900);
  const std::vector<float> W = ref::random_floats(std::size_t(d) * h, 901);
  const std::vector<float> R = ref::random_floats(std::size_t(b) * h, 902);  // dL/dY
  std::vector<float> dX(std::size_t(b) * d), dW(std::size_t(d) * h);
  cpu::gemm(Trans::No, Trans::Yes, b, d, h, 1.0f, R.data(), h, W.data(), h, 0.0f, dX.data(), d);
  cpu::gemm(Trans::Yes, Trans::No, d, h, b, 1.0f, X.data(), d, R.data(), h, 0.0f, dW.data(), h);

  std::vector<double> x = ref::to_double(X), w = ref::to_double(W);
  const std::vector<double> r = ref::to_double(R);
  // L(x, w) = Σ_ij R_ij · (x·w)_ij in double
  const auto loss = [&] {
    double total = 0.0;
    for (int i = 0; i < b; ++i)
      for (int j = 0; j < h; ++j) {
        double y = 0.0;
        for (int p = 0; p < d; ++p) y += x[std::size_t(i) * d + p] * w[std::size_t(p) * h + j];
        total += r[std::size_t(i) * h + j] * y;
      }
    return total;
  };
  EXPECT_TRUE(ref::all_close("linear dX vs finite differences", dX,
                             ref::central_differences(x, loss), 1e-5, 1e-5));
  EXPECT_TRUE(ref::all_close("linear dW vs finite differences", dW,
                             ref::central_differences(w, loss), 1e-5, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Kernels, GemmCpu, ::testing::ValuesIn(supported_kernels()),
                         [](const ::testing::TestParamInfo<GemmKernel>& info) {
                           return info.param == GemmKernel::Avx2Fma ? std::string("Avx2Fma")
                                                                    : std::string("Generic");
                         });

TEST(GemmCpuKernelChoice, AutoPicksASupportedKernel) {
  const GemmKernel chosen = cpu::gemm_kernel();
  EXPECT_NE(chosen, GemmKernel::Auto);
  EXPECT_TRUE(cpu::gemm_kernel_supported(chosen));
  std::printf("[ info     ] gemm micro-kernel on this CPU: %s\n", cpu::gemm_kernel_name(chosen));
  cpu::set_gemm_kernel_for_this_thread(GemmKernel::Generic);
  EXPECT_EQ(cpu::gemm_kernel(), GemmKernel::Generic);
  cpu::set_gemm_kernel_for_this_thread(GemmKernel::Auto);
  EXPECT_EQ(cpu::gemm_kernel(), chosen);
  if (!cpu::gemm_kernel_supported(GemmKernel::Avx2Fma)) {
    EXPECT_THROW(cpu::set_gemm_kernel_for_this_thread(GemmKernel::Avx2Fma), pipelab::Error);
  }
}

TEST(GemmCpuArguments, BadArgumentsThrowWithHint) {
  std::vector<float> A(64, 1.0f), B(64, 1.0f), C(64, 0.0f);
  const auto call = [&](Trans ta, Trans tb, int m, int n, int k, const float* a, int lda,
                        const float* b, int ldb, float* c, int ldc) {
    cpu::gemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  };
  const Trans N = Trans::No, T = Trans::Yes;
  // Negative sizes.
  EXPECT_THROW(call(N, N, -1, 2, 2, A.data(), 2, B.data(), 2, C.data(), 2), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, -1, 2, A.data(), 2, B.data(), 2, C.data(), 2), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 2, -1, A.data(), 2, B.data(), 2, C.data(), 2), pipelab::Error);
  // Leading dimensions below the stored row length: A (m, k) or (k, m), B (k, n) or (n, k).
  EXPECT_THROW(call(N, N, 2, 3, 4, A.data(), 3, B.data(), 3, C.data(), 3), pipelab::Error);
  EXPECT_THROW(call(T, N, 2, 3, 4, A.data(), 1, B.data(), 3, C.data(), 3), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 3, 4, A.data(), 4, B.data(), 2, C.data(), 3), pipelab::Error);
  EXPECT_THROW(call(N, T, 2, 3, 4, A.data(), 4, B.data(), 3, C.data(), 3), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 3, 4, A.data(), 4, B.data(), 3, C.data(), 2), pipelab::Error);
  // Null buffers with nonzero sizes.
  EXPECT_THROW(call(N, N, 2, 2, 2, nullptr, 2, B.data(), 2, C.data(), 2), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 2, 2, A.data(), 2, nullptr, 2, C.data(), 2), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 2, 2, A.data(), 2, B.data(), 2, nullptr, 2), pipelab::Error);
  // C overlapping an input.
  EXPECT_THROW(call(N, N, 2, 2, 2, A.data(), 2, B.data(), 2, A.data() + 2, 2), pipelab::Error);
  EXPECT_THROW(call(N, N, 2, 2, 2, A.data(), 2, B.data(), 2, B.data(), 2), pipelab::Error);
  try {
    call(N, N, 2, 3, 4, A.data(), 3, B.data(), 3, C.data(), 3);
    FAIL() << "lda < k did not throw";
  } catch (const pipelab::Error& error) {
    EXPECT_NE(error.message().find("lda"), std::string::npos) << error.what();
    EXPECT_FALSE(error.hint().empty());
    EXPECT_FALSE(error.where().empty());
  }
}

TEST(GemmCpuArguments, EmptyProblemsAcceptNullBuffers) {
  std::vector<float> C(4, 1.0f);
  // m == 0 or n == 0: nothing to compute or read.
  EXPECT_NO_THROW(
      cpu::gemm(Trans::No, Trans::No, 0, 3, 2, 1.0f, nullptr, 2, nullptr, 3, 0.0f, nullptr, 3));
  EXPECT_NO_THROW(
      cpu::gemm(Trans::No, Trans::No, 2, 0, 2, 1.0f, nullptr, 2, nullptr, 0, 0.0f, nullptr, 0));
  // k == 0: A and B are empty, C = beta·C.
  cpu::gemm(Trans::No, Trans::No, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.5f, C.data(), 2);
  EXPECT_EQ(C, std::vector<float>(4, 0.5f));
}

}  // namespace
