// device_tensor.cpp — DeviceTensor and the GpuBlock copies (device_tensor.h).
#include "device_tensor.h"

#include <utility>
#include <vector>

#include "pipelab/kernels/cuda.h"

namespace pipelab::cuda_detail {

DeviceTensor::DeviceTensor(DeviceTensor&& o) noexcept
    : buffer(std::move(o.buffer)), charge(std::move(o.charge)), count(std::exchange(o.count, 0)) {}

DeviceTensor& DeviceTensor::operator=(DeviceTensor&& o) noexcept {
  if (this != &o) {
    release();
    buffer = std::move(o.buffer);
    charge = std::move(o.charge);
    count = std::exchange(o.count, 0);
  }
  return *this;
}

void DeviceTensor::hold(CudaAllocator& allocator, DeviceMemory& memory, MemoryCategory category,
                        std::uint64_t bytes) {
  release();  // first: the accounting follows the buffer
  buffer = allocator.allocate(bytes, to_string(category));
  charge = memory.charge(category, bytes);
  count = static_cast<std::size_t>(bytes / sizeof(float));
}

void DeviceTensor::release() {
  charge.reset();  // books first, then the memory: live >= accounted at every instant
  buffer.reset();
  count = 0;
}

GpuBlock upload_block(CudaAllocator& allocator, const BlockParams& host) {
  GpuBlock block;
  for_each_tensor_pair(block, host, [&](const char*, CudaBuffer& buffer, const std::vector<float>& values) {
    buffer = allocator.allocate(float_bytes(values.size()), "params");
    PIPELAB_CUDA_CHECK(cudaMemcpy(buffer.data(), values.data(), buffer.bytes(), cudaMemcpyHostToDevice));
  });
  return block;
}

GpuBlock zeros_like(CudaAllocator& allocator, const GpuBlock& shape) {
  GpuBlock block;
  for_each_tensor_pair(block, shape, [&](const char*, CudaBuffer& buffer, const CudaBuffer& like) {
    buffer = allocator.allocate(like.bytes(), "grads");
    PIPELAB_CUDA_CHECK(cudaMemset(buffer.data(), 0, buffer.bytes()));
  });
  return block;
}

BlockParams download_block(const GpuBlock& block) {
  BlockParams host;
  for_each_tensor_pair(block, host, [](const char*, const CudaBuffer& buffer, std::vector<float>& values) {
    values.resize(buffer.bytes() / sizeof(float));
    PIPELAB_CUDA_CHECK(cudaMemcpy(values.data(), buffer.data(), buffer.bytes(), cudaMemcpyDeviceToHost));
  });
  return host;
}

void zero_block_async(const GpuBlock& block, cudaStream_t stream) {
  for_each_tensor(block, [&](const char*, const CudaBuffer& part) {
    PIPELAB_CUDA_CHECK(cudaMemsetAsync(part.data(), 0, part.bytes(), stream));
  });
}

}  // namespace pipelab::cuda_detail
