// memory_check.cpp — one GPU's memory books against cudaMemGetInfo (memory_check.h).
#include "memory_check.h"

#include <cuda_runtime.h>

#include <string>

#include "cuda_util.h"

namespace pipelab::cuda_detail {

CudaMemoryCheck check_gpu_memory(int gpu, std::uint64_t free_before,
                                 const std::vector<std::unique_ptr<LogicalDevice>>& devices,
                                 std::initializer_list<const CudaAllocator*> data_allocators) {
  CudaMemoryCheck c;
  c.gpu = gpu;
  c.free_before = free_before;
  {
    DeviceGuard guard(c.gpu);
    std::size_t free_bytes = 0, total_bytes = 0;
    PIPELAB_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    c.free_now = free_bytes;
  }
  bool peaks_ok = true;
  for (const auto& dev : devices) {
    if (dev->gpu != c.gpu) continue;
    c.reserved += dev->allocator->reserved_bytes();
    c.live += dev->allocator->live_bytes();
    c.live_peak += dev->allocator->peak_live_bytes();
    const MemoryBytes current = dev->memory->current();
    for (std::uint64_t bytes : current) c.accounted += bytes;
    c.accounted_peak += dev->memory->peak_total();
    // Per device: the books never showed more than was really allocated.
    peaks_ok = peaks_ok && dev->allocator->peak_live_bytes() >= dev->memory->peak_total();
  }
  std::uint64_t data = 0;  // the batch: allocated, not charged (like cpu's host copy)
  for (const auto* alloc : data_allocators)
    if (alloc != nullptr && alloc->gpu() == c.gpu) data += alloc->reserved_bytes();
  const std::uint64_t taken = c.free_before > c.free_now ? c.free_before - c.free_now : 0;
  const bool books_ok = c.live == c.accounted;
  const bool device_ok = taken >= c.reserved + data;
  c.ok = books_ok && peaks_ok && device_ok;
  c.detail = "GPU " + std::to_string(c.gpu) + ": live allocations " + format_bytes(c.live) +
             (books_ok ? " == " : " != ") + "accounted " + format_bytes(c.accounted) + "; peak live " +
             format_bytes(c.live_peak) + (peaks_ok ? " >= " : " < ") + "accounted peak " +
             format_bytes(c.accounted_peak) + "; cudaMemGetInfo: this process took " + format_bytes(taken) +
             (device_ok ? " >= " : " < ") + "allocator reserve " + format_bytes(c.reserved) + " + data " +
             format_bytes(data);
  return c;
}

}  // namespace pipelab::cuda_detail
