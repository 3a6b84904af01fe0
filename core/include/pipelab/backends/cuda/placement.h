// pipelab/backends/cuda/placement.h — where the cuda backend's K logical devices run.
//
// Each logical device (pipeline stage) is one of three placements (--placement):
//   gpus        one physical GPU per device; activations and gradients move with
//               cudaMemcpyPeerAsync on the sender's copy stream (peer access enabled
//               where the hardware allows), or with --transport nccl through
//               ncclSend/ncclRecv in one single-process communicator;
//   partitions  one GPU split into K disjoint SM partitions with CUDA green contexts,
//               one stream per partition: K stages run truly concurrently;
//   streams     K streams on one GPU sharing all its SMs (works on every GPU).
// auto = gpus when there are >= K GPUs, else partitions where green contexts can
// split the GPU K ways, else streams; `pipelab devices` prints the choice and why.
//
// Nothing here needs a CUDA header: safe to include in any build; the functions exist
// only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/placement.cpp).
#pragma once

#include <string>
#include <vector>

#include "pipelab/backends/cuda/environment.h"
#include "pipelab/model/config.h"

namespace pipelab {

/// How the K logical devices map onto GPUs, and why.
struct CudaPlacementPlan {
  CudaPlacement placement = CudaPlacement::Streams;  ///< resolved, never Auto
  CudaTransport transport = CudaTransport::Peer;     ///< how transfers move (Nccl only with Gpus)
  std::string why;                         ///< one sentence: the choice and its reason
  std::vector<int> gpu_of_device;          ///< physical GPU ordinal per logical device
  std::vector<int> sms_of_device;          ///< partitions: SMs of each partition; else the GPU's SMs
  int idle_sms = 0;                        ///< partitions: SMs left outside every partition
  std::vector<std::string> device_names;   ///< for the trace and the report
};

/// Resolve config.cuda.placement for config.devices on `env`. Throws UsageError
/// ("--placement" or "--transport") when the request cannot run here, naming why.
CudaPlacementPlan plan_placement(const RunConfig& config, const CudaEnvironment& env);

/// Whether `placement` can run K devices here; `reason` says why not. For tests.
bool cuda_placement_available(CudaPlacement placement, int devices, std::string* reason);

/// The cuda part of `pipelab devices`: runtime, driver, GPUs, green contexts, peer
/// access, NCCL, and the placement chosen for config.devices with the reason.
std::string describe_cuda(const RunConfig& config);

}  // namespace pipelab
