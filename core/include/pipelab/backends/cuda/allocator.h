// pipelab/backends/cuda/allocator.h — device memory of the cuda backend: a caching
// allocator per logical device, and the RAII buffer it hands out.
//
// Every device buffer of the backend comes from its logical device's CudaAllocator and
// is charged to the device's DeviceMemory (runtime/memory.h) under the same categories
// as the cpu backend. Out of memory is a pipelab::Error naming the device, the bytes
// asked for and free, with a hint.
//
// Nothing here needs a CUDA header: safe to include in any build; the functions exist
// only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/allocator.cpp).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pipelab {

class CudaAllocator;

/// RAII: one device allocation from a CudaAllocator; destroying it gives it back.
class CudaBuffer {
 public:
  CudaBuffer() = default;
  ~CudaBuffer() { reset(); }
  /// Takes over `other`'s allocation; `other` is then empty.
  CudaBuffer(CudaBuffer&& other) noexcept;
  /// Gives this allocation back, then takes over `other`'s.
  CudaBuffer& operator=(CudaBuffer&& other) noexcept;
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  /// The device pointer (nullptr when empty).
  void* data() const { return data_; }
  /// The device pointer as fp32 elements.
  float* floats() const { return static_cast<float*>(data_); }
  /// Size of the allocation.
  std::uint64_t bytes() const { return bytes_; }
  /// Give the allocation back now.
  void reset();

 private:
  friend class CudaAllocator;
  CudaAllocator* owner_ = nullptr;
  void* data_ = nullptr;
  std::uint64_t bytes_ = 0;
};

/// A caching device allocator for one logical device (on one physical GPU). Thread-safe.
/// cudaMalloc on a miss, reuse of an exact-size block on a hit; cudaFree only in
/// the destructor (cudaFree synchronizes the whole device). A returned block goes to
/// a pending list and becomes reusable only after retire(), which the owner calls
/// once the GPU work that used it is known to be finished.
class CudaAllocator {
 public:
  /// `device_label` names the device in error messages ("cuda device 1 (GPU 0 ...)").
  CudaAllocator(int gpu, std::string device_label);
  ~CudaAllocator();
  CudaAllocator(const CudaAllocator&) = delete;
  CudaAllocator& operator=(const CudaAllocator&) = delete;

  /// `bytes` of device memory (0 → an empty buffer). `purpose` ("stash", ...) goes
  /// into the out-of-memory error, which names the device, the bytes asked and free.
  CudaBuffer allocate(std::uint64_t bytes, const char* purpose);
  /// Make every block returned so far reusable (their GPU work has finished).
  void retire();

  int gpu() const { return gpu_; }                                   ///< the physical GPU
  const std::string& device_label() const { return label_; }         ///< as in error messages
  std::uint64_t reserved_bytes() const;   ///< held from cudaMalloc (live + cached)
  std::uint64_t live_bytes() const;       ///< handed out and not returned
  std::uint64_t peak_live_bytes() const;  ///< the most live bytes at any time

 private:
  friend class CudaBuffer;
  void give_back(void* data, std::uint64_t bytes);
  void free_cached_locked();

  int gpu_;
  std::string label_;
  mutable std::mutex mutex_;
  std::unordered_multimap<std::uint64_t, void*> free_;     // reusable, by exact size
  std::vector<std::pair<void*, std::uint64_t>> pending_;   // returned, GPU may still use
  std::uint64_t reserved_ = 0, live_ = 0, peak_live_ = 0;
};

}  // namespace pipelab
