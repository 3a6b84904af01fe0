// device_batch.h — the step's batch on the GPUs (internal to core/src/backends/cuda/).
// Like the cpu backend's host copy it is the data loader's and is charged to no
// device: inputs on stage 0's GPU, labels and per-row losses on the last stage's.
#pragma once

#include <memory>

#include "pipelab/backends/cuda/allocator.h"
#include "pipelab/model/model.h"

namespace pipelab::cuda_detail {

/// make_batch()'s inputs and labels in device memory, and room for each row's loss.
/// The buffers are destroyed before the allocators they came from.
struct DeviceBatch {
  std::unique_ptr<CudaAllocator> inputs_allocator;  ///< on stage 0's GPU
  std::unique_ptr<CudaAllocator> labels_allocator;  ///< on the last stage's GPU
  CudaBuffer inputs;    ///< (B, d) floats
  CudaBuffer labels;    ///< (B) ints
  CudaBuffer row_loss;  ///< (B) doubles: each row's loss, written by the last stage's F

  const int* label_data() const { return static_cast<const int*>(labels.data()); }
  double* row_loss_data() const { return static_cast<double*>(row_loss.data()); }
};

/// make_batch(spec), uploaded: inputs to `first_gpu`, labels and zeroed per-row losses
/// to `last_gpu` (synchronous). Throws pipelab::Error when a label is not a class index.
DeviceBatch upload_batch(const ModelSpec& spec, int first_gpu, int last_gpu);

}  // namespace pipelab::cuda_detail
