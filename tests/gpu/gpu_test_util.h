// gpu_test_util.h — what the GPU tests share: the skip when there is no GPU, device
// arrays that start poisoned (NaN), seeded random inputs, and the llm.c-style
// comparison |got − ref| <= atol + rtol·|ref| that reports the max difference and
// the first few mismatches. Header-only, for tests/gpu/*.cpp.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pipelab/backends/cuda/environment.h"
#include "pipelab/model/config.h"
#include "pipelab/kernels/cuda.h"
#include "../kernels/reference_math.h"

namespace pipelab::gpu_test {

/// The cheap CUDA probe (cached): usable, or why not.
inline const CudaEnvironment& environment() {
  static const CudaEnvironment env = probe_cuda(false);
  return env;
}

/// Skip the current test, with the runtime's reason, unless a GPU is usable.
#define PIPELAB_REQUIRE_GPU()                                                                \
  do {                                                                                       \
    if (!::pipelab::gpu_test::environment().usable)                                          \
      GTEST_SKIP() << "no CUDA device: " << ::pipelab::gpu_test::environment().reason;       \
  } while (0)

/// A device array of n T's; starts poisoned (every byte 0xFF: NaN for float and
/// double, −1 for int), so a kernel that skips an output is caught.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : n_(n) {
    if (n_ > 0) PIPELAB_CUDA_CHECK(cudaMalloc(&data_, bytes()));
    poison();
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return data_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

  // Both wait for the device before returning. Why: cudaMemset may return before the
  // device has written, and a cudaMemcpy from pageable host memory returns once the
  // bytes are staged, not landed; the kernels under test run on a non-blocking stream
  // that does not wait for either. (Seen on an H100: the last 3 of 2^20 + 3 floats
  // were still the poison when add_inplace read them.)
  void poison() {
    if (n_ > 0) PIPELAB_CUDA_CHECK(cudaMemset(data_, 0xFF, bytes()));
    PIPELAB_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void upload(const std::vector<T>& host) {
    if (n_ > 0) PIPELAB_CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
    PIPELAB_CUDA_CHECK(cudaDeviceSynchronize());
  }
  /// Waits for all work on the device (and checks it), then copies back.
  std::vector<T> download() const {
    PIPELAB_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(n_);
    if (n_ > 0) PIPELAB_CUDA_CHECK(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  std::size_t n_ = 0;
  T* data_ = nullptr;
};

// Random inputs come from the CPU kernel tests' helpers, so both suites draw alike.
using pipelab::kernels::reference::random_floats;
using pipelab::kernels::reference::random_labels;

/// Compare element-wise: |got − ref| <= tolerance[i] (NaN never passes). Reports the
/// max difference and the first 5 mismatches as one gtest failure.
template <typename T>
::testing::AssertionResult close_within(const std::vector<T>& got, const std::vector<T>& ref,
                                        const std::vector<double>& tolerance) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "sizes differ: got " << got.size() << ", ref " << ref.size();
  double max_diff = 0;
  std::size_t bad = 0;
  std::ostringstream first;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - static_cast<double>(ref[i]));
    const bool ok = diff <= tolerance[i];  // false for NaN
    if (!(diff <= max_diff)) max_diff = diff;
    if (!ok && bad++ < 5)
      first << "\n  [" << i << "] got " << got[i] << " ref " << ref[i] << " |diff| " << diff << " > tol "
            << tolerance[i];
  }
  if (bad == 0) return ::testing::AssertionSuccess() << "max |diff| " << max_diff;
  return ::testing::AssertionFailure() << bad << " of " << ref.size() << " elements differ (max |diff| " << max_diff
                                       << "); first:" << first.str();
}

/// |got − ref| <= atol + rtol·|ref| for every element.
template <typename T>
::testing::AssertionResult close(const std::vector<T>& got, const std::vector<T>& ref, double atol, double rtol) {
  std::vector<double> tolerance(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) tolerance[i] = atol + rtol * std::fabs(static_cast<double>(ref[i]));
  return close_within(got, ref, tolerance);
}

/// Bit-for-bit equality (kernels that round exactly like the CPU reference).
inline ::testing::AssertionResult bit_identical(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "sizes differ: got " << got.size() << ", ref " << ref.size();
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (std::memcmp(&got[i], &ref[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "first difference at [" << i << "]: got " << got[i] << " ref "
                                           << ref[i] << " (diff " << (got[i] - ref[i]) << ")";
  return ::testing::AssertionSuccess();
}

/// The GPU transparency tests' model, small and odd: 8 layers, d = 48, h = 80, and a prime
/// batch (29) so most M split unevenly; GPipe on `devices` with `microbatches` at
/// `placement`, a 60 s watchdog.
inline RunConfig transparency_config(CudaPlacement placement, int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 8;
  c.model.width = 48;
  c.model.hidden = 80;
  c.model.batch = 29;
  c.model.seed = 7;
  c.devices = devices;
  c.microbatches = microbatches;
  c.schedule = ScheduleKind::Gpipe;
  c.backend = BackendKind::Cuda;
  c.cuda.placement = placement;
  c.watchdog_seconds = 60;
  return c;
}

}  // namespace pipelab::gpu_test
