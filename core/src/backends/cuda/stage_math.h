// stage_math.h — one stage's F, R, B, I, W and optimizer step on its logical device
// (internal to core/src/backends/cuda/): the cpu backend's forward / backward
// (core/src/backends/cpu/cpu_backend.cpp, cpu_backward.cpp) with the tensors in device
// memory and the kernels enqueued on the device's compute stream. Nothing here waits for
// the GPU. F, R, B and the optimizer step are in stage_math.cpp; I and W, the split
// backward behind --cuda-split-backward (compiled, not yet run on a GPU), in
// stage_split_backward.cpp.
#pragma once

#include "logical_device.h"
#include "pipelab/backends/microbatches.h"
#include "pipelab/model/model.h"

namespace pipelab::cuda_detail {

/// The step as every stage's math sees it: the model, the micro-batches and the batch
/// on the GPUs (the backend owns them all).
struct StepData {
  const ModelSpec& spec;
  bool remat = false;                  ///< F keeps only the stage input; R rebuilds the rest
  const MicrobatchRows& microbatches;  ///< rows and offsets of each micro-batch
  const float* inputs = nullptr;       ///< (B, d) on stage 0's GPU
  const int* labels = nullptr;         ///< (B) on the last stage's GPU
  double* row_loss = nullptr;          ///< (B) on the last stage's GPU: each row's loss from F
};

/// F (recompute = false) or R (recompute = true) of micro-batch `m` on `dev`'s stage.
/// Throws pipelab::Error when the stage has no input for `m` (the schedule's fault).
void stage_forward(LogicalDevice& dev, const StepData& step, int m, bool recompute);

/// B of micro-batch `m` on `dev`'s stage: accumulates the gradients, frees what F kept,
/// and keeps the input gradient for SendGrad. Throws pipelab::Error when the
/// activations or the output gradient are missing (the schedule's fault).
void stage_backward(LogicalDevice& dev, const StepData& step, int m);

/// I of micro-batch `m` on `dev`'s stage (--cuda-split-backward): the input gradient
/// through the stage's blocks, last to first (the loss backward first on the last stage),
/// kept for SendGrad; every block's dy and da kept for W (Stash: the plan's
/// weight_stash_bytes); F's stash kept (W reads it). Throws pipelab::Error when the
/// activations or the output gradient are missing, or I of `m` already ran without its W.
void stage_backward_input(LogicalDevice& dev, const StepData& step, int m);

/// W of micro-batch `m` on `dev`'s stage (--cuda-split-backward): accumulates the
/// parameter gradients from I's dy, da and F's x, g, then frees all of them. Throws
/// pipelab::Error unless I of `m` ran and its W has not.
void stage_backward_weight(LogicalDevice& dev, const StepData& step, int m);

/// Free what F (and R) kept in `mb`, except the stage input (remat keeps only that); on
/// the last stage (`last`) also the logits.
void drop_activations(MicrobatchState& mb, bool last);

/// SGD on every block of `dev`'s stage: θ ← θ − learning_rate · g.
void stage_optimizer_step(LogicalDevice& dev, float learning_rate);

}  // namespace pipelab::cuda_detail
