// cuda_util.h — small RAII wrappers of the cuda backend (internal to core/src/backends/cuda/):
// the current device, streams, events, NVTX ranges, byte formatting.
#pragma once

#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "pipelab/kernels/cuda.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::cuda_detail {

/// Makes `gpu` current on this thread; restores the previous device when destroyed.
/// Every backend entry point starts with one: executor threads start on device 0.
class DeviceGuard {
 public:
  explicit DeviceGuard(int gpu) {
    PIPELAB_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != gpu) PIPELAB_CUDA_CHECK(cudaSetDevice(gpu));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }  // no throwing from a destructor
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

/// A stream, owned (destroyed with it) or borrowed (a green context's, see green_context.h).
class StreamHandle {
 public:
  StreamHandle() = default;
  /// A new non-blocking stream on the current device.
  static StreamHandle create() {
    StreamHandle s;
    PIPELAB_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream_, cudaStreamNonBlocking));
    s.owned_ = true;
    return s;
  }
  static StreamHandle borrow(cudaStream_t stream) {
    StreamHandle s;
    s.stream_ = stream;
    return s;
  }
  ~StreamHandle() { reset(); }
  StreamHandle(StreamHandle&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)), owned_(o.owned_) {}
  StreamHandle& operator=(StreamHandle&& o) noexcept {
    if (this != &o) {
      reset();
      stream_ = std::exchange(o.stream_, nullptr);
      owned_ = o.owned_;
    }
    return *this;
  }
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;

  cudaStream_t get() const { return stream_; }
  void reset() {
    if (owned_ && stream_ != nullptr) cudaStreamDestroy(stream_);
    stream_ = nullptr;
    owned_ = false;
  }

 private:
  cudaStream_t stream_ = nullptr;
  bool owned_ = false;
};

/// An event on the current device; `timing` false makes it a cheap sync-only event.
class EventHandle {
 public:
  EventHandle() = default;
  explicit EventHandle(bool timing) {
    PIPELAB_CUDA_CHECK(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~EventHandle() {
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  EventHandle(EventHandle&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
  EventHandle& operator=(EventHandle&& o) noexcept {
    if (this != &o) {
      if (event_ != nullptr) cudaEventDestroy(event_);
      event_ = std::exchange(o.event_, nullptr);
    }
    return *this;
  }
  EventHandle(const EventHandle&) = delete;
  EventHandle& operator=(const EventHandle&) = delete;

  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

/// The NVTX domain "pipelab" (created once; NVTX is a no-op without a profiler attached).
inline nvtxDomainHandle_t nvtx_domain() {
  static const nvtxDomainHandle_t domain = nvtxDomainCreateA("pipelab");
  return domain;
}

/// ARGB colour of an action kind in Nsight Systems (close to the visualizer's).
inline std::uint32_t nvtx_color(ActionKind kind) {
  switch (kind) {
    case ActionKind::Forward: return 0xFF4C72B0;
    case ActionKind::Backward: return 0xFF55A868;
    case ActionKind::Recompute: return 0xFF8172B2;
    case ActionKind::OptimizerStep: return 0xFFCCB974;
    default: return 0xFF8C8C8C;  // communication
  }
}

/// RAII NVTX range named like the trace event ("F3 s1"); nothing when `enabled` is false.
class NvtxRange {
 public:
  NvtxRange(bool enabled, const Action& action) : enabled_(enabled) {
    if (!enabled_) return;
    const std::string name = to_string(action);
    nvtxEventAttributes_t attributes{};
    attributes.version = NVTX_VERSION;
    attributes.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attributes.colorType = NVTX_COLOR_ARGB;
    attributes.color = nvtx_color(action.kind);
    attributes.messageType = NVTX_MESSAGE_TYPE_ASCII;
    attributes.message.ascii = name.c_str();  // copied by NVTX during the call
    nvtxDomainRangePushEx(nvtx_domain(), &attributes);
  }
  ~NvtxRange() {
    if (enabled_) nvtxDomainRangePop(nvtx_domain());
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool enabled_;
};

/// "1.50 GiB", "512.0 MiB", "12 B": for messages.
inline std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
  return text;
}

}  // namespace pipelab::cuda_detail
