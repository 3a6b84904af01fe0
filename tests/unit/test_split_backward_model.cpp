// test_split_backward_model.cpp — one block's backward split in two (model.h):
// block_backward_input (I) then block_backward_weight (W) give the same dx and gradients
// as block_backward (B), to the bit, and as the fused sequence B ran before the split;
// the FLOP formulas of I and W add up exactly to B's; the memory plan's I/W terms.
#include <gtest/gtest.h>

#include <vector>

#include "pipelab/kernels/cpu.h"
#include "pipelab/model/memory_plan.h"
#include "pipelab/model/model.h"
#include "pipelab/rng.h"

namespace pipelab {
namespace {

namespace k = kernels::cpu;
using k::Trans;

// Odd sizes on purpose (no dimension a multiple of a GEMM tile).
ModelSpec odd_spec() {
  ModelSpec s;
  s.layers = 3;
  s.width = 13;
  s.hidden = 29;
  s.batch = 11;
  s.seed = 5;
  return s;
}

std::vector<float> normal_values(std::size_t n, std::uint64_t stream) {
  detail::Rng rng(99, stream, 3);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

// Gradients that already hold something, as after an earlier micro-batch: the halves
// must accumulate, not overwrite.
BlockParams nonzero_grads(const ModelSpec& s) {
  BlockParams g = zero_block(s);
  std::uint64_t stream = 10;
  for_each_tensor(g, [&](const char*, std::vector<float>& t) { t = normal_values(t.size(), stream++); });
  return g;
}

// The fused backward exactly as block_backward ran it before the split (same kernels,
// same order): the oracle that the split changed no bit of GPipe's or 1F1B's numerics.
void fused_backward_as_before(const ModelSpec& s, const BlockParams& p, const float* x, const BlockActivations& act,
                              const float* dy, int rows, BlockParams& grad, float* dx, k::GemmImpl gemm) {
  const int d = s.width, h = s.hidden;
  std::vector<float> dg(static_cast<std::size_t>(rows) * h);
  k::gemm(gemm, Trans::Yes, Trans::No, d, h, rows, 1.f, dy, d, act.g.data(), h, 1.f, grad.w2.data(), h);
  k::bias_backward(dy, grad.b2.data(), rows, d);
  k::gemm(gemm, Trans::No, Trans::No, rows, h, d, 1.f, dy, d, p.w2.data(), h, 0.f, dg.data(), h);
  k::bias_gelu_backward(dg.data(), act.a.data(), dg.data(), grad.b1.data(), rows, h);
  k::gemm(gemm, Trans::Yes, Trans::No, h, d, rows, 1.f, dg.data(), h, x, d, 1.f, grad.w1.data(), d);
  k::gemm(gemm, Trans::No, Trans::No, rows, d, h, 1.f, dg.data(), h, p.w1.data(), d, 0.f, dx, d);
  k::add_inplace(dx, dy, static_cast<std::size_t>(rows) * d);
}

void expect_same_bits(const BlockParams& got, const BlockParams& want, const char* what) {
  for_each_tensor_pair(got, want, [&](const char* name, const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a, b) << what << ": " << name;
  });
}

std::vector<k::GemmImpl> available_gemms() {
  std::vector<k::GemmImpl> impls{k::GemmImpl::Reference};
  if (k::gemm_impl_available(k::GemmImpl::Blas)) impls.push_back(k::GemmImpl::Blas);
  return impls;
}

TEST(SplitBackward, InputThenWeightEqualsBackwardToTheBit) {
  // Bit-exact, not a tolerance: every output tensor sees the same kernel calls with the
  // same arguments in the same order on both paths (each GEMM is deterministic for a
  // given call, on both GEMMs; db1's row sum runs rows in order in both kernels).
  const ModelSpec s = odd_spec();
  const int rows = s.batch;
  const BlockParams p = init_block(s, 1);
  const std::vector<float> x = normal_values(static_cast<std::size_t>(rows) * s.width, 1);
  const std::vector<float> dy = normal_values(x.size(), 2);
  for (k::GemmImpl gemm : available_gemms()) {
    SCOPED_TRACE(k::to_string(gemm));
    BlockActivations act;
    std::vector<float> y(x.size());
    block_forward(s, p, x.data(), rows, act, y.data(), gemm);

    BlockParams grad_b = nonzero_grads(s), grad_split = grad_b, grad_before = grad_b;
    std::vector<float> dx_b(x.size()), dx_split(x.size()), dx_before(x.size()), scratch;
    block_backward(s, p, x.data(), act, dy.data(), rows, grad_b, dx_b.data(), scratch, gemm);

    std::vector<float> da(static_cast<std::size_t>(rows) * s.hidden), dbias_scratch(s.hidden);
    block_backward_input(s, p, act, dy.data(), rows, da.data(), dx_split.data(), dbias_scratch.data(), gemm);
    EXPECT_EQ(dx_split, dx_b) << "I's dx";
    expect_same_bits(grad_split, nonzero_grads(s), "I touches no gradient");
    block_backward_weight(s, x.data(), act, dy.data(), da.data(), rows, grad_split, gemm);
    expect_same_bits(grad_split, grad_b, "I then W vs B");

    fused_backward_as_before(s, p, x.data(), act, dy.data(), rows, grad_before, dx_before.data(), gemm);
    EXPECT_EQ(dx_b, dx_before) << "B's dx vs the fused backward before the split";
    expect_same_bits(grad_b, grad_before, "B vs the fused backward before the split");
  }
}

TEST(SplitBackward, FlopsOfInputAndWeightAddUpToBackward) {
  for (const ModelSpec& s : {odd_spec(), ModelSpec{}, default_cpu_model(), default_cuda_model()})
    for (int rows : {1, 7, 64, s.batch}) {
      const double i = block_backward_input_flops(s, rows), w = block_backward_weight_flops(s, rows);
      EXPECT_EQ(i + w, block_backward_flops(s, rows)) << "d=" << s.width << " h=" << s.hidden << " b=" << rows;
      // The formulas as documented (model.h, docs/backends.md), recomputed here.
      const double b = rows, d = s.width, h = s.hidden;
      EXPECT_EQ(i, 4 * b * d * h + 11 * b * h + 2 * b * d);
      EXPECT_EQ(w, 4 * b * d * h + b * h + b * d);
      EXPECT_EQ(i + w, 8 * b * d * h + 12 * b * h + 3 * b * d);
    }
}

TEST(SplitBackward, MemoryPlanChargesEveryBlocksDyAndDaFromIToW) {
  const ModelSpec s = odd_spec();
  StageMemoryPlan plan;
  plan.spec = s;
  plan.blocks = 3;
  const int b = 7;
  EXPECT_EQ(plan.block_output_grad_bytes(b), 4u * b * s.width);
  EXPECT_EQ(plan.block_preactivation_grad_bytes(b), 4u * b * s.hidden);
  EXPECT_EQ(plan.weight_stash_bytes(b), 3u * 4u * b * (s.width + s.hidden));
  plan.blocks = 0;
  EXPECT_EQ(plan.weight_stash_bytes(b), 0u);
}

}  // namespace
}  // namespace pipelab
