// model.cpp — parameters, data, one block's forward/backward, the reference step.
#include "pipelab/model/model.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <thread>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/rng.h"

namespace pipelab {

namespace k = kernels::cpu;
using k::Trans;

ModelSpec default_cuda_model() {
  ModelSpec m;
  m.layers = 8;
  m.width = 2048;
  m.hidden = 8192;
  m.batch = 1024;
  return m;
}

ModelSpec default_cpu_model() {
  ModelSpec m;
  m.layers = 16;
  m.width = 192;
  m.hidden = 768;
  m.batch = 512;
  return m;
}

std::uint64_t block_param_count(const ModelSpec& s) {
  const std::uint64_t d = static_cast<std::uint64_t>(s.width), h = static_cast<std::uint64_t>(s.hidden);
  return 2 * d * h + h + d;  // W1 (h, d) + b1 (h) + W2 (d, h) + b2 (d)
}

std::uint64_t boundary_bytes(const ModelSpec& s, int rows) {
  return 4ull * static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(s.width);  // (b, d) fp32
}

std::uint64_t block_stash_bytes(const ModelSpec& s, int rows) {
  // x (b, d) + a (b, h) + g (b, h), 4 bytes each.
  return 4ull * static_cast<std::uint64_t>(rows) *
         (static_cast<std::uint64_t>(s.width) + 2ull * static_cast<std::uint64_t>(s.hidden));
}

void sgd_update(BlockParams& params, const BlockParams& grads, float learning_rate) {
  for_each_tensor_pair(params, grads, [&](const char*, std::vector<float>& p, const std::vector<float>& g) {
    k::sgd_update(p.data(), g.data(), p.size(), learning_rate);
  });
}

BlockParams zero_block(const ModelSpec& s) {
  BlockParams p;
  p.w1.assign(static_cast<std::size_t>(s.hidden) * s.width, 0.f);
  p.b1.assign(s.hidden, 0.f);
  p.w2.assign(static_cast<std::size_t>(s.width) * s.hidden, 0.f);
  p.b2.assign(s.width, 0.f);
  return p;
}

BlockParams init_block(const ModelSpec& s, int layer) {
  BlockParams p = zero_block(s);
  // PyTorch-style nn.Linear init: U(-1/√fan_in, 1/√fan_in) for weights and biases.
  // W2 is scaled down by √L so the residual stream stays O(1) through L blocks.
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(s.width));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(s.hidden)) /
                        std::sqrt(static_cast<double>(std::max(1, s.layers)));
  detail::Rng r1(s.seed, static_cast<std::uint64_t>(layer) + 1, 1);
  for (float& w : p.w1) w = static_cast<float>(r1.uniform(-bound1, bound1));
  for (float& b : p.b1) b = static_cast<float>(r1.uniform(-bound1, bound1));
  detail::Rng r2(s.seed, static_cast<std::uint64_t>(layer) + 1, 2);
  for (float& w : p.w2) w = static_cast<float>(r2.uniform(-bound2, bound2));
  for (float& b : p.b2) b = static_cast<float>(r2.uniform(-bound2, bound2));
  return p;
}

Batch make_batch(const ModelSpec& s) {
  Batch batch;
  const std::size_t n = static_cast<std::size_t>(s.batch) * s.width;
  batch.inputs.resize(n);
  detail::Rng data_rng(s.seed, 0, 7);
  for (float& x : batch.inputs) x = static_cast<float>(data_rng.normal());
  // The teacher T (d, d) ~ N(0, 1); label_i = argmax_j (T · x_i)_j. Computed in
  // double so the labels do not depend on summation order.
  std::vector<double> teacher(static_cast<std::size_t>(s.width) * s.width);
  detail::Rng teacher_rng(s.seed, 0, 8);
  for (double& t : teacher) t = teacher_rng.normal();
  batch.labels.resize(s.batch);
  // Rows go in tiles of 32: the tile's inputs are transposed to xt (d, 32) in double,
  // and for each teacher row j the 32 scores are summed side by side — one chain per
  // row, still over c = 0 .. d−1 in order, so every score (and label) is what a plain
  // row-by-row loop gives, while the compiler can keep several chains in one vector
  // register and the teacher row is read once per tile, not once per row.
  auto label_rows = [&](int begin, int end) {
    constexpr int kTile = 32;
    const int d = s.width;
    std::vector<double> xt(static_cast<std::size_t>(d) * kTile);
    for (int i0 = begin; i0 < end; i0 += kTile) {
      const int rows = std::min(end - i0, kTile);
      std::fill(xt.begin(), xt.end(), 0.0);
      for (int i = 0; i < rows; ++i)
        for (int c = 0; c < d; ++c)
          xt[static_cast<std::size_t>(c) * kTile + i] = batch.inputs[static_cast<std::size_t>(i0 + i) * d + c];
      double best_score[kTile];
      int best[kTile];
      std::fill(best_score, best_score + kTile, -INFINITY);
      std::fill(best, best + kTile, 0);
      for (int j = 0; j < d; ++j) {
        const double* t = &teacher[static_cast<std::size_t>(j) * d];
        double score[kTile] = {};
        for (int c = 0; c < d; ++c) {
          const double tc = t[c];
          const double* x = &xt[static_cast<std::size_t>(c) * kTile];
          for (int i = 0; i < kTile; ++i) score[i] += tc * x[i];
        }
        for (int i = 0; i < rows; ++i)
          if (score[i] > best_score[i]) best_score[i] = score[i], best[i] = j;
      }
      for (int i = 0; i < rows; ++i) batch.labels[i0 + i] = best[i];
    }
  };
  // B·d² multiply-adds (B=1024, d=4096: 17 G, ~20 s on one core): rows are split over
  // threads. Each row is computed exactly as before, so the labels do not change.
  const double work = static_cast<double>(s.batch) * s.width * s.width;
  const int threads = work < 1e8 ? 1 : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  const int per_thread = (s.batch + threads - 1) / threads;
  std::vector<std::future<void>> parts;
  for (int begin = 0; begin < s.batch; begin += per_thread)
    parts.push_back(std::async(std::launch::async, label_rows, begin, std::min(s.batch, begin + per_thread)));
  for (auto& part : parts) part.get();  // rethrows
  return batch;
}

void block_forward(const ModelSpec& s, const BlockParams& p, const float* x, int rows,
                   BlockActivations& act, float* y, k::GemmImpl gemm) {
  const int d = s.width, h = s.hidden;
  act.a.resize(static_cast<std::size_t>(rows) * h);
  act.g.resize(static_cast<std::size_t>(rows) * h);
  // a (b, h) = x (b, d) · W1ᵀ (d, h);  then a += b1, g = GELU(a)
  k::gemm(gemm, Trans::No, Trans::Yes, rows, h, d, 1.f, x, d, p.w1.data(), d, 0.f, act.a.data(), h);
  k::bias_gelu_forward(act.a.data(), p.b1.data(), act.g.data(), rows, h);
  // y (b, d) = g (b, h) · W2ᵀ (h, d);  then y += b2 + x (the residual)
  k::gemm(gemm, Trans::No, Trans::Yes, rows, d, h, 1.f, act.g.data(), h, p.w2.data(), h, 0.f, y, d);
  k::bias_residual_forward(y, p.b2.data(), x, rows, d);
}

void block_backward(const ModelSpec& s, const BlockParams& p, const float* x,
                    const BlockActivations& act, const float* dy, int rows, BlockParams& grad,
                    float* dx, std::vector<float>& scratch, k::GemmImpl gemm) {
  // I then W. Every tensor sees the same kernel calls, in the same order, as the fused
  // backward had: dx from the two I GEMMs, each gradient from its own W GEMM or row sum,
  // and db1 summed row by row in order by bias_backward exactly as the fused GELU kernel
  // summed it — so the result is the same to the bit.
  // scratch: da (b, h), then I's discarded db1 sum (h).
  const std::size_t da_floats = static_cast<std::size_t>(rows) * s.hidden;
  scratch.resize(da_floats + static_cast<std::size_t>(s.hidden));
  block_backward_input(s, p, act, dy, rows, scratch.data(), dx, scratch.data() + da_floats, gemm);
  block_backward_weight(s, x, act, dy, scratch.data(), rows, grad, gemm);
}

void block_backward_input(const ModelSpec& s, const BlockParams& p, const BlockActivations& act,
                          const float* dy, int rows, float* da, float* dx, float* dbias_scratch,
                          k::GemmImpl gemm) {
  const int d = s.width, h = s.hidden;
  // dg (b, h) = dy (b, d) · W2 (d, h), written into da and turned into da in place below.
  k::gemm(gemm, Trans::No, Trans::No, rows, h, d, 1.f, dy, d, p.w2.data(), h, 0.f, da, h);
  // da = dg ⊙ GELU'(a) (in place). The kernel also sums db1 = Σ_rows da; that is W's
  // (block_backward_weight adds it to the gradient), so here it goes to a scratch sum.
  std::fill(dbias_scratch, dbias_scratch + h, 0.f);
  k::bias_gelu_backward(da, act.a.data(), da, dbias_scratch, rows, h);
  // dx (b, d) = da (b, h) · W1 (h, d) + dy   (the residual passes dy straight through)
  k::gemm(gemm, Trans::No, Trans::No, rows, d, h, 1.f, da, h, p.w1.data(), d, 0.f, dx, d);
  k::add_inplace(dx, dy, static_cast<std::size_t>(rows) * d);
}

void block_backward_weight(const ModelSpec& s, const float* x, const BlockActivations& act, const float* dy,
                           const float* da, int rows, BlockParams& grad, k::GemmImpl gemm) {
  const int d = s.width, h = s.hidden;
  // dW2 (d, h) += dyᵀ (d, b) · g (b, h);   db2 += Σ_rows dy
  k::gemm(gemm, Trans::Yes, Trans::No, d, h, rows, 1.f, dy, d, act.g.data(), h, 1.f, grad.w2.data(), h);
  k::bias_backward(dy, grad.b2.data(), rows, d);
  // dW1 (h, d) += daᵀ (h, b) · x (b, d);   db1 += Σ_rows da (rows in order, as the fused
  // GELU-backward kernel sums it: the same bits)
  k::gemm(gemm, Trans::Yes, Trans::No, h, d, rows, 1.f, da, h, x, d, 1.f, grad.w1.data(), d);
  k::bias_backward(da, grad.b1.data(), rows, h);
}

double block_forward_flops(const ModelSpec& s, int rows) {
  // Two GEMMs of 2·b·d·h FLOPs each, plus bias+GELU (~10 per hidden element) and
  // bias+residual (2 per output element).
  const double b = rows, d = s.width, h = s.hidden;
  return 4.0 * b * d * h + 10.0 * b * h + 2.0 * b * d;
}

double block_backward_flops(const ModelSpec& s, int rows) {
  // Four GEMMs (dW2, dg, dW1, dx) of 2·b·d·h each: twice the forward; in all
  // 8·b·d·h + 12·b·h + 3·b·d, defined as its two halves so that I + W is B exactly
  // (every term is an integer below 2⁵³, so the sum is exact in double).
  return block_backward_input_flops(s, rows) + block_backward_weight_flops(s, rows);
}

double block_backward_input_flops(const ModelSpec& s, int rows) {
  // Two GEMMs (dg = dy·W2, dx = da·W1) of 2·b·d·h each. Of the backward's 12 element-wise
  // FLOPs per hidden element, GELU'(a) and the product dg ⊙ GELU'(a) are I's 11 (GELU'
  // costs about what the forward's bias+GELU does, ~10, plus the multiply; the 12th, the
  // db1 sum, is W's). Of its 3 per output element, one is db2's sum (W's), one the
  // residual add dx += dy (I's); the third is the rough count's allowance with no one
  // kernel behind it, and stays with I, the half on the critical path. The cpu's I also
  // sums a discarded db1 (the fused kernel): not counted, it is not the model's work.
  const double b = rows, d = s.width, h = s.hidden;
  return 4.0 * b * d * h + 11.0 * b * h + 2.0 * b * d;
}

double block_backward_weight_flops(const ModelSpec& s, int rows) {
  // Two GEMMs (dW2 = dyᵀ·g, dW1 = daᵀ·x) of 2·b·d·h each, plus the two bias sums: one add
  // per hidden element (db1 = Σ da) and one per output element (db2 = Σ dy).
  const double b = rows, d = s.width, h = s.hidden;
  return 4.0 * b * d * h + 1.0 * b * h + 1.0 * b * d;
}

double step_gemm_flops(const ModelSpec& s) {
  // The GEMM terms of block_forward_flops + block_backward_flops (4 + 8)·B·d·h, per layer.
  return 12.0 * s.layers * static_cast<double>(s.batch) * s.width * s.hidden;
}

double loss_flops(const ModelSpec& s, int rows) {
  // Forward: max, exp, sum, log ≈ 4 per logit; backward: softmax − onehot ≈ 2 per logit.
  return 6.0 * static_cast<double>(rows) * s.width;
}

StepNumerics reference_step(const ModelSpec& s, k::GemmImpl gemm) {
  const Batch batch = make_batch(s);
  const int B = s.batch, d = s.width, L = s.layers;
  StepNumerics out;
  out.params.reserve(L);
  out.grads.reserve(L);
  for (int l = 0; l < L; ++l) {
    out.params.push_back(init_block(s, l));
    out.grads.push_back(zero_block(s));
  }
  // Forward over the whole batch; keep every block's input and activations.
  std::vector<std::vector<float>> inputs(L + 1);
  std::vector<BlockActivations> acts(L);
  inputs[0] = batch.inputs;
  for (int l = 0; l < L; ++l) {
    inputs[l + 1].resize(static_cast<std::size_t>(B) * d);
    block_forward(s, out.params[l], inputs[l].data(), B, acts[l], inputs[l + 1].data(), gemm);
  }
  // Loss = mean over B of cross-entropy: scale 1/B per row.
  const float scale = 1.0f / static_cast<float>(B);
  out.loss = k::softmax_xent_forward(inputs[L].data(), batch.labels.data(), B, d, scale);
  std::vector<float> dy(static_cast<std::size_t>(B) * d), dx(dy.size()), scratch;
  k::softmax_xent_backward(inputs[L].data(), batch.labels.data(), dy.data(), B, d, scale);
  for (int l = L - 1; l >= 0; --l) {
    block_backward(s, out.params[l], inputs[l].data(), acts[l], dy.data(), B, out.grads[l],
                   dx.data(), scratch, gemm);
    std::swap(dy, dx);
  }
  for (int l = 0; l < L; ++l) sgd_update(out.params[l], out.grads[l], s.learning_rate);
  return out;
}

namespace {
// max|got − ref| / max|ref| for one tensor (0 when both are all zero).
double tensor_rel_diff(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double max_diff = 0, max_ref = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - ref[i]);
    if (!(diff <= max_diff)) max_diff = diff;  // also catches NaN
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  if (std::isnan(max_diff)) return INFINITY;
  if (max_ref == 0) return max_diff == 0 ? 0 : INFINITY;
  return max_diff / max_ref;
}
}  // namespace

double max_relative_difference(const StepNumerics& got, const StepNumerics& ref) {
  // Every tensor must pair up: same layers, and params for every layer with grads.
  if (got.grads.size() != ref.grads.size() || got.params.size() != ref.params.size() ||
      got.params.size() != got.grads.size())
    return INFINITY;
  double worst = std::fabs(got.loss - ref.loss) / std::max(std::fabs(ref.loss), 1e-30);
  if (std::isnan(worst)) worst = INFINITY;
  const auto compare = [&](const BlockParams& a, const BlockParams& b) {
    for_each_tensor_pair(a, b, [&](const char*, const std::vector<float>& x, const std::vector<float>& y) {
      worst = std::max(worst, tensor_rel_diff(x, y));
    });
  };
  for (std::size_t l = 0; l < ref.grads.size(); ++l) {
    compare(got.grads[l], ref.grads[l]);
    compare(got.params[l], ref.params[l]);
  }
  return worst;
}

}  // namespace pipelab
