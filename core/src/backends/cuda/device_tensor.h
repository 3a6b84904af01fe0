// device_tensor.h — tensors a logical device holds (internal to core/src/backends/cuda/):
// DeviceTensor, an fp32 buffer with its memory charge (the cpu backend's Held, on the
// GPU), and GpuBlock, one block's parameters or gradients laid out like BlockParams.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "gpu_model.h"
#include "pipelab/backends/cuda/allocator.h"
#include "pipelab/model/model.h"
#include "pipelab/runtime/memory.h"

namespace pipelab::cuda_detail {

/// Bytes of `n` fp32 values.
inline std::uint64_t float_bytes(std::size_t n) { return 4ull * n; }

/// A tensor held by a logical device: device memory plus its memory charge. The
/// charge is always the buffer's size: the books follow the allocations.
struct DeviceTensor {
  CudaBuffer buffer;
  MemoryCharge charge;
  std::size_t count = 0;  ///< floats

  DeviceTensor() = default;
  DeviceTensor(DeviceTensor&& other) noexcept;
  /// Releases this tensor, then takes over `other`'s buffer and charge.
  DeviceTensor& operator=(DeviceTensor&& other) noexcept;

  float* data() const { return buffer.floats(); }
  /// `bytes` of fp32 values (count = bytes / 4) from `allocator`, charged to `category`
  /// of `memory`; what was held before is released first.
  void hold(CudaAllocator& allocator, DeviceMemory& memory, MemoryCategory category, std::uint64_t bytes);
  /// The books first, then the memory: live >= accounted at every instant.
  void release();
};

/// One block's parameters (or gradients) on the device, laid out like BlockParams:
/// w1 (h, d), b1 (h), w2 (d, h), b2 (d). for_each_tensor() walks its buffers.
struct GpuBlock {
  CudaBuffer w1, b1, w2, b2;

  BlockPointers<const float> in() const { return {w1.floats(), b1.floats(), w2.floats(), b2.floats()}; }
  BlockPointers<float> out() const { return {w1.floats(), b1.floats(), w2.floats(), b2.floats()}; }
};

/// `host`'s tensors copied into buffers from `allocator` (synchronous; current device).
GpuBlock upload_block(CudaAllocator& allocator, const BlockParams& host);
/// A block of `shape`'s sizes from `allocator`, zero-filled (synchronous; current device).
GpuBlock zeros_like(CudaAllocator& allocator, const GpuBlock& shape);
/// `block`'s tensors copied to the host (synchronous; current device).
BlockParams download_block(const GpuBlock& block);
/// Zero every tensor of `block`, enqueued on `stream`.
void zero_block_async(const GpuBlock& block, cudaStream_t stream);

}  // namespace pipelab::cuda_detail
