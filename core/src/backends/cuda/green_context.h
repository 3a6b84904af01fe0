// green_context.h — one GPU split into K SM partitions with CUDA green contexts
// (internal to core/src/backends/cuda/).
//
// Green contexts are a driver API (cuGreenCtxCreate & co., CUDA 12.4+). We never
// link libcuda (binaries must start without a driver), so every driver function is
// fetched at run time with cudaGetDriverEntryPointByVersion. Steps:
//   1. cuDeviceGetDevResource: the GPU's SM resource — SM count, and the split
//      granularity (minSmPartitionSize, smCoscheduledAlignment) on drivers that fill
//      them; older ones get the documented table (8.x: ≥ 4, multiples of 2; 9.x+: ≥ 8,
//      multiples of 8);
//   2. cuDevSmResourceSplitByCount: K groups of the same size (the largest multiple
//      of the alignment that fits K times), the rest left idle;
//   3. cuDevResourceGenerateDesc + cuGreenCtxCreate: one green context per group;
//   4. cuGreenCtxStreamCreate: a compute and a copy stream per green context.
// Kernels (ours and cuBLAS's) launched into those streams run on the partition's SMs
// only. Memory and events belong to the GPU's primary context and work across all
// partitions, so buffers, cudaMemcpyAsync and cudaEventElapsedTime need nothing special.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "pipelab/backends/cuda/environment.h"

namespace pipelab::cuda_detail {

/// The split granularity of `gpu`'s SMs; false (with `reason`) when green contexts
/// are unavailable (driver too old, entry point missing, GPU too old).
bool query_sm_granularity(int gpu, SmSplitGranularity* granularity, std::string* reason);

/// SMs per partition when `granularity` is split `parts` ways (0 if it cannot be).
unsigned partition_size(const SmSplitGranularity& granularity, int parts);

/// RAII: `parts` green contexts on `gpu`, each with a compute and a copy stream.
/// Destroys the streams, then the contexts. Throws pipelab::Error on failure.
class GreenPartitions {
 public:
  GreenPartitions(int gpu, int parts);
  ~GreenPartitions();
  GreenPartitions(const GreenPartitions&) = delete;
  GreenPartitions& operator=(const GreenPartitions&) = delete;

  int parts() const { return static_cast<int>(partitions_.size()); }
  unsigned sms(int part) const { return partitions_.at(part).sms; }
  unsigned idle_sms() const { return idle_sms_; }
  cudaStream_t compute_stream(int part) const { return partitions_.at(part).compute; }
  cudaStream_t copy_stream(int part) const { return partitions_.at(part).copy; }

 private:
  struct SmPartition {
    void* green_context = nullptr;  // CUgreenCtx
    cudaStream_t compute = nullptr;
    cudaStream_t copy = nullptr;
    unsigned sms = 0;
  };
  void destroy() noexcept;

  int gpu_;
  std::vector<SmPartition> partitions_;
  unsigned idle_sms_ = 0;
};

}  // namespace pipelab::cuda_detail
