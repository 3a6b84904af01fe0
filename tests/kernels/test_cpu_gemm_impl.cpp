// tests/kernels/test_cpu_gemm_impl.cpp — gemm(GemmImpl, ...): every implementation this
// build has (reference; blas where built) against the double-precision triple loop, the
// BLAS conventions, the argument checks, concurrent calls from several threads (the cpu
// backend's workers), and splits that agree to rounding; the name table and the default.
//
// The bit-exact contract (row, column and k splits give identical bits) belongs to the
// reference alone and is tested in test_cpu_gemm.cpp, which calls gemm() — the reference.
// Run: ./build/tests/pipelab_kernel_tests --gtest_filter='GemmImpl*'
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "reference_math.h"

namespace pipelab::kernels::cpu {
void PrintTo(GemmImpl impl, std::ostream* out) { *out << to_string(impl); }
}  // namespace pipelab::kernels::cpu

namespace {

namespace cpu = pipelab::kernels::cpu;
namespace ref = pipelab::kernels::reference;
using cpu::GemmImpl;
using cpu::Trans;

constexpr Trans kTrans[] = {Trans::No, Trans::Yes};

// One problem with operands padded beyond their minimal leading dimension.
struct Problem {
  Trans ta, tb;
  int m, n, k, lda, ldb, ldc;
  std::vector<float> A, B, C;
  Problem(Trans trans_a, Trans trans_b, int m_, int n_, int k_, int pad, std::uint32_t seed)
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
  void run(GemmImpl impl, float alpha, float beta) {
    cpu::gemm(impl, ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  }
  std::string label() const {
    return std::string(ta == Trans::No ? "N" : "T") + (tb == Trans::No ? "N" : "T") + " " + std::to_string(m) + "x" +
           std::to_string(n) + "x" + std::to_string(k);
  }
};

std::vector<GemmImpl> available_impls() {
  std::vector<GemmImpl> impls;
  for (GemmImpl impl : {GemmImpl::Reference, GemmImpl::Blas})
    if (cpu::gemm_impl_available(impl)) impls.push_back(impl);
  return impls;
}

class GemmImplCpu : public ::testing::TestWithParam<GemmImpl> {};

// Values against the double triple loop, and the padding columns of C untouched.
void expect_matches_reference(GemmImpl impl, Problem& p, float alpha, float beta) {
  const std::vector<float> before = p.C;
  const std::vector<double> want =
      ref::gemm(p.ta, p.tb, p.m, p.n, p.k, alpha, p.A.data(), p.lda, p.B.data(), p.ldb, beta, before.data(), p.ldc);
  p.run(impl, alpha, beta);
  std::vector<float> got(std::size_t(p.m) * p.n);
  for (int i = 0; i < p.m; ++i)
    for (int j = 0; j < p.n; ++j) got[std::size_t(i) * p.n + j] = p.C[std::size_t(i) * p.ldc + j];
  const std::string what = std::string(cpu::to_string(impl)) + " " + p.label();
  EXPECT_TRUE(ref::all_close(what, got, want, 2e-6 * (p.k + 1) * (std::fabs(alpha) + std::fabs(beta) + 1), 1e-5));
  for (int i = 0; i < p.m; ++i)
    for (int j = p.n; j < p.ldc; ++j) {
      const std::size_t at = std::size_t(i) * p.ldc + j;
      ASSERT_EQ(std::memcmp(&p.C[at], &before[at], sizeof(float)), 0) << what << ": padding of C written";
    }
}

TEST_P(GemmImplCpu, MatchesReferenceInAllTransposeCases) {
  std::uint32_t seed = 1000;
  for (Trans ta : kTrans)
    for (Trans tb : kTrans)
      for (const auto& [m, n, k] : {std::array<int, 3>{1, 1, 1},
                                    {7, 33, 130},
                                    {130, 7, 33},
                                    {33, 130, 7},
                                    {64, 768, 192},
                                    {192, 768, 64},
                                    {145, 33, 257}})
        for (float beta : {0.0f, -0.5f}) {
          Problem p(ta, tb, m, n, k, /*pad=*/3, seed += 3);
          expect_matches_reference(GetParam(), p, 0.75f, beta);
        }
}

TEST_P(GemmImplCpu, BlasConventionsForBetaZeroAndEmptyDepth) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Trans ta : kTrans)
    for (Trans tb : kTrans) {
      Problem beta_zero(ta, tb, 7, 33, 130, /*pad=*/2, 1100);
      std::fill(beta_zero.C.begin(), beta_zero.C.end(), nan);  // beta == 0: C is not read
      expect_matches_reference(GetParam(), beta_zero, 0.5f, 0.0f);
      Problem empty_k(ta, tb, 7, 33, 0, /*pad=*/1, 1101);
      expect_matches_reference(GetParam(), empty_k, 1.0f, 0.5f);  // C = 0.5·C
      Problem zero_alpha(ta, tb, 33, 7, 130, /*pad=*/1, 1102);
      zero_alpha.A.assign(zero_alpha.A.size(), nan);  // alpha == 0: A is not read
      expect_matches_reference(GetParam(), zero_alpha, 0.0f, -1.0f);
    }
}

TEST_P(GemmImplCpu, RejectsTheSameBadArgumentsAsTheReference) {
  std::vector<float> A(64, 1.0f), B(64, 1.0f), C(64, 0.0f);
  const GemmImpl impl = GetParam();
  const Trans N = Trans::No;
  EXPECT_THROW(cpu::gemm(impl, N, N, -1, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, C.data(), 2), pipelab::Error);
  EXPECT_THROW(cpu::gemm(impl, N, N, 2, 3, 4, 1.f, A.data(), 3, B.data(), 3, 0.f, C.data(), 3), pipelab::Error);
  EXPECT_THROW(cpu::gemm(impl, N, N, 2, 2, 2, 1.f, nullptr, 2, B.data(), 2, 0.f, C.data(), 2), pipelab::Error);
  EXPECT_THROW(cpu::gemm(impl, N, N, 2, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, A.data() + 2, 2), pipelab::Error);
  EXPECT_NO_THROW(cpu::gemm(impl, N, N, 0, 3, 2, 1.f, nullptr, 2, nullptr, 3, 0.f, nullptr, 3));
}

// The cpu backend's workers call gemm at once. Each call must give exactly the bits it
// gives alone. This is the check that caught Debian 12's serial OpenBLAS, which under
// concurrent calls gives wrong results (|error| ~1 on O(1) values) in about 1 call in
// 2000 for tiny problems like these (the property tests' models) and in about 1 in 100
// for problems of a few hundred after ~10 000 calls; here 8 threads make 160 000 tiny
// calls (~20 ms) and then 4 threads ~1000 medium ones.
void expect_concurrent_calls_match(GemmImpl impl, int threads, int problems, int rounds, int max_dim,
                                   std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Problem> list;
  for (int i = 0; i < problems; ++i) {
    const int m = 1 + int(rng() % max_dim), n = 1 + int(rng() % max_dim), k = 1 + int(rng() % max_dim);
    list.emplace_back(kTrans[rng() % 2], kTrans[rng() % 2], m, n, k, /*pad=*/int(rng() % 3), seed + 3 * i);
  }
  std::vector<std::vector<float>> alone;
  for (const Problem& p : list) {
    Problem copy = p;
    copy.run(impl, 1.0f, 0.5f);
    alone.push_back(copy.C);
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::vector<float> c;
      for (int round = 0; round < rounds; ++round)
        for (int i = 0; i < problems; ++i) {
          const int at = (i + t + round) % problems;
          const Problem& p = list[at];
          c = p.C;  // this thread's own C
          cpu::gemm(impl, p.ta, p.tb, p.m, p.n, p.k, 1.0f, p.A.data(), p.lda, p.B.data(), p.ldb, 0.5f, c.data(), p.ldc);
          if (std::memcmp(c.data(), alone[at].data(), c.size() * sizeof(float)) != 0) ++wrong;
        }
    });
  for (std::thread& w : workers) w.join();
  EXPECT_EQ(wrong.load(), 0) << wrong.load() << " of " << threads * rounds * problems << " concurrent "
                             << cpu::to_string(impl) << " calls (sizes up to " << max_dim
                             << ") differ from the same call alone";
}

TEST_P(GemmImplCpu, ConcurrentCallsMatchSingleThreaded) {
  expect_concurrent_calls_match(GetParam(), /*threads=*/8, /*problems=*/200, /*rounds=*/100, /*max_dim=*/12, 2000);
  expect_concurrent_calls_match(GetParam(), /*threads=*/4, /*problems=*/48, /*rounds=*/5, /*max_dim=*/200, 3000);
}

// Micro-batches: rows in several calls, and k (the weight gradient over micro-batches)
// in several calls with beta = 1, agree with one call — to rounding (to the bit for the
// reference: test_cpu_gemm.cpp).
TEST_P(GemmImplCpu, RowAndDepthSplitsAgreeToRounding) {
  for (Trans ta : kTrans)
    for (Trans tb : kTrans) {
      Problem whole(ta, tb, 128, 96, 256, /*pad=*/1, 3000);
      Problem rows = whole, depth = whole;
      whole.run(GetParam(), 1.0f, 0.0f);
      for (int r0 = 0; r0 < rows.m; r0 += 16) {  // 8 micro-batches of 16 rows
        const float* a = rows.A.data() + (ta == Trans::No ? std::size_t(r0) * rows.lda : r0);
        cpu::gemm(GetParam(), ta, tb, 16, rows.n, rows.k, 1.0f, a, rows.lda, rows.B.data(), rows.ldb, 0.0f,
                  rows.C.data() + std::size_t(r0) * rows.ldc, rows.ldc);
      }
      for (int p0 = 0; p0 < depth.k; p0 += 32) {  // dW += X_mbᵀ · dY_mb over 8 micro-batches
        const float* a = depth.A.data() + (ta == Trans::No ? p0 : std::size_t(p0) * depth.lda);
        const float* b = depth.B.data() + (tb == Trans::No ? std::size_t(p0) * depth.ldb : p0);
        cpu::gemm(GetParam(), ta, tb, depth.m, depth.n, 32, 1.0f, a, depth.lda, b, depth.ldb, p0 == 0 ? 0.0f : 1.0f,
                  depth.C.data(), depth.ldc);
      }
      const std::vector<double> want(whole.C.begin(), whole.C.end());
      const double atol = 2e-6 * (whole.k + 1);  // a few fp32 roundings of a length-k sum
      EXPECT_TRUE(ref::all_close("row split " + whole.label(), rows.C, want, atol, 1e-5));
      EXPECT_TRUE(ref::all_close("depth split " + whole.label(), depth.C, want, atol, 1e-5));
    }
}

INSTANTIATE_TEST_SUITE_P(Impls, GemmImplCpu, ::testing::ValuesIn(available_impls()),
                         [](const ::testing::TestParamInfo<GemmImpl>& info) {
                           return info.param == GemmImpl::Blas ? std::string("Blas") : std::string("Reference");
                         });

TEST(GemmImplChoice, OneNameTableReadBothWays) {
  for (GemmImpl impl : {GemmImpl::Reference, GemmImpl::Blas}) {
    const auto back = cpu::gemm_impl_named(cpu::to_string(impl));
    ASSERT_TRUE(back.has_value()) << cpu::to_string(impl);
    EXPECT_EQ(*back, impl);
  }
  EXPECT_EQ(std::string(cpu::to_string(GemmImpl::Reference)), "reference");
  EXPECT_EQ(std::string(cpu::to_string(GemmImpl::Blas)), "blas");
  EXPECT_FALSE(cpu::gemm_impl_named("cublas").has_value());
  EXPECT_EQ(cpu::gemm_impl_names(), "reference, blas");
}

TEST(GemmImplChoice, DefaultIsBlasWhereBuiltElseReference) {
  EXPECT_TRUE(cpu::gemm_impl_available(GemmImpl::Reference));
  EXPECT_TRUE(cpu::gemm_impl_unavailable_reason(GemmImpl::Reference).empty());
  const bool blas = cpu::gemm_impl_available(GemmImpl::Blas);
  EXPECT_EQ(cpu::default_gemm_impl(), blas ? GemmImpl::Blas : GemmImpl::Reference);
  EXPECT_EQ(cpu::gemm_impl_unavailable_reason(GemmImpl::Blas).empty(), blas);
  std::printf("[ info     ] cpu GEMMs: %s; %s\n", cpu::gemm_impl_description(GemmImpl::Reference).c_str(),
              cpu::gemm_impl_description(GemmImpl::Blas).c_str());
  if (!blas) {
    std::vector<float> A(4, 1.f), B(4, 1.f), C(4, 0.f);
    EXPECT_THROW(
        cpu::gemm(GemmImpl::Blas, Trans::No, Trans::No, 2, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, C.data(), 2),
        pipelab::Error);
  }
}

}  // namespace
