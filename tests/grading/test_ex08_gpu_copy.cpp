// test_ex08_gpu_copy.cpp — graded (GPU): ex08 copy_activation (lab 06).
// Built only when CUDA is found; every test skips without a usable GPU (the grader
// then reports "not graded here (no GPU)"). Oracles: the bytes that arrive, and the
// order the streams see them in, made observable by holding the producer stream in
// a host callback that sleeps before it writes the source.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "grading.h"

namespace pipelab::grading {
namespace {

int gpu_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

// A producer stream blocked in a host callback for `ms` milliseconds.
void sleep_callback(void* ms) { std::this_thread::sleep_for(std::chrono::milliseconds(*static_cast<int*>(ms))); }

// Everything one copy needs: src on device 0, dst on the last GPU (0 when there is one).
struct CopyRig {
  static constexpr std::size_t kCount = 1 << 20;  // 4 MiB of floats
  int src_device = 0, dst_device = 0;
  float* src = nullptr;
  float* dst = nullptr;
  cudaStream_t producer = nullptr, copy = nullptr, consumer = nullptr;
  cudaEvent_t ready = nullptr, copied = nullptr;

  void set_up() {
    dst_device = gpu_count() - 1;
    cudaSetDevice(src_device);
    if (dst_device != src_device) {
      int can = 0;
      cudaDeviceCanAccessPeer(&can, src_device, dst_device);
      if (can) cudaDeviceEnablePeerAccess(dst_device, 0);
    }
    cudaMalloc(&src, kCount * sizeof(float));
    cudaMemset(src, 0, kCount * sizeof(float));
    cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking);
    cudaStreamCreateWithFlags(&copy, cudaStreamNonBlocking);
    cudaEventCreateWithFlags(&ready, cudaEventDisableTiming);
    cudaEventCreateWithFlags(&copied, cudaEventDisableTiming);
    cudaSetDevice(dst_device);
    cudaMalloc(&dst, kCount * sizeof(float));
    cudaMemset(dst, 0, kCount * sizeof(float));
    cudaStreamCreateWithFlags(&consumer, cudaStreamNonBlocking);
    cudaDeviceSynchronize();
    cudaSetDevice(src_device);
  }
  ~CopyRig() {
    cudaDeviceSynchronize();
    if (src) cudaFree(src);
    if (dst) cudaFree(dst);
    for (cudaStream_t s : {producer, copy, consumer})
      if (s) cudaStreamDestroy(s);
    for (cudaEvent_t e : {ready, copied})
      if (e) cudaEventDestroy(e);
  }
  ActivationCopy request() const {
    ActivationCopy c;
    c.dst = dst;
    c.dst_device = dst_device;
    c.src = src;
    c.src_device = src_device;
    c.bytes = kCount * sizeof(float);
    c.ready = ready;
    c.copy_stream = copy;
    c.copied = copied;
    c.consumer_stream = consumer;
    return c;
  }
  // The producer: (optionally sleep, then) write `byte` into every byte of src, then `ready`.
  void produce(int byte, int* sleep_ms) {
    if (sleep_ms) cudaLaunchHostFunc(producer, sleep_callback, sleep_ms);
    cudaMemsetAsync(src, byte, kCount * sizeof(float), producer);
    cudaEventRecord(ready, producer);
  }
  // What finally arrived: dst read back after both GPUs finished everything.
  std::vector<std::uint8_t> arrived() {
    std::vector<std::uint8_t> host(kCount * sizeof(float));
    for (int d : {src_device, dst_device}) {
      cudaSetDevice(d);
      cudaDeviceSynchronize();
    }
    cudaSetDevice(dst_device);
    cudaMemcpy(host.data(), dst, host.size(), cudaMemcpyDeviceToHost);
    cudaSetDevice(src_device);
    return host;
  }
  // What the consumer stream sees: dst read back on the consumer stream.
  std::vector<std::uint8_t> consumed() {
    std::vector<std::uint8_t> host(kCount * sizeof(float));
    cudaSetDevice(dst_device);
    cudaMemcpyAsync(host.data(), dst, host.size(), cudaMemcpyDeviceToHost, consumer);
    cudaStreamSynchronize(consumer);
    cudaSetDevice(src_device);
    return host;
  }
};

std::size_t first_mismatch(const std::vector<std::uint8_t>& bytes, std::uint8_t expected) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != expected) return i;
  return bytes.size();
}

TEST(GpuCopy, CopiesTheBytes) {
  if (gpu_count() < 1) GTEST_SKIP() << "no CUDA device";
  CopyRig rig;
  rig.set_up();
  rig.produce(0x5a, nullptr);
  copy_activation(rig.request());
  const auto got = rig.consumed();
  const std::size_t bad = first_mismatch(got, 0x5a);
  GRADE_EXPECT(bad == got.size(), "byte " << bad << " of the destination is " << int(got[bad])
                                          << ", expected 0x5a (copied from the source, device " << rig.src_device
                                          << " -> " << rig.dst_device << ")");
}

TEST(GpuCopy, WaitsForTheProducer) {
  if (gpu_count() < 1) GTEST_SKIP() << "no CUDA device";
  CopyRig rig;
  rig.set_up();
  int sleep_ms = 200;  // the producer writes src only after 200 ms
  rig.produce(0x33, &sleep_ms);
  copy_activation(rig.request());
  const auto got = rig.arrived();
  const std::size_t bad = first_mismatch(got, 0x33);
  GRADE_EXPECT(bad == got.size(), "the copy read the source before the producer wrote it (byte "
                                      << bad << " is " << int(got[bad])
                                      << "): the copy stream must wait for the `ready` event");
}

TEST(GpuCopy, ConsumerWaitsForTheCopy) {
  if (gpu_count() < 1) GTEST_SKIP() << "no CUDA device";
  CopyRig rig;
  rig.set_up();
  rig.produce(0x77, nullptr);
  cudaStreamSynchronize(rig.producer);  // the source is ready: only the copy is slow here
  int sleep_ms = 200;                   // the copy engine is busy for 200 ms first
  cudaLaunchHostFunc(rig.copy, sleep_callback, &sleep_ms);
  copy_activation(rig.request());
  // Read dst on the consumer stream right away: it must see the copied bytes, which
  // arrive only after the copy stream's 200 ms delay — so the consumer must wait for `copied`.
  const auto got = rig.consumed();
  const std::size_t bad = first_mismatch(got, 0x77);
  GRADE_EXPECT(bad == got.size(), "the consumer stream read the destination before the copy finished (byte "
                                      << bad << " is " << int(got[bad])
                                      << "): make consumer_stream wait for the `copied` event");
}

TEST(GpuCopy, DoesNotBlockTheHost) {
  if (gpu_count() < 1) GTEST_SKIP() << "no CUDA device";
  CopyRig rig;
  rig.set_up();
  int sleep_ms = 500;
  rig.produce(0x11, &sleep_ms);
  const auto start = std::chrono::steady_clock::now();
  copy_activation(rig.request());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  GRADE_EXPECT(ms < 250, "copy_activation took " << ms << " ms while the producer was still busy (500 ms): "
                                                 << "it must enqueue work, not wait on the host (no synchronize)");
  const cudaError_t copy_state = cudaStreamQuery(rig.copy);
  GRADE_EXPECT(copy_state == cudaErrorNotReady,
               "the copy stream has nothing pending while the producer is busy: the copy must run on copy_stream");
  cudaDeviceSynchronize();
}

}  // namespace
}  // namespace pipelab::grading
