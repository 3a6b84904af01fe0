// clock.cpp — the cuda backend's timebase (clock.h).
#include "clock.h"

#include <algorithm>
#include <utility>

namespace pipelab::cuda_detail {

double Timebase::now_us() const {
  if (!stepping_) return 0;
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - origin_).count();
  return us < 0 ? 0 : us;
}

void Timebase::start_step() {
  origin_ = Clock::now();
  stepping_ = true;
}

void Timebase::add_gpu(int gpu, cudaStream_t idle_stream) {
  ClockDomain clock;
  clock.gpu = gpu;
  clock.stream = idle_stream;
  DeviceGuard guard(gpu);
  clock.origin = EventHandle(/*timing=*/true);
  clocks_.push_back(std::move(clock));
}

void Timebase::map_devices(const std::vector<int>& gpu_of_device) {
  for (int gpu : gpu_of_device) {
    const auto domain = std::find_if(clocks_.begin(), clocks_.end(),
                                     [gpu](const ClockDomain& clock) { return clock.gpu == gpu; });
    clock_of_device_.push_back(static_cast<int>(domain - clocks_.begin()));
  }
}

void Timebase::align() {
  double error = 0;
  for (ClockDomain& clock : clocks_) {
    DeviceGuard guard(clock.gpu);
    const double before = now_us();
    PIPELAB_CUDA_CHECK(cudaEventRecord(clock.origin.get(), clock.stream));
    PIPELAB_CUDA_CHECK(cudaEventSynchronize(clock.origin.get()));
    const double after = now_us();
    clock.origin_us = 0.5 * (before + after);
    error = std::max(error, 0.5 * (after - before));
  }
  // Logical devices on one GPU share its origin: only between GPUs is there an error.
  error_us_ = clocks_.size() > 1 ? error : 0.0;
}

double Timebase::gpu_time_us(int device, cudaEvent_t event) const {
  const ClockDomain& clock = clocks_[clock_of_device_[device]];
  float ms = 0;
  PIPELAB_CUDA_CHECK(cudaEventElapsedTime(&ms, clock.origin.get(), event));
  return clock.origin_us + 1000.0 * ms;
}

}  // namespace pipelab::cuda_detail
