// pipelab/model/model.h — the model every backend trains, and its single-device step.
//
// L residual MLP blocks, each   y = x + W2 · GELU(W1 · x + b1) + b2
//   x, y are (b, d); W1 is (h, d), b1 (h); W2 is (d, h), b2 (d)
// then softmax cross-entropy of the last block's output over d classes, against
// labels from a fixed seeded "teacher" (label = argmax of T · x, T is (d, d)).
// The loss of a step is the mean over the whole batch B; a micro-batch of b rows
// contributes scale = 1/B per row, so micro-batch losses and gradients add up
// exactly to the batch's.
#pragma once

#include <cstdint>
#include <vector>

#include "pipelab/kernels/cpu.h"  // kernels::cpu::GemmImpl

namespace pipelab {

/// Model shape: L residual MLP blocks of width d and hidden size h, then a
/// softmax cross-entropy over d classes. Batch B samples per step.
struct ModelSpec {
  int layers = 16;   ///< L
  int width = 256;   ///< d (also the number of classes)
  int hidden = 1024; ///< h
  int batch = 128;   ///< B
  std::uint64_t seed = 1;        ///< seeds the parameters (per layer) and the batch
  float learning_rate = 0.01f;  ///< SGD step size
};

/// The model run/compare/sweep use on the cuda backend when no model flag
/// (--layers/--width/--hidden/--batch) is given. The ModelSpec defaults suit the cpu
/// backend; on an H100 their actions are ~0.3 ms of launch-bound kernels and GPipe's
/// extra actions cost more than its overlap gains. Here (L=8 d=2048 h=8192 B=1024,
/// 1.65 TFLOP of GEMMs per step) one micro-batch of 64 rows keeps a quarter of an H100
/// busy for about a millisecond per action, so the ~0.1 ms of synchronisation between
/// actions is small and the measured bubble approaches the theory.
ModelSpec default_cuda_model();

/// The model run/compare/sweep use on the cpu backend (and auto → cpu) when no model flag
/// is given. The ModelSpec defaults (L=16 d=256 h=1024 B=128, which the sim and the lab
/// handouts use) cut into M=8 micro-batches give 16-row GEMMs at ~60 GFLOP/s, against
/// ~95 at 64 rows on the kit's 2-core VM, and a K=1 step then takes 1.9x its M=1 time.
/// Here (L=16 d=192 h=768 B=512, 14.5 GFLOP of GEMMs per step) M=8 gives 64-row
/// micro-batches whose six GEMM shapes run within ~7% of the full-batch rate (K=1: ~1.2x),
/// and a K=4 step takes ~0.12 s (GPipe) to ~0.17 s (naive) there
/// (bench/results/2026-12-01-cpu-blas.md; bench/cpu_gemm_bench.cpp --parts models).
ModelSpec default_cpu_model();

// ---------------------------------------------------------------- sizes
/// Parameters of one block: W1 (h, d) + b1 (h) + W2 (d, h) + b2 (d) = 2·d·h + h + d.
std::uint64_t block_param_count(const ModelSpec& spec);

/// Bytes of one tensor at a stage boundary for `rows` rows: an activation or its
/// gradient, (b, d) fp32 = 4·b·d.
std::uint64_t boundary_bytes(const ModelSpec& spec, int rows);

/// Bytes of the activations kept for backward by one block for `rows` rows:
/// its input x (b, d) and a, g (b, h), fp32 = 4·b·(d + 2h).
std::uint64_t block_stash_bytes(const ModelSpec& spec, int rows);


/// Parameters (or gradients: same shapes) of one block.
struct BlockParams {
  std::vector<float> w1;  ///< (h, d)
  std::vector<float> b1;  ///< (h)
  std::vector<float> w2;  ///< (d, h)
  std::vector<float> b2;  ///< (d)

  /// Number of floats over the four tensors.
  std::size_t count() const { return w1.size() + b1.size() + w2.size() + b2.size(); }
};

/// Calls f(name, tensor) for w1, b1, w2, b2 in that order: the one list of a block's
/// tensors (upload, download, zeroing, comparisons).
template <typename Block, typename F>
void for_each_tensor(Block& block, F&& f) {
  f("w1", block.w1);
  f("b1", block.b1);
  f("w2", block.w2);
  f("b2", block.b2);
}

/// Calls f(name, a_tensor, b_tensor) for the same tensor of two blocks, in order.
template <typename BlockA, typename BlockB, typename F>
void for_each_tensor_pair(BlockA& a, BlockB& b, F&& f) {
  f("w1", a.w1, b.w1);
  f("b1", a.b1, b.b1);
  f("w2", a.w2, b.w2);
  f("b2", a.b2, b.b2);
}

/// Zero-filled block of the model's shape.
BlockParams zero_block(const ModelSpec& spec);

/// Parameters of layer `layer`, seeded by (seed, layer) alone, so any stage can
/// build its own layers without the others. W ~ U(-1/√fan_in, 1/√fan_in), b small.
BlockParams init_block(const ModelSpec& spec, int layer);

/// The synthetic data of a step: inputs (B, d) ~ N(0, 1) and teacher labels.
struct Batch {
  std::vector<float> inputs;  ///< (B, d)
  std::vector<int> labels;    ///< (B)
};
/// The step's batch for `spec` (seeded by spec.seed).
Batch make_batch(const ModelSpec& spec);

/// What one block's forward keeps for its backward, for b rows.
struct BlockActivations {
  std::vector<float> a;  ///< (b, h) pre-activation W1·x + b1
  std::vector<float> g;  ///< (b, h) GELU(a)
};

/// y (b, d) = x + W2 · GELU(W1 · x + b1) + b2; fills `act` (resized as needed). Its two
/// GEMMs run on `gemm` (kernels::cpu::gemm(GemmImpl, ...)).
void block_forward(const ModelSpec& spec, const BlockParams& p, const float* x, int rows,
                   BlockActivations& act, float* y, kernels::cpu::GemmImpl gemm);

/// Backward of block_forward: given dy (b, d), accumulate parameter gradients into
/// `grad` and write dx (b, d). `scratch` (b·h + h floats) is overwritten. Four GEMMs on `gemm`.
/// The same operations, in the same order per tensor, as block_backward_input followed by
/// block_backward_weight (which it calls), so the two paths agree to the bit.
void block_backward(const ModelSpec& spec, const BlockParams& p, const float* x,
                    const BlockActivations& act, const float* dy, int rows, BlockParams& grad,
                    float* dx, std::vector<float>& scratch, kernels::cpu::GemmImpl gemm);

/// I, the input-gradient half of block_backward: given dy (b, d), write
///   dg = dy · W2 (b, h),  da = dg ⊙ GELU'(a) into `da` (b·h floats, kept for W),
///   dx = da · W1 + dy (b, d)   (the residual passes dy straight through).
/// Two GEMMs on `gemm`; touches no gradient. dy and da are what block_backward_weight needs
/// (with F's x and g), so the caller keeps both until then. `dbias_scratch` (h floats) is
/// overwritten: the fused GELU-backward kernel also sums db1, which belongs to W.
void block_backward_input(const ModelSpec& spec, const BlockParams& p, const BlockActivations& act,
                          const float* dy, int rows, float* da, float* dx, float* dbias_scratch,
                          kernels::cpu::GemmImpl gemm);

/// W, the weight-gradient half of block_backward: from F's x (b, d) and g (in `act`) and
/// I's dy (b, d) and da (b, h), accumulate
///   dW2 += dyᵀ · g,  db2 += Σ_rows dy,  dW1 += daᵀ · x,  db1 += Σ_rows da
/// into `grad`. Two GEMMs on `gemm`; reads no parameter.
void block_backward_weight(const ModelSpec& spec, const float* x, const BlockActivations& act, const float* dy,
                           const float* da, int rows, BlockParams& grad, kernels::cpu::GemmImpl gemm);

/// FLOPs of one block for `rows` rows (two GEMMs dominate: 2·b·d·h each);
/// backward is twice the forward (gradients w.r.t. inputs and weights).
double block_forward_flops(const ModelSpec& spec, int rows);
/// FLOPs of one block's backward for `rows` rows (see block_forward_flops()):
/// block_backward_input_flops + block_backward_weight_flops.
double block_backward_flops(const ModelSpec& spec, int rows);
/// FLOPs of block_backward_input for `rows` rows: 4·b·d·h + 11·b·h + 2·b·d.
double block_backward_input_flops(const ModelSpec& spec, int rows);
/// FLOPs of block_backward_weight for `rows` rows: 4·b·d·h + b·h + b·d.
double block_backward_weight_flops(const ModelSpec& spec, int rows);
/// FLOPs of the loss for `rows` rows (softmax + log: ~5 per logit, forward + backward).
double loss_flops(const ModelSpec& spec, int rows);
/// GEMM FLOPs of one training step of the whole batch: per block, forward 2 GEMMs of
/// 2·B·d·h and backward 4 → 12·L·B·d·h (the element-wise work is O(B·h) per block).
double step_gemm_flops(const ModelSpec& spec);

/// Result of a full training step's numerics.
struct StepNumerics {
  double loss = 0;                  ///< mean cross-entropy over the batch (before the update)
  std::vector<BlockParams> grads;   ///< per layer, before the update
  std::vector<BlockParams> params;  ///< per layer, after the SGD update
};

/// SGD on one block: p ← p − learning_rate · g, every tensor (kernels' sgd_update).
void sgd_update(BlockParams& params, const BlockParams& grads, float learning_rate);

/// The single-device reference step: no partition, no micro-batches, the whole
/// batch B through all L layers, backward, SGD. The transparency oracle. Its GEMMs run
/// on the hand-written reference by default, so a cpu run on BLAS is checked against an
/// independent implementation (and the oracle's bits do not depend on the BLAS found).
StepNumerics reference_step(const ModelSpec& spec,
                            kernels::cpu::GemmImpl gemm = kernels::cpu::GemmImpl::Reference);

/// Largest |got − ref| / max|ref| over every tensor (gradients and updated
/// parameters) and the loss: the normwise relative difference, per tensor.
double max_relative_difference(const StepNumerics& got, const StepNumerics& ref);

}  // namespace pipelab
