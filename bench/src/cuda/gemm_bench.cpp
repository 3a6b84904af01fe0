// gemm_bench.cpp — the kernels part of `pipelab bench`: cuBLAS and the four teaching
// GEMMs (v4 vectorized, v3 register, v2 tiled, v1 naive: kernels/cuda/gemm_*.cu) in
// TFLOP/s and as a ratio to cuBLAS at a few shapes (bench.h). C (m, n) = A (m, k) · Bᵀ,
// the model's x·W1ᵀ.
//
// Napkin math: 2·m·n·k FLOPs per GEMM; an H100 SXM's fp32 CUDA cores peak at
// ~67 TFLOP/s (132 SMs × 128 FMA/clk × 2 × 1.98 GHz), TF32 tensor cores at ~495.
// The naive kernel reads every operand from global memory k times per output and
// lands far below; the tiled kernel reuses each loaded tile from shared memory; the
// register kernel reuses each shared-memory load for 8 FMAs out of registers; the
// vectorized one moves the same data in float4s and overlaps loads with the math.
// Every variant runs at every shape, naive included (about 0.3 s per 4096³ call on an
// H100, so the part stays under a minute).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_util.h"
#include "pipelab/bench.h"
#include "pipelab/error.h"
#include "pipelab/kernels/cuda.h"

namespace pipelab {

namespace {

namespace kc = kernels::cuda;
using cuda_detail::EventHandle;
using cuda_detail::StreamHandle;

// RAII device array of floats.
class DeviceFloats {
 public:
  explicit DeviceFloats(std::size_t n) : n_(n) {
    const cudaError_t e = cudaMalloc(&data_, n * sizeof(float));
    if (e != cudaSuccess) {
      cudaGetLastError();
      PIPELAB_THROW("bench: cannot allocate " + std::to_string(n * sizeof(float)) + " bytes on the GPU (" +
                        cudaGetErrorString(e) + ")",
                    "free the GPU or bench a smaller model (--width/--hidden/--batch)");
    }
  }
  ~DeviceFloats() { cudaFree(data_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return data_; }
  std::size_t size() const { return n_; }

 private:
  float* data_ = nullptr;
  std::size_t n_;
};

// Uniform(−1, 1) floats from a xorshift64* stream: fresh operands, never zeros (a
// GEMM on zeros can run faster than on real data).
std::vector<float> random_operand(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : v) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const std::uint64_t r = x * 0x2545F4914F6CDD1Dull;
    f = static_cast<float>(static_cast<double>(r >> 40) / double(1ull << 24) * 2.0 - 1.0);
  }
  return v;
}

}  // namespace

std::vector<GemmBenchRow> bench_gemm(const std::vector<std::array<int, 3>>& shapes, int reps, bool tf32) {
  if (reps < 1) PIPELAB_USAGE_ERROR("--steps", "GEMM timing needs at least 1 run", "e.g. --steps 3");
  PIPELAB_CUDA_CHECK(cudaSetDevice(0));
  StreamHandle stream = StreamHandle::create();
  EventHandle start(true), end(true);
  std::vector<GemmBenchRow> rows;
  std::uint64_t seed = 1;
  for (const auto& [m, n, k] : shapes) {
    const std::size_t a_count = std::size_t(m) * k, b_count = std::size_t(n) * k, c_count = std::size_t(m) * n;
    DeviceFloats a(a_count), b(b_count), c(c_count);
    const std::vector<float> ha = random_operand(a_count, ++seed), hb = random_operand(b_count, ++seed);
    PIPELAB_CUDA_CHECK(cudaMemcpy(a.get(), ha.data(), a_count * sizeof(float), cudaMemcpyHostToDevice));
    PIPELAB_CUDA_CHECK(cudaMemcpy(b.get(), hb.data(), b_count * sizeof(float), cudaMemcpyHostToDevice));
    PIPELAB_CUDA_CHECK(cudaDeviceSynchronize());  // pageable copies may still be in flight
    std::vector<float> reference;  // cuBLAS's C, for the sanity column
    const std::size_t first = rows.size();
    // cuBLAS first: the others are reported relative to it.
    for (kc::GemmVariant variant : {kc::GemmVariant::Cublas, kc::GemmVariant::Vectorized, kc::GemmVariant::Register,
                                    kc::GemmVariant::Tiled, kc::GemmVariant::Naive}) {
      kc::GemmEngine engine(variant, stream.get(), tf32);
      auto run = [&] {
        kc::gemm(engine, kernels::cpu::Trans::No, kernels::cpu::Trans::Yes, m, n, k, 1.0f, a.get(), k, b.get(), k,
                 0.0f, c.get(), n);
      };
      run();  // warm-up: kernel loading, cuBLAS heuristics
      std::vector<double> ms;
      for (int r = 0; r < reps; ++r) {
        PIPELAB_CUDA_CHECK(cudaEventRecord(start.get(), stream.get()));
        run();
        PIPELAB_CUDA_CHECK(cudaEventRecord(end.get(), stream.get()));
        PIPELAB_CUDA_CHECK(cudaEventSynchronize(end.get()));
        float elapsed = 0;
        PIPELAB_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start.get(), end.get()));
        ms.push_back(elapsed);
      }
      std::vector<float> got(c_count);
      PIPELAB_CUDA_CHECK(cudaMemcpy(got.data(), c.get(), c_count * sizeof(float), cudaMemcpyDeviceToHost));
      GemmBenchRow row;
      row.variant = kc::to_string(variant);
      row.m = m;
      row.n = n;
      row.k = k;
      row.median_ms = median_of(ms);
      // 2·m·n·k: one multiply and one add per (i, j, p).
      row.tflops = 2.0 * m * n * double(k) / (row.median_ms * 1e-3) / 1e12;
      if (variant == kc::GemmVariant::Cublas) reference = got;
      double diff = 0, norm = 0;
      for (std::size_t i = 0; i < c_count; ++i) {
        diff += (double(got[i]) - reference[i]) * (double(got[i]) - reference[i]);
        norm += double(reference[i]) * reference[i];
      }
      row.rel_diff = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
      rows.push_back(row);
    }
    for (std::size_t i = first; i < rows.size(); ++i) rows[i].vs_cublas = rows[i].tflops / rows[first].tflops;
  }
  return rows;
}

}  // namespace pipelab
