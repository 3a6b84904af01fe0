// allocator.cpp — CudaAllocator and CudaBuffer (pipelab/backends/cuda/allocator.h): a
// caching device allocator per logical device, and the out-of-memory error.
//
// Why cache: cudaFree synchronizes the whole device, which would serialize every
// partition and stream at each release. Blocks are reused by exact size (a step
// allocates the same few shapes over and over) and freed when the backend goes.
//
// Why a pending list: the host releases a tensor as soon as it has *enqueued* its
// last use. Another thread (a neighbour's send) may allocate on this device at that
// moment, and must not get a block the GPU is still reading. Returned blocks wait
// in `pending_` until the owner calls retire() after synchronizing its stream.
#include <cuda_runtime.h>

#include <string>
#include <utility>

#include "cuda_util.h"
#include "pipelab/backends/cuda/allocator.h"
#include "pipelab/error.h"

namespace pipelab {

using cuda_detail::DeviceGuard;
using cuda_detail::format_bytes;

CudaBuffer::CudaBuffer(CudaBuffer&& o) noexcept
    : owner_(std::exchange(o.owner_, nullptr)), data_(std::exchange(o.data_, nullptr)),
      bytes_(std::exchange(o.bytes_, 0)) {}

CudaBuffer& CudaBuffer::operator=(CudaBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    owner_ = std::exchange(o.owner_, nullptr);
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void CudaBuffer::reset() {
  if (owner_ != nullptr && data_ != nullptr) owner_->give_back(data_, bytes_);
  owner_ = nullptr;
  data_ = nullptr;
  bytes_ = 0;
}

CudaAllocator::CudaAllocator(int gpu, std::string device_label) : gpu_(gpu), label_(std::move(device_label)) {}

CudaAllocator::~CudaAllocator() {
  // The owner synchronized the device before destroying its allocators; a buffer
  // still alive here (a bug) is leaked rather than freed under a running kernel.
  std::lock_guard<std::mutex> lock(mutex_);
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(gpu_);
  for (auto& [data, bytes] : pending_) free_.emplace(bytes, data);
  pending_.clear();
  free_cached_locked();
  cudaSetDevice(previous);
}

void CudaAllocator::free_cached_locked() {
  for (auto& [bytes, data] : free_) {
    cudaFree(data);
    reserved_ -= bytes;
  }
  free_.clear();
}

CudaBuffer CudaAllocator::allocate(std::uint64_t bytes, const char* purpose) {
  CudaBuffer buffer;
  if (bytes == 0) return buffer;
  std::lock_guard<std::mutex> lock(mutex_);
  void* data = nullptr;
  if (auto hit = free_.find(bytes); hit != free_.end()) {
    data = hit->second;
    free_.erase(hit);
  } else {
    DeviceGuard guard(gpu_);
    cudaError_t status = cudaMalloc(&data, bytes);
    if (status == cudaErrorMemoryAllocation && !free_.empty()) {
      // Blocks of other sizes are cached: give them back to the driver and retry.
      cudaGetLastError();  // clear the (non-sticky) allocation error
      cudaDeviceSynchronize();
      free_cached_locked();
      status = cudaMalloc(&data, bytes);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      std::size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      PIPELAB_THROW(label_ + ": out of GPU memory allocating " + format_bytes(bytes) + " for " + purpose + "; " +
                        format_bytes(free_bytes) + " free of " + format_bytes(total_bytes) + " on GPU " +
                        std::to_string(gpu_) + " (this device holds " + format_bytes(live_) + ", caches " +
                        format_bytes(reserved_ - live_) + ")",
                    "use fewer or smaller micro-batches (--microbatches, --batch), --remat to stash only stage "
                    "inputs, or a smaller model (--hidden, --width, --layers)");
    }
    PIPELAB_CUDA_CHECK(status);
    reserved_ += bytes;
  }
  live_ += bytes;
  if (live_ > peak_live_) peak_live_ = live_;
  buffer.owner_ = this;
  buffer.data_ = data;
  buffer.bytes_ = bytes;
  return buffer;
}

void CudaAllocator::give_back(void* data, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  live_ -= bytes;
  pending_.emplace_back(data, bytes);
}

void CudaAllocator::retire() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [data, bytes] : pending_) free_.emplace(bytes, data);
  pending_.clear();
}

std::uint64_t CudaAllocator::reserved_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reserved_;
}
std::uint64_t CudaAllocator::live_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_;
}
std::uint64_t CudaAllocator::peak_live_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_live_;
}

}  // namespace pipelab
