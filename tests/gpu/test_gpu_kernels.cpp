// test_gpu_kernels.cpp — every CUDA kernel (kernels/cuda) against its CPU reference
// (kernels/include/pipelab/kernels/cpu.h), in the llm.c order: fresh random inputs →
// CPU reference → GPU kernel → compare, reporting the max difference.
//
// Sizes are awkward on purpose (1, primes, one past the tile size), leading
// dimensions are padded (the padding must come back untouched), and every output
// starts poisoned with NaN. Kernels that round exactly like the CPU are checked bit
// for bit; GEMM against the rigorous bound |got − ref| <= 2·γ_k·(|α|·|A|·|B| + |β·C|),
// γ_k = (k + 2)·u, so a wrong index fails by orders of magnitude while honest
// rounding never does. Needs a GPU; argument checks run everywhere.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "gpu_test_util.h"
#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/kernels/cuda.h"

// Readable test names in ctest: "GetParam() = (tiled, No, Yes)", not the enums' bytes.
namespace pipelab::kernels {
namespace cuda {
void PrintTo(GemmVariant variant, std::ostream* os) { *os << to_string(variant); }
}  // namespace cuda
namespace cpu {
void PrintTo(Trans trans, std::ostream* os) { *os << (trans == Trans::Yes ? "Yes" : "No"); }
}  // namespace cpu
}  // namespace pipelab::kernels

namespace pipelab {
namespace {

namespace kc = kernels::cuda;
namespace cpu = kernels::cpu;
using cpu::Trans;
using gpu_test::bit_identical;
using gpu_test::close;
using gpu_test::close_within;
using gpu_test::DeviceArray;
using gpu_test::random_floats;
using gpu_test::random_labels;

constexpr double kU32 = 1.0 / (1 << 24);   // fp32 unit roundoff
constexpr double kUTf32 = 1.0 / (1 << 11); // TF32 (10-bit mantissa) unit roundoff

// A fixture with a stream of its own (the backend never uses the default stream).
class GpuKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    PIPELAB_REQUIRE_GPU();
    PIPELAB_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  void TearDown() override {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  kc::Stream stream() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// ---- GEMM ---------------------------------------------------------------------------

struct GemmShape {
  int m, n, k;
};

// Awkward shapes: a single element, a single row (a tiny micro-batch), primes, one
// past the 64 × 64 × 16 tile of the tiled kernel (and the 128 × 128 × 8 of register
// and vectorized), k much larger than m and n.
const GemmShape kShapes[] = {{1, 1, 1},     {1, 37, 64},    {7, 13, 5},   {33, 65, 17},
                             {65, 129, 257}, {100, 37, 300}, {128, 64, 1}, {17, 3, 1031}};

std::vector<float> absolute(std::vector<float> values) {
  for (float& v : values) v = std::fabs(v);
  return values;
}

// How the rows of A, B and C are padded: Odd leading dimensions (cols + 3, + 1, + 2),
// or Aligned ones (the next multiple of 4 above cols: 16-byte rows, so the vectorized
// kernel takes its float4 paths, still with padding after every row).
enum class Rows { Odd, Aligned };
int round_up4(int x) { return (x + 3) / 4 * 4; }

// One GEMM on the GPU against cpu::gemm, C (m, n) inside a padded (m, ldc) buffer.
void check_gemm(kc::GemmVariant variant, Trans ta, Trans tb, GemmShape s, float alpha, float beta, bool tf32,
                kc::Stream stream, std::uint32_t seed, Rows rows = Rows::Odd) {
  const int a_rows = ta == Trans::No ? s.m : s.k, a_cols = ta == Trans::No ? s.k : s.m;
  const int b_rows = tb == Trans::No ? s.k : s.n, b_cols = tb == Trans::No ? s.n : s.k;
  const bool odd = rows == Rows::Odd;  // padded rows either way
  const int lda = odd ? a_cols + 3 : round_up4(a_cols + 1), ldb = odd ? b_cols + 1 : round_up4(b_cols + 1),
            ldc = odd ? s.n + 2 : round_up4(s.n + 1);
  const std::vector<float> A = random_floats(std::size_t(a_rows) * lda, seed);
  const std::vector<float> B = random_floats(std::size_t(b_rows) * ldb, seed + 1);
  // beta == 0: C starts as NaN and must not be read; else random values.
  const std::vector<float> C0 = beta == 0.0f
                                    ? std::vector<float>(std::size_t(s.m) * ldc, std::numeric_limits<float>::quiet_NaN())
                                    : random_floats(std::size_t(s.m) * ldc, seed + 2);
  // 1. reference
  std::vector<float> ref = C0;
  cpu::gemm(ta, tb, s.m, s.n, s.k, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  // Error bound per element: 2·γ_k·(|α|·(|op(A)|·|op(B)|) + |β·C|), plus TF32's input rounding.
  std::vector<float> abs_product(std::size_t(s.m) * s.n);
  const std::vector<float> abs_a = absolute(A), abs_b = absolute(B);
  cpu::gemm(ta, tb, s.m, s.n, s.k, std::fabs(alpha), abs_a.data(), lda, abs_b.data(), ldb, 0.0f,
            abs_product.data(), s.n);
  const double gamma = (s.k + 2) * kU32;
  const double factor = 2.0 * (gamma + (tf32 ? 2.0 * kUTf32 : 0.0));
  // 2. GPU
  DeviceArray<float> dA(A), dB(B), dC(C0);
  {
    kc::GemmEngine engine(variant, stream, tf32);
    kc::gemm(engine, ta, tb, s.m, s.n, s.k, alpha, dA.get(), lda, dB.get(), ldb, beta, dC.get(), ldc);
    PIPELAB_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  const std::vector<float> got_padded = dC.download();
  // 3. compare: the (m, n) product within the bound, the padding bit for bit.
  std::vector<float> got, want, pad_got, pad_want;
  std::vector<double> tolerance;
  for (int i = 0; i < s.m; ++i)
    for (int j = 0; j < ldc; ++j) {
      const std::size_t at = std::size_t(i) * ldc + j;
      if (j < s.n) {
        got.push_back(got_padded[at]);
        want.push_back(ref[at]);
        const double c_term = beta == 0.0f ? 0.0 : std::fabs(double(beta) * C0[at]);
        tolerance.push_back(factor * (abs_product[std::size_t(i) * s.n + j] + c_term) + 1e-30);
      } else {
        pad_got.push_back(got_padded[at]);
        pad_want.push_back(C0[at]);
      }
    }
  EXPECT_TRUE(close_within(got, want, tolerance))
      << kc::to_string(variant) << " ta=" << (ta == Trans::Yes) << " tb=" << (tb == Trans::Yes) << " (m, n, k) = ("
      << s.m << ", " << s.n << ", " << s.k << ") alpha " << alpha << " beta " << beta << (tf32 ? " tf32" : "")
      << " lda " << lda << " ldb " << ldb << " ldc " << ldc;
  EXPECT_TRUE(bit_identical(pad_got, pad_want)) << "the padding of C (columns n .. ldc) was written";
}

class GpuGemm : public GpuKernel,
                public ::testing::WithParamInterface<std::tuple<kc::GemmVariant, Trans, Trans>> {};

TEST_P(GpuGemm, MatchesCpuReferenceOnAwkwardShapes) {
  const auto [variant, ta, tb] = GetParam();
  std::uint32_t seed = 100;
  for (const GemmShape& shape : kShapes)
    for (const auto& [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{1.0f, 1.0f}, std::pair{-0.75f, 0.5f}})
      check_gemm(variant, ta, tb, shape, alpha, beta, /*tf32=*/false, stream(), seed += 3);
}

TEST_P(GpuGemm, AlignedRowsOnAwkwardShapes) {
  // 16-byte rows: the vectorized kernel's float4 loads and stores, and its scalar path
  // at the ragged end of a row (n, k, m not multiples of 4) and past the last tile.
  const auto [variant, ta, tb] = GetParam();
  std::uint32_t seed = 200;
  for (const GemmShape& shape : kShapes)
    for (const auto& [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-0.75f, 0.5f}})
      check_gemm(variant, ta, tb, shape, alpha, beta, false, stream(), seed += 3, Rows::Aligned);
  // Multiples of 4 that are not multiples of the 128 × 128 × 8 tile: float4 everywhere.
  for (const GemmShape& shape : {GemmShape{132, 260, 68}, GemmShape{256, 256, 24}, GemmShape{4, 128, 8}})
    check_gemm(variant, ta, tb, shape, 1.0f, 1.0f, false, stream(), seed += 3, Rows::Aligned);
}

TEST_P(GpuGemm, BiggerThanAnyTileOrBlock) {
  // Several blocks in every direction of the tiled kernel's grid, and a long k.
  const auto [variant, ta, tb] = GetParam();
  check_gemm(variant, ta, tb, {257, 513, 1025}, 1.0f, 1.0f, false, stream(), 7);
  check_gemm(variant, ta, tb, {384, 256, 1024}, 1.0f, 0.0f, false, stream(), 8, Rows::Aligned);
}

// Every GEMM of cuda::gemm: the teaching kernels v1 .. v4 and cuBLAS.
INSTANTIATE_TEST_SUITE_P(
    Variants, GpuGemm,
    ::testing::Combine(::testing::Values(kc::GemmVariant::Naive, kc::GemmVariant::Tiled, kc::GemmVariant::Register,
                                         kc::GemmVariant::Vectorized, kc::GemmVariant::Cublas),
                       ::testing::Values(Trans::No, Trans::Yes), ::testing::Values(Trans::No, Trans::Yes)),
    [](const auto& info) {
      std::string name = kc::to_string(std::get<0>(info.param));
      name[0] = static_cast<char>(std::toupper(name[0]));
      return name + (std::get<1>(info.param) == Trans::Yes ? "T" : "N") +
             (std::get<2>(info.param) == Trans::Yes ? "T" : "N");
    });

TEST_F(GpuKernel, CublasTf32WithinTf32Bound) {
  for (const auto& [ta, tb] : {std::pair{Trans::No, Trans::Yes}, std::pair{Trans::Yes, Trans::No}})
    for (const GemmShape& shape : {GemmShape{65, 129, 257}, GemmShape{256, 256, 1024}})
      check_gemm(kc::GemmVariant::Cublas, ta, tb, shape, 1.0f, 1.0f, /*tf32=*/true, stream(), 11);
}

TEST_F(GpuKernel, GemmWithZeroDepthOrAlphaOnlyScalesC) {
  // k == 0 or alpha == 0: C = beta·C and A, B are never read (they hold NaN here).
  for (kc::GemmVariant variant : {kc::GemmVariant::Naive, kc::GemmVariant::Tiled, kc::GemmVariant::Register,
                                  kc::GemmVariant::Vectorized, kc::GemmVariant::Cublas}) {
    kc::GemmEngine engine(variant, stream(), false);
    const int m = 5, n = 7, k = 3;
    DeviceArray<float> A(std::size_t(m) * k), B(std::size_t(k) * n);  // poisoned: NaN
    const std::vector<float> C0 = random_floats(std::size_t(m) * n, 3);
    for (const auto& [depth, alpha, beta] : {std::tuple{0, 1.0f, 0.5f}, std::tuple{k, 0.0f, 0.5f},
                                            std::tuple{0, 1.0f, 0.0f}}) {
      DeviceArray<float> C(C0);
      kc::gemm(engine, Trans::No, Trans::No, m, n, depth, alpha, A.get(), std::max(depth, 1), B.get(), n, beta,
               C.get(), n);
      std::vector<float> want(C0.size());
      for (std::size_t i = 0; i < want.size(); ++i) want[i] = beta == 0.0f ? 0.0f : beta * C0[i];
      EXPECT_TRUE(bit_identical(C.download(), want)) << kc::to_string(variant) << " k=" << depth << " alpha=" << alpha;
    }
  }
}

// Argument checks happen on the host before any launch: these run without a GPU.
TEST(GpuKernelArguments, GemmRejectsBadShapesLikeTheCpuReference) {
  kc::GemmEngine engine(kc::GemmVariant::Naive, nullptr, false);  // the naive engine holds no GPU resource
  float fake[64];  // never dereferenced: every call below fails its checks first
  EXPECT_THROW(kc::gemm(engine, Trans::No, Trans::No, -1, 2, 2, 1.f, fake, 2, fake + 16, 2, 0.f, fake + 32, 2),
               Error);
  EXPECT_THROW(kc::gemm(engine, Trans::No, Trans::No, 2, 2, 3, 1.f, fake, 2, fake + 16, 2, 0.f, fake + 32, 2),
               Error);  // lda 2 < k 3
  EXPECT_THROW(kc::gemm(engine, Trans::No, Trans::No, 2, 2, 2, 1.f, nullptr, 2, fake + 16, 2, 0.f, fake + 32, 2),
               Error);  // null A
  EXPECT_THROW(kc::gemm(engine, Trans::No, Trans::No, 2, 2, 2, 1.f, fake, 2, fake + 16, 2, 0.f, fake + 1, 2),
               Error);  // C overlaps A
  try {
    kc::gemm(engine, Trans::Yes, Trans::No, 4, 2, 3, 1.f, fake, 3, fake + 16, 2, 0.f, fake + 32, 2);
    ADD_FAILURE() << "lda 3 < m 4 for a transposed A must throw";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("lda = 3"), std::string::npos) << e.message();
    EXPECT_FALSE(e.hint().empty());
  }
  // Empty C: nothing to do, null pointers allowed (BLAS convention).
  EXPECT_NO_THROW(kc::gemm(engine, Trans::No, Trans::No, 0, 5, 5, 1.f, nullptr, 5, nullptr, 5, 0.f, nullptr, 5));
}

TEST(GpuKernelArguments, ElementwiseRejectBadShapesAndNulls) {
  float fake[4];
  EXPECT_THROW(kc::bias_gelu_forward(fake, fake, fake, -1, 2, nullptr), Error);
  EXPECT_THROW(kc::bias_gelu_forward(fake, nullptr, fake, 2, 2, nullptr), Error);
  EXPECT_THROW(kc::bias_backward(nullptr, fake, 1, 1, nullptr), Error);
  EXPECT_THROW(kc::add_inplace(fake, nullptr, 3, nullptr), Error);
  EXPECT_THROW(kc::sgd_update(fake, fake, 4, std::numeric_limits<float>::infinity(), nullptr), Error);
  EXPECT_THROW(kc::softmax_xent_forward(fake, nullptr, 1, 4, nullptr, nullptr), Error);
  EXPECT_THROW(kc::softmax_xent_backward(fake, reinterpret_cast<const int*>(fake), fake, 2, 0, 1.f, nullptr), Error);
  // Zero-size calls are no-ops (no launch, so no GPU needed).
  EXPECT_NO_THROW(kc::bias_gelu_forward(nullptr, nullptr, nullptr, 0, 7, nullptr));
  EXPECT_NO_THROW(kc::add_inplace(nullptr, nullptr, 0, nullptr));
  EXPECT_NO_THROW(kc::softmax_xent_forward(nullptr, nullptr, 0, 7, nullptr, nullptr));
}

// ---- element-wise ---------------------------------------------------------------------

// (rows, cols): a single element, a single row, one past a 256-thread block, wide.
const std::pair<int, int> kMatrices[] = {{1, 1}, {1, 257}, {3, 255}, {37, 1000}, {129, 33}, {16, 4097}};

TEST_F(GpuKernel, BiasGeluForwardMatchesCpu) {
  std::uint32_t seed = 1;
  for (const auto& [rows, cols] : kMatrices) {
    const std::size_t n = std::size_t(rows) * cols;
    const std::vector<float> a0 = random_floats(n, ++seed, -4.f, 4.f), bias = random_floats(cols, ++seed);
    std::vector<float> a_ref = a0, g_ref(n);
    cpu::bias_gelu_forward(a_ref.data(), bias.data(), g_ref.data(), rows, cols);
    DeviceArray<float> a(a0), b(bias), g(n);
    kc::bias_gelu_forward(a.get(), b.get(), g.get(), rows, cols, stream());
    EXPECT_TRUE(bit_identical(a.download(), a_ref)) << "a += bias is one fp32 add, like the CPU";
    // erff on the GPU is within 2 ulp of the C library's: a few 1e-7 relative.
    EXPECT_TRUE(close(g.download(), g_ref, 1e-6, 1e-6)) << rows << " x " << cols;
  }
}

TEST_F(GpuKernel, BiasGeluBackwardMatchesCpuAlsoInPlace) {
  std::uint32_t seed = 20;
  for (const bool in_place : {false, true})
    for (const auto& [rows, cols] : kMatrices) {
      const std::size_t n = std::size_t(rows) * cols;
      const std::vector<float> dg = random_floats(n, ++seed), a = random_floats(n, ++seed, -4.f, 4.f);
      const std::vector<float> dbias0 = random_floats(cols, ++seed);  // accumulated onto, not overwritten
      std::vector<float> da_ref(n), dbias_ref = dbias0;
      cpu::bias_gelu_backward(dg.data(), a.data(), da_ref.data(), dbias_ref.data(), rows, cols);
      DeviceArray<float> d_dg(dg), d_a(a), d_da(n), d_dbias(dbias0);
      float* da = in_place ? d_dg.get() : d_da.get();
      kc::bias_gelu_backward(d_dg.get(), d_a.get(), da, d_dbias.get(), rows, cols, stream());
      const std::vector<float> got_da = in_place ? d_dg.download() : d_da.download();
      EXPECT_TRUE(close(got_da, da_ref, 1e-6, 1e-6)) << rows << " x " << cols << (in_place ? " in place" : "");
      // Σ of `rows` values each within ~1e-6: the tolerance grows with the row count.
      EXPECT_TRUE(close(d_dbias.download(), dbias_ref, 1e-6 * rows, 1e-6)) << rows << " x " << cols;
    }
}

TEST_F(GpuKernel, BiasResidualForwardIsBitIdentical) {
  std::uint32_t seed = 40;
  for (const auto& [rows, cols] : kMatrices) {
    const std::size_t n = std::size_t(rows) * cols;
    const std::vector<float> y0 = random_floats(n, ++seed), bias = random_floats(cols, ++seed),
                             x = random_floats(n, ++seed);
    std::vector<float> ref = y0;
    cpu::bias_residual_forward(ref.data(), bias.data(), x.data(), rows, cols);
    DeviceArray<float> y(y0), b(bias), dx(x);
    kc::bias_residual_forward(y.get(), b.get(), dx.get(), rows, cols, stream());
    EXPECT_TRUE(bit_identical(y.download(), ref)) << rows << " x " << cols;
  }
}

TEST_F(GpuKernel, BiasBackwardIsBitIdenticalAndAccumulates) {
  // Rows are added in order onto the stored dbias, exactly as on the CPU: also when a
  // batch is split into micro-batches and accumulated.
  const int rows = 203, cols = 517, split = 77;
  const std::vector<float> dy = random_floats(std::size_t(rows) * cols, 60), dbias0 = random_floats(cols, 61);
  std::vector<float> ref = dbias0;
  cpu::bias_backward(dy.data(), ref.data(), rows, cols);
  DeviceArray<float> d_dy(dy), whole(dbias0), parts(dbias0);
  kc::bias_backward(d_dy.get(), whole.get(), rows, cols, stream());
  kc::bias_backward(d_dy.get(), parts.get(), split, cols, stream());
  kc::bias_backward(d_dy.get() + std::size_t(split) * cols, parts.get(), rows - split, cols, stream());
  EXPECT_TRUE(bit_identical(whole.download(), ref));
  EXPECT_TRUE(bit_identical(parts.download(), ref)) << "micro-batch accumulation must equal the full batch";
}

TEST_F(GpuKernel, AddInplaceAndSgdAreBitIdentical) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{255}, std::size_t{1} << 20 | 3}) {
    const std::vector<float> dst0 = random_floats(n, 70), src = random_floats(n, 71);
    std::vector<float> add_ref = dst0, sgd_ref = dst0;
    cpu::add_inplace(add_ref.data(), src.data(), n);
    cpu::sgd_update(sgd_ref.data(), src.data(), n, 0.0123f);
    DeviceArray<float> add(dst0), sgd(dst0), d_src(src);
    kc::add_inplace(add.get(), d_src.get(), n, stream());
    kc::sgd_update(sgd.get(), d_src.get(), n, 0.0123f, stream());
    EXPECT_TRUE(bit_identical(add.download(), add_ref)) << "n = " << n;
    EXPECT_TRUE(bit_identical(sgd.download(), sgd_ref)) << "n = " << n << ": θ − (lr·g), no FMA";
  }
}

// ---- loss ---------------------------------------------------------------------------------

TEST_F(GpuKernel, SoftmaxXentMatchesCpu) {
  std::uint32_t seed = 80;
  for (const auto& [rows, classes] : {std::pair{1, 1}, std::pair{5, 7}, std::pair{33, 1000}, std::pair{3, 4097}}) {
    const std::size_t n = std::size_t(rows) * classes;
    std::vector<float> logits = random_floats(n, ++seed, -10.f, 10.f);
    logits[0] = 88.f;  // exp(88) overflows fp32: the row max must be subtracted first
    const std::vector<int> labels = random_labels(rows, classes, ++seed);
    const float scale = 1.0f / 37.0f;
    // 1. reference: the loss (scaled sum) and each row's loss, and the gradient.
    const double loss_ref = cpu::softmax_xent_forward(logits.data(), labels.data(), rows, classes, scale);
    std::vector<double> rows_ref(rows);
    for (int i = 0; i < rows; ++i)
      rows_ref[i] = cpu::softmax_xent_forward(logits.data() + std::size_t(i) * classes, &labels[i], 1, classes, 1.f);
    std::vector<float> grad_ref(n);
    cpu::softmax_xent_backward(logits.data(), labels.data(), grad_ref.data(), rows, classes, scale);
    // 2. GPU
    DeviceArray<float> d_logits(logits), d_grad(n);
    DeviceArray<int> d_labels(labels);
    DeviceArray<double> d_rows(rows);
    kc::softmax_xent_forward(d_logits.get(), d_labels.get(), rows, classes, d_rows.get(), stream());
    kc::softmax_xent_backward(d_logits.get(), d_labels.get(), d_grad.get(), rows, classes, scale, stream());
    // 3. compare: double precision throughout, only the order of a row's sum differs.
    const std::vector<double> got_rows = d_rows.download();
    EXPECT_TRUE(close(got_rows, rows_ref, 1e-12, 1e-12)) << rows << " x " << classes;
    double loss = 0;
    for (double r : got_rows) loss += r;
    loss *= double{scale};
    EXPECT_NEAR(loss, loss_ref, 1e-12 * (1 + std::fabs(loss_ref)));
    EXPECT_TRUE(close(d_grad.download(), grad_ref, 1e-9, 1e-6)) << rows << " x " << classes;
  }
}

TEST_F(GpuKernel, SoftmaxXentBadLabelGivesNaN) {
  const int rows = 3, classes = 5;
  const std::vector<float> logits = random_floats(std::size_t(rows) * classes, 90);
  const std::vector<int> labels = {1, classes, -1};  // rows 1 and 2 are out of range
  DeviceArray<float> d_logits(logits), d_grad(logits.size());
  DeviceArray<int> d_labels(labels);
  DeviceArray<double> d_rows(rows);
  kc::softmax_xent_forward(d_logits.get(), d_labels.get(), rows, classes, d_rows.get(), stream());
  kc::softmax_xent_backward(d_logits.get(), d_labels.get(), d_grad.get(), rows, classes, 1.f, stream());
  const std::vector<double> got = d_rows.download();
  const std::vector<float> grad = d_grad.download();
  EXPECT_TRUE(std::isfinite(got[0]));
  EXPECT_TRUE(std::isnan(got[1]) && std::isnan(got[2]));
  for (int j = 0; j < classes; ++j) {
    EXPECT_TRUE(std::isfinite(grad[j]));
    EXPECT_TRUE(std::isnan(grad[classes + j]));
  }
}

}  // namespace
}  // namespace pipelab
