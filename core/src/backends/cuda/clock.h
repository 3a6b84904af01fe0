// clock.h — the cuda backend's one timebase (internal to core/src/backends/cuda/): the
// host's steady clock since the step's origin, and each physical GPU's origin event
// placed on it, so a completed GPU event reads as µs since the step's origin.
//
// At align() each GPU records an origin event on an idle stream while the host reads
// its clock before (h0) and after (h1) the event completes; the event is placed at
// (h0 + h1) / 2, so the GPUs' clocks disagree by at most max (h1 − h0) / 2 (error_us()).
// Logical devices on one GPU share its origin: no error between them at all.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <vector>

#include "cuda_util.h"

namespace pipelab::cuda_detail {

/// The step's time origin on the host, and one clock domain (origin event) per GPU.
class Timebase {
 public:
  /// µs since the step's origin on the host's steady clock. Before the first
  /// start_step() it is 0: setup (parameters charged in the constructor, which may take
  /// seconds) is at 0, so the trace's memory series starts with the parameters.
  double now_us() const;
  /// The step's origin is now; from here now_us() counts. Call before any worker starts.
  void start_step();

  /// A clock domain for `gpu`: its origin event is recorded on `idle_stream`.
  void add_gpu(int gpu, cudaStream_t idle_stream);
  /// Which domain each logical device reads: `gpu_of_device[d]` (one add_gpu() each).
  void map_devices(const std::vector<int>& gpu_of_device);
  /// Each GPU's origin event, placed on the host clock (see above).
  void align();

  /// A completed event of logical device `device`'s GPU in µs since the step's origin.
  double gpu_time_us(int device, cudaEvent_t event) const;
  /// Bound on the misalignment between GPUs in the last align() (µs); 0 with one GPU.
  double error_us() const { return error_us_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct ClockDomain {
    int gpu = 0;
    cudaStream_t stream = nullptr;  // an idle stream of the GPU to record the origin on
    EventHandle origin;
    double origin_us = 0;
  };

  Clock::time_point origin_ = Clock::now();
  bool stepping_ = false;             // set by start_step(), before any worker thread starts
  std::vector<ClockDomain> clocks_;   // one per GPU, in add_gpu() order
  std::vector<int> clock_of_device_;  // logical device → clocks_ index
  double error_us_ = 0;
};

}  // namespace pipelab::cuda_detail
