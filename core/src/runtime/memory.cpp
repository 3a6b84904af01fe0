// memory.cpp — per-device allocator accounting (see memory.h).
#include "pipelab/runtime/memory.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>

#include "pipelab/error.h"

namespace pipelab {

std::string format_mib(std::uint64_t bytes) {
  char text[48];
  std::snprintf(text, sizeof text, "%.2f MiB", bytes_to_mib(bytes));
  return text;
}

MemoryCharge::MemoryCharge(DeviceMemory* memory, MemoryCategory category, std::uint64_t bytes)
    : memory_(memory), category_(category), bytes_(bytes) {
  if (memory_ != nullptr) memory_->add(category_, bytes_);
}

MemoryCharge::MemoryCharge(MemoryCharge&& o) noexcept
    : memory_(o.memory_), category_(o.category_), bytes_(o.bytes_) {
  o.memory_ = nullptr;
  o.bytes_ = 0;
}

MemoryCharge& MemoryCharge::operator=(MemoryCharge&& o) noexcept {
  if (this != &o) {
    reset();
    memory_ = o.memory_;
    category_ = o.category_;
    bytes_ = o.bytes_;
    o.memory_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void MemoryCharge::reset() {
  if (memory_ != nullptr) memory_->remove(category_, bytes_);
  memory_ = nullptr;
  bytes_ = 0;
}

DeviceMemory::DeviceMemory(int device, std::function<double()> now_us)
    : device_(device), now_us_(std::move(now_us)) {}

MemoryCharge DeviceMemory::charge(MemoryCategory category, std::uint64_t bytes) {
  return MemoryCharge(this, category, bytes);
}

void DeviceMemory::set_cap(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  cap_ = bytes;
}

void DeviceMemory::add(MemoryCategory category, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int c = static_cast<int>(category);
  if (cap_ > 0) {
    const std::uint64_t total = std::accumulate(current_.begin(), current_.end(), std::uint64_t{0});
    if (bytes > cap_ || total > cap_ - bytes) {
      std::string held;
      for (int k = 0; k < kMemoryCategoryCount; ++k)
        held += std::string(k ? ", " : "") + to_string(static_cast<MemoryCategory>(k)) + " " +
                format_mib(current_[k]);
      PIPELAB_THROW("device " + std::to_string(device_) + " is out of memory: " + format_mib(bytes) + " more " +
                        to_string(category) + " on top of " + format_mib(total) + " held (" + held +
                        ") is over its --device-memory-mib cap of " + format_mib(cap_),
                    "the run's buffers need more than the prediction (params, grads and stash) said; "
                    "raise the cap, or split the model over more devices (-K)");
    }
  }
  current_[c] += bytes;
  peak_[c] = std::max(peak_[c], current_[c]);
  record_locked();
}

void DeviceMemory::remove(MemoryCategory category, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int c = static_cast<int>(category);
  // A release larger than what is held is a bookkeeping bug. This runs inside
  // destructors (no throwing), so it is counted and check_consistent() reports it.
  if (bytes > current_[c]) {
    ++underflows_;
    bytes = current_[c];
  }
  current_[c] -= bytes;
  record_locked();
}

void DeviceMemory::record_locked() {
  const std::uint64_t total = std::accumulate(current_.begin(), current_.end(), std::uint64_t{0});
  peak_total_ = std::max(peak_total_, total);
  samples_.push_back({device_, now_us_ ? now_us_() : 0.0, current_});
}

MemoryBytes DeviceMemory::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}
MemoryBytes DeviceMemory::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}
std::uint64_t DeviceMemory::peak_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_total_;
}
void DeviceMemory::check_consistent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (underflows_ > 0)
    PIPELAB_THROW("memory accounting underflow on device " + std::to_string(device_) + " (" +
                      std::to_string(underflows_) + " releases of more than was held)",
                  "a buffer was released twice; please report this bug");
}

void DeviceMemory::restart() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_ = current_;
  peak_total_ = 0;
  samples_.clear();
  record_locked();  // peak_total_ = the current total, and the step's first sample
}

std::vector<MemorySample> DeviceMemory::take_samples() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<MemorySample> out = std::move(samples_);
  samples_.clear();
  return out;
}

std::vector<MemorySample> DeviceMemory::samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return samples_;
}

}  // namespace pipelab
