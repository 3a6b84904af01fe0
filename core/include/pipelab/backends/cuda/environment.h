// pipelab/backends/cuda/environment.h — what this machine offers the cuda backend: the
// runtime and driver, the GPUs, and (detail probe) green contexts and peer access.
//
// Nothing here needs a CUDA header: safe to include in any build; probe_cuda() exists
// only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/placement.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipelab {

/// One physical GPU as the CUDA runtime sees it.
struct CudaGpuInfo {
  int ordinal = 0;                 ///< the CUDA device number (after CUDA_VISIBLE_DEVICES)
  std::string name;                ///< "NVIDIA H100 80GB HBM3"
  int cc_major = 0;                ///< compute capability, major (9 for H100)
  int cc_minor = 0;                ///< compute capability, minor
  int sm_count = 0;                ///< streaming multiprocessors
  std::uint64_t total_bytes = 0;   ///< device memory
  std::uint64_t free_bytes = 0;  ///< only filled by probe_cuda(true) (needs a context)
};

/// How finely green contexts can split a GPU's SMs.
struct SmSplitGranularity {
  unsigned sm_count = 0;            ///< SMs of the GPU
  unsigned min_partition = 0;       ///< smallest partition, in SMs
  unsigned alignment = 0;           ///< partition sizes are multiples of this
  bool from_driver = false;         ///< queried (cuDeviceGetDevResource) or the documented table
};

/// What this machine offers the cuda backend. Never throws; safe without a GPU or driver.
struct CudaEnvironment {
  bool usable = false;      ///< a GPU is there and the runtime can talk to it
  std::string reason;       ///< why not ("" when usable)
  int runtime_version = 0;  ///< e.g. 13000 (cudaRuntimeGetVersion)
  int driver_version = 0;   ///< 0 without a driver (cudaDriverGetVersion)
  std::vector<CudaGpuInfo> gpus;  ///< every GPU the runtime sees
  bool nccl_built = false;  ///< this build can use --transport nccl
  bool green_contexts = false;    ///< partitions possible on GPU 0 (detail probe only)
  std::string green_reason;       ///< why not
  SmSplitGranularity granularity; ///< of GPU 0 (detail probe only)
  /// peer_access[i][j]: GPU i can read/write GPU j's memory directly (detail probe only).
  std::vector<std::vector<bool>> peer_access;
};

/// Probe the runtime: device count and properties. `detail` also creates contexts to
/// read free memory, queries green-context granularity and peer access (slower: for
/// `pipelab devices` and tests). The cheap probe is cached after the first call.
CudaEnvironment probe_cuda(bool detail = false);

}  // namespace pipelab
