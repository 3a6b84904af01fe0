// stage_math.h — one stage's F, R, B and optimizer step on its logical device (internal
// to core/src/backends/cuda/): the cpu backend's forward / backward
// (core/src/backends/cpu/cpu_backend.cpp) with the tensors in device memory and the
// kernels enqueued on the device's compute stream. Nothing here waits for the GPU.
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

/// SGD on every block of `dev`'s stage: θ ← θ − learning_rate · g.
void stage_optimizer_step(LogicalDevice& dev, float learning_rate);

}  // namespace pipelab::cuda_detail
