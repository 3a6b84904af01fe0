// pipelab/runtime/memory.h — per-device allocator accounting.
//
// Every byte a backend holds for a device is charged to that device's
// DeviceMemory under a category (params, grads, stash, buffers). A MemoryCharge
// is the RAII handle of one charge: destroying it gives the bytes back. Each
// change records a MemorySample (time + current bytes per category), so the
// trace shows memory over the step and the peaks are what the allocator saw.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "pipelab/trace/trace.h"

namespace pipelab {

class DeviceMemory;

/// Bytes in MiB (2^20 bytes), the unit every table and message shows memory in.
inline double bytes_to_mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
/// "12.34 MiB": bytes for messages, two decimals.
std::string format_mib(std::uint64_t bytes);

/// RAII: `bytes` charged to `category` of a device until destroyed or reset.
class MemoryCharge {
 public:
  MemoryCharge() = default;
  /// Charges `bytes` to `category` of `memory` (use DeviceMemory::charge()).
  MemoryCharge(DeviceMemory* memory, MemoryCategory category, std::uint64_t bytes);
  ~MemoryCharge() { reset(); }
  /// Takes over `other`'s charge; `other` then holds nothing.
  MemoryCharge(MemoryCharge&& other) noexcept;
  /// Releases this charge, then takes over `other`'s.
  MemoryCharge& operator=(MemoryCharge&& other) noexcept;
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;

  /// Give the bytes back now.
  void reset();
  /// Bytes held by this charge (0 after reset()).
  std::uint64_t bytes() const { return bytes_; }

 private:
  DeviceMemory* memory_ = nullptr;
  MemoryCategory category_ = MemoryCategory::Buffers;
  std::uint64_t bytes_ = 0;
};

/// One device's allocator accounting. Thread-safe: a sender may charge the
/// receiver's memory for the buffer it fills.
class DeviceMemory {
 public:
  /// `now_us` gives the timestamp of each sample (steady clock on cpu, the
  /// device's virtual clock on sim).
  DeviceMemory(int device, std::function<double()> now_us);

  /// Charge `bytes` to `category`; released when the returned handle dies. Throws
  /// pipelab::Error, charging nothing, when the charge would take the device's total
  /// past its cap (set_cap): the allocator of a device with that much memory would fail.
  MemoryCharge charge(MemoryCategory category, std::uint64_t bytes);

  /// The device's memory in bytes (--device-memory-mib); 0 = no cap (the default).
  void set_cap(std::uint64_t bytes);

  /// Bytes held now, per category.
  MemoryBytes current() const;
  MemoryBytes peak() const;           ///< per category, each its own maximum
  std::uint64_t peak_total() const;   ///< maximum over time of the sum of categories
  /// Throws pipelab::Error if any release exceeded what was held (a bookkeeping bug).
  void check_consistent() const;
  /// Samples recorded so far (one per change).
  std::vector<MemorySample> samples() const;
  /// The samples, moved out (the books keep no samples until the next change).
  std::vector<MemorySample> take_samples();
  /// Start the books of a new step on the same device (after a warm-up step): what is
  /// held stays, peaks restart from it, and the samples restart with one sample of it.
  void restart();

 private:
  friend class MemoryCharge;
  void add(MemoryCategory category, std::uint64_t bytes);
  void remove(MemoryCategory category, std::uint64_t bytes);
  void record_locked();

  int device_;
  std::function<double()> now_us_;
  mutable std::mutex mutex_;
  MemoryBytes current_{};
  MemoryBytes peak_{};
  std::uint64_t peak_total_ = 0;
  int underflows_ = 0;
  std::uint64_t cap_ = 0;  // 0 = no cap
  std::vector<MemorySample> samples_;
};

}  // namespace pipelab
