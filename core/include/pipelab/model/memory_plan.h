// pipelab/model/memory_plan.h — what one stage holds, in bytes: the one set of formulas
// the sim backend computes its memory from and the cpu and cuda backends charge by.
//
// For stage s of a partition, with n = layer_count(s) blocks, fp32, d = width, h = hidden,
// and a micro-batch of b rows:
//   params = grads  = n · 4 · (2dh + h + d)              held for the whole step
//   input           = 4 · b · d                          the stage input, x of its block 0
//   full stash      = n · 4 · b · (d + 2h)  (+ 4 · b · d logits on the last stage)
//                     every block's x, a, g, from F to B
//   F keeps         = full stash; with remat only the input
//   R adds          = full stash − input                 (remat rebuilds it just before B)
//   I adds          = n · 4 · b · (d + h)                every block's dy and da, from I to W
// A micro-batch run as B frees F's (and R's) stash at the end of B. One run as I + W
// (the split backward) keeps F's (and R's) stash until W, which still reads every
// block's x and g, and frees it with I's dy and da at the end of W. With --w-batch
// (schedule/batched_weight.h) one W per stage frees every micro-batch's at once: just
// before it the stage holds M micro-batches' worth, the whole batch's
//   batched W peak  = n · 4 · B · (d + 2h) (+ 4 · B · d logits) + n · 4 · B · (d + h).
// Buffers (a stage output until it is sent, received gradients, workspaces) are what
// each backend's code really allocates, so they are not planned here.
#pragma once

#include <cstdint>

#include "pipelab/model/model.h"
#include "pipelab/model/partition.h"

namespace pipelab {

/// The bytes one stage of a partition holds: resident, and per micro-batch of `rows` rows.
struct StageMemoryPlan {
  ModelSpec spec;           ///< the model's shape (d, h)
  int blocks = 0;           ///< n, the layers the stage owns
  bool last_stage = false;  ///< the stage keeps the logits for the loss backward
  bool remat = false;       ///< F keeps only the stage input; R rebuilds the rest

  // ---- resident for the whole step
  /// One block's parameters, or its gradients (same shapes): 4 · (2dh + h + d).
  std::uint64_t block_params_bytes() const;
  /// The stage's parameters: n · block_params_bytes().
  std::uint64_t params_bytes() const;
  /// The stage's gradients: n · block_params_bytes().
  std::uint64_t grads_bytes() const;

  // ---- per micro-batch of `rows` rows, each piece of the stash
  /// The stage input x (b, d) of block 0: 4 · b · d.
  std::uint64_t input_bytes(int rows) const;
  /// The input x (b, d) of each of blocks 1..n−1 (the previous block's output): 4 · b · d.
  std::uint64_t block_input_bytes(int rows) const;
  /// One block's a or g (b, h): 4 · b · h.
  std::uint64_t hidden_bytes(int rows) const;
  /// a and g of every block: n · 2 · 4 · b · h.
  std::uint64_t activations_bytes(int rows) const;
  /// The logits (b, d) on the last stage, 4 · b · d; 0 on the others.
  std::uint64_t logits_bytes(int rows) const;

  // ---- per micro-batch of `rows` rows, what F and R charge
  /// Every block's x, a, g, plus the logits on the last stage: n · 4 · b · (d + 2h) (+ 4 · b · d).
  std::uint64_t full_stash_bytes(int rows) const;
  /// What F keeps until B: full_stash_bytes(), or with remat input_bytes().
  std::uint64_t forward_stash_bytes(int rows) const;
  /// What R adds to the kept input: full_stash_bytes() − input_bytes().
  std::uint64_t recompute_stash_bytes(int rows) const;

  // ---- per micro-batch of `rows` rows, what I (BackwardInput) charges until W
  /// One block's output gradient dy (b, d), which W needs for dW2 and db2: 4 · b · d.
  std::uint64_t block_output_grad_bytes(int rows) const;
  /// One block's pre-activation gradient da (b, h), which W needs for dW1 and db1: 4 · b · h.
  std::uint64_t block_preactivation_grad_bytes(int rows) const;
  /// What I keeps for W: every block's dy and da, n · 4 · b · (d + h). Freed at W, together
  /// with F's stash (and R's), which W still reads.
  std::uint64_t weight_stash_bytes(int rows) const;

  // ---- --w-batch: one whole-batch W per stage
  /// What the stage holds just before its whole-batch W, for a batch of `batch_rows` rows
  /// split into any micro-batches: every micro-batch's full stash (F's, and R's under
  /// remat) and I's dy and da, full_stash_bytes(B) + weight_stash_bytes(B) — both linear
  /// in the rows, so the micro-batches' sum is the batch's. All of it is freed by that W.
  std::uint64_t batched_weight_stash_bytes(int batch_rows) const;
};

/// The plan of chunk `chunk` of device `device` of `partition` (its stage, in its
/// replica) for `spec`, with or without remat.
StageMemoryPlan plan_stage_memory(const ModelSpec& spec, const Partition& partition, int device, bool remat,
                                  int chunk = 0);

}  // namespace pipelab
