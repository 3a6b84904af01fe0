// memory_check.h — one GPU's memory books against the device (internal to
// core/src/backends/cuda/): CudaBackend::check_memory() for one physical GPU.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "logical_device.h"
#include "pipelab/backends/cuda/backend.h"

namespace pipelab::cuda_detail {

/// The books of `gpu` after a step. `devices` are every logical device (those on `gpu`
/// count); `free_before` is cudaMemGetInfo's free when the backend was created;
/// `data_allocators` hold the batch, which is allocated but charged to no device.
/// It holds when live allocations == accounted bytes, each device's peak live >= its
/// accounted peak, and what the process took >= the allocators' reserve + the data.
CudaMemoryCheck check_gpu_memory(int gpu, std::uint64_t free_before,
                                 const std::vector<std::unique_ptr<LogicalDevice>>& devices,
                                 std::initializer_list<const CudaAllocator*> data_allocators);

}  // namespace pipelab::cuda_detail
