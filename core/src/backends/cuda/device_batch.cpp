// device_batch.cpp — the step's batch on the GPUs (device_batch.h).
#include "device_batch.h"

#include <cuda_runtime.h>

#include <string>

#include "cuda_util.h"
#include "device_tensor.h"
#include "pipelab/error.h"

namespace pipelab::cuda_detail {

DeviceBatch upload_batch(const ModelSpec& spec, int first_gpu, int last_gpu) {
  const Batch batch = make_batch(spec);
  for (int i = 0; i < spec.batch; ++i)
    if (batch.labels[i] < 0 || batch.labels[i] >= spec.width)
      PIPELAB_THROW("label " + std::to_string(batch.labels[i]) + " of row " + std::to_string(i) +
                        " is outside [0, " + std::to_string(spec.width) + ")",
                    "labels are class indices; check make_batch");
  DeviceBatch data;
  data.inputs_allocator = std::make_unique<CudaAllocator>(first_gpu, "batch inputs on GPU " + std::to_string(first_gpu));
  data.labels_allocator = std::make_unique<CudaAllocator>(last_gpu, "batch labels on GPU " + std::to_string(last_gpu));
  data.inputs = data.inputs_allocator->allocate(float_bytes(batch.inputs.size()), "batch inputs");
  data.labels = data.labels_allocator->allocate(sizeof(int) * batch.labels.size(), "batch labels");
  data.row_loss = data.labels_allocator->allocate(sizeof(double) * batch.labels.size(), "per-row losses");
  {
    DeviceGuard guard(first_gpu);
    PIPELAB_CUDA_CHECK(
        cudaMemcpy(data.inputs.data(), batch.inputs.data(), data.inputs.bytes(), cudaMemcpyHostToDevice));
  }
  DeviceGuard guard(last_gpu);
  PIPELAB_CUDA_CHECK(
      cudaMemcpy(data.labels.data(), batch.labels.data(), data.labels.bytes(), cudaMemcpyHostToDevice));
  PIPELAB_CUDA_CHECK(cudaMemset(data.row_loss.data(), 0, data.row_loss.bytes()));
  return data;
}

}  // namespace pipelab::cuda_detail
