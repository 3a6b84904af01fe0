// common.cuh — what every CUDA kernel file here shares: argument checks that
// mirror the CPU reference's (same messages), the launch check, grid sizes, and
// block-wide reductions. Internal to kernels/cuda/.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>

#include "pipelab/error.h"
#include "pipelab/kernels/cuda.h"

namespace pipelab::kernels::cuda::detail {

/// After a <<<...>>> launch: a bad configuration shows up in cudaGetLastError().
inline void check_launch(const char* kernel, const char* file, int line) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    check_cuda(static_cast<int>(status), (std::string("launch of ") + kernel).c_str(), file, line);
}
#define PIPELAB_CHECK_LAUNCH(kernel) ::pipelab::kernels::cuda::detail::check_launch(kernel, __FILE__, __LINE__)

/// Throws unless rows, cols >= 0 and every named buffer is non-null when the matrix
/// has elements (the CPU reference's check_matrix, word for word).
inline void check_matrix(const char* what, int rows, int cols,
                         std::initializer_list<std::pair<const char*, const void*>> buffers) {
  if (rows < 0 || cols < 0)
    PIPELAB_THROW(std::string(what) + ": negative shape (rows, cols) = (" + std::to_string(rows) + ", " +
                      std::to_string(cols) + ")",
                  "rows and cols count elements: pass values >= 0");
  if (rows == 0 || cols == 0) return;
  for (const auto& [name, pointer] : buffers)
    if (pointer == nullptr)
      PIPELAB_THROW(std::string(what) + ": " + name + " is null for a (" + std::to_string(rows) + ", " +
                        std::to_string(cols) + ") matrix",
                    "pass an allocated device buffer of rows · cols floats (cols for a bias)");
}

/// Same for a flat vector of n elements.
inline void check_vector(const char* what, std::size_t n,
                         std::initializer_list<std::pair<const char*, const void*>> buffers) {
  if (n == 0) return;
  for (const auto& [name, pointer] : buffers)
    if (pointer == nullptr)
      PIPELAB_THROW(std::string(what) + ": " + name + " is null for n = " + std::to_string(n),
                    "pass an allocated device buffer of n floats");
}

/// Threads per block of the element-wise kernels.
constexpr int kBlock = 256;

/// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped so
/// huge n loops instead of launching millions of blocks.
inline unsigned grid_for(std::size_t n) {
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

/// Sum of `value` over a warp (result in every lane).
template <typename T>
__device__ inline T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

/// Max of `value` over a warp (result in every lane).
__device__ inline float warp_max(float value) {
  for (int offset = 16; offset > 0; offset /= 2) value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

/// Block-wide reduction through shared memory (blockDim.x a multiple of 32, at most
/// 1024): every thread gets the result. `combine` is the warp reduction.
template <typename T, typename WarpReduce>
__device__ inline T block_reduce(T value, WarpReduce combine, T identity) {
  __shared__ T partial[32];  // one per warp
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  value = combine(value);
  __syncthreads();  // `partial` may still be read by a previous call
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  value = lane < warps ? partial[lane] : identity;
  return combine(value);
}

}  // namespace pipelab::kernels::cuda::detail
