// placement.cpp — what this machine offers the cuda backend (probe_cuda,
// pipelab/backends/cuda/environment.h), where the K logical devices go (plan_placement,
// pipelab/backends/cuda/placement.h), and the cuda part of `pipelab devices`.
//
// Everything starts from cudaGetDeviceCount: on a machine without a GPU or driver
// it fails, and its error becomes the reason `pipelab devices` prints. The runtime
// is linked statically and loads libcuda only when asked, so the binary always starts.
#include <cuda_runtime.h>

#include <sstream>
#include <string>

#include "cuda_util.h"
#include "green_context.h"
#include "pipelab/backends/cuda/placement.h"
#include "pipelab/error.h"

namespace pipelab {

using cuda_detail::DeviceGuard;
using cuda_detail::format_bytes;

namespace {

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// Why the runtime cannot use a GPU, in words, from cudaGetDeviceCount's error.
std::string unusable_reason(cudaError_t status, int runtime_version, int driver_version) {
  const std::string call = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(status) + " (" +
                           cudaGetErrorString(status) + ")";
  switch (status) {
    case cudaErrorInsufficientDriver:
      if (driver_version == 0) return "no NVIDIA driver found (libcuda.so.1 not loadable); " + call;
      return "the NVIDIA driver supports CUDA " + version_text(driver_version) + " but this build needs CUDA " +
             version_text(runtime_version) + "; " + call;
    case cudaErrorNoDevice:
      return "no CUDA GPU visible (check nvidia-smi and CUDA_VISIBLE_DEVICES); " + call;
    default:
      return call;
  }
}

CudaEnvironment probe_uncached(bool detail) {
  CudaEnvironment env;
#if defined(PIPELAB_HAVE_NCCL)
  env.nccl_built = true;
#endif
  cudaRuntimeGetVersion(&env.runtime_version);
  cudaDriverGetVersion(&env.driver_version);  // 0, and success, when there is no driver
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    env.reason = unusable_reason(status, env.runtime_version, env.driver_version);
    return env;
  }
  if (count == 0) {
    env.reason = "cudaGetDeviceCount found 0 GPUs";
    return env;
  }
  for (int gpu = 0; gpu < count; ++gpu) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, gpu) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    CudaGpuInfo info;
    info.ordinal = gpu;
    info.name = props.name;
    info.cc_major = props.major;
    info.cc_minor = props.minor;
    info.sm_count = props.multiProcessorCount;
    info.total_bytes = props.totalGlobalMem;
    env.gpus.push_back(info);
  }
  if (env.gpus.empty()) {
    env.reason = "cudaGetDeviceProperties failed for every GPU";
    return env;
  }
  env.usable = true;
  if (!detail) return env;

  for (CudaGpuInfo& info : env.gpus) {
    // cudaMemGetInfo needs the GPU's context: this is the slow part of the probe.
    try {
      DeviceGuard guard(info.ordinal);
      std::size_t free_bytes = 0, total_bytes = 0;
      if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) info.free_bytes = free_bytes;
      cudaGetLastError();
    } catch (const Error&) {
    }
  }
  env.green_contexts = cuda_detail::query_sm_granularity(0, &env.granularity, &env.green_reason);
  const int n = static_cast<int>(env.gpus.size());
  env.peer_access.assign(n, std::vector<bool>(n, false));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      int can = 0;
      if (i != j && cudaDeviceCanAccessPeer(&can, i, j) == cudaSuccess) env.peer_access[i][j] = can != 0;
      cudaGetLastError();
    }
  return env;
}

std::string gpu_label(const CudaGpuInfo& gpu) { return "GPU " + std::to_string(gpu.ordinal) + " (" + gpu.name + ")"; }

// "≥ 8 SMs, multiples of 8 (reported by the driver)"
std::string granularity_text(const SmSplitGranularity& g) {
  return ">= " + std::to_string(g.min_partition) + " SMs in multiples of " + std::to_string(g.alignment) +
         (g.from_driver ? " (reported by the driver)" : " (documented minimum; the driver does not report it)");
}

}  // namespace

CudaEnvironment probe_cuda(bool detail) {
  if (detail) return probe_uncached(true);
  static const CudaEnvironment cached = probe_uncached(false);  // the GPU count does not change
  return cached;
}

CudaPlacementPlan plan_placement(const RunConfig& config, const CudaEnvironment& env) {
  if (!env.usable)
    PIPELAB_USAGE_ERROR("--backend", "cuda requested but no GPU is usable: " + env.reason,
                        "use --backend cpu or sim (or auto); `pipelab devices` explains");
  const int K = config.devices;
  const int gpus = static_cast<int>(env.gpus.size());
  const CudaPlacement requested = config.cuda.placement;
  const std::string ask = requested == CudaPlacement::Auto ? "auto" : "requested";
  const CudaGpuInfo& gpu0 = env.gpus.front();

  CudaPlacementPlan plan;
  plan.transport = config.cuda.transport;
  if (plan.transport == CudaTransport::Nccl && !env.nccl_built)
    PIPELAB_USAGE_ERROR("--transport", "this build of pipelab has no NCCL",
                        "install NCCL (nccl.h, libnccl) with the CUDA Toolkit and reconfigure, or use --transport peer");

  // The SM split, when partitions are asked for or auto needs to know.
  SmSplitGranularity granularity = env.granularity;
  std::string green_reason = env.green_reason;
  bool green = env.green_contexts;
  const bool need_green = requested == CudaPlacement::Partitions || (requested == CudaPlacement::Auto && gpus < K);
  if (need_green && granularity.sm_count == 0)
    green = cuda_detail::query_sm_granularity(gpu0.ordinal, &granularity, &green_reason);
  unsigned partition_sms = green ? cuda_detail::partition_size(granularity, K) : 0;
  if (green && partition_sms == 0)
    green_reason = std::to_string(granularity.sm_count) + " SMs cannot make " + std::to_string(K) +
                   " partitions of " + granularity_text(granularity);

  switch (requested) {
    case CudaPlacement::Gpus:
      if (gpus < K)
        PIPELAB_USAGE_ERROR("--placement",
                            "gpus needs one GPU per device: K = " + std::to_string(K) + " but " +
                                std::to_string(gpus) + " GPU(s) here",
                            "use --placement partitions or streams, or --devices " + std::to_string(gpus));
      plan.placement = CudaPlacement::Gpus;
      break;
    case CudaPlacement::Partitions:
      if (partition_sms == 0)
        PIPELAB_USAGE_ERROR("--placement", "partitions are not possible here: " + green_reason,
                            "use --placement streams, or fewer --devices");
      plan.placement = CudaPlacement::Partitions;
      break;
    case CudaPlacement::Streams: plan.placement = CudaPlacement::Streams; break;
    case CudaPlacement::Auto:
      plan.placement = gpus >= K                ? CudaPlacement::Gpus
                       : partition_sms > 0      ? CudaPlacement::Partitions
                                                : CudaPlacement::Streams;
      break;
  }
  if (plan.transport == CudaTransport::Nccl && plan.placement != CudaPlacement::Gpus)
    PIPELAB_USAGE_ERROR("--transport",
                        std::string("nccl needs one GPU per device, but the placement is ") +
                            to_string(plan.placement) + " (" + std::to_string(gpus) + " GPU(s) for K = " +
                            std::to_string(K) + ")",
                        "use --transport peer, or as many GPUs as --devices");

  std::ostringstream why;
  switch (plan.placement) {
    case CudaPlacement::Gpus:
      why << ask << ": " << gpus << " GPU(s) for K=" << K << ": one GPU per device, "
          << (plan.transport == CudaTransport::Nccl ? "NCCL send/recv" : "peer copies on a copy stream");
      for (int d = 0; d < K; ++d) {
        plan.gpu_of_device.push_back(env.gpus[d].ordinal);
        plan.sms_of_device.push_back(env.gpus[d].sm_count);
        plan.device_names.push_back(gpu_label(env.gpus[d]) + ": " + std::to_string(env.gpus[d].sm_count) + " SMs");
      }
      break;
    case CudaPlacement::Partitions:
      plan.idle_sms = static_cast<int>(granularity.sm_count - partition_sms * static_cast<unsigned>(K));
      why << ask << ": " << gpus << " GPU(s) for K=" << K << ": green contexts split GPU " << gpu0.ordinal << "'s "
          << granularity.sm_count << " SMs into " << K << " partitions of " << partition_sms << " SMs ("
          << granularity_text(granularity) << "), " << plan.idle_sms << " SMs idle";
      for (int d = 0; d < K; ++d) {
        plan.gpu_of_device.push_back(gpu0.ordinal);
        plan.sms_of_device.push_back(static_cast<int>(partition_sms));
        plan.device_names.push_back(gpu_label(gpu0) + " partition " + std::to_string(d) + ": " +
                                    std::to_string(partition_sms) + " of " + std::to_string(granularity.sm_count) +
                                    " SMs");
      }
      break;
    default:
      why << ask << ": " << K << " streams share GPU " << gpu0.ordinal << "'s " << gpu0.sm_count
          << " SMs, so stages run concurrently only where kernels leave SMs free";
      if (requested == CudaPlacement::Auto) why << " (no SM partitions: " << green_reason << ")";
      for (int d = 0; d < K; ++d) {
        plan.gpu_of_device.push_back(gpu0.ordinal);
        plan.sms_of_device.push_back(gpu0.sm_count);
        plan.device_names.push_back(gpu_label(gpu0) + " stream " + std::to_string(d) + ": shares " +
                                    std::to_string(gpu0.sm_count) + " SMs");
      }
      break;
  }
  plan.why = why.str();
  return plan;
}

bool cuda_placement_available(CudaPlacement placement, int devices, std::string* reason) {
  RunConfig config;
  config.devices = devices;
  config.cuda.placement = placement;
  try {
    plan_placement(config, probe_cuda(false));
    return true;
  } catch (const Error& e) {
    if (reason != nullptr) *reason = e.message();
    return false;
  }
}

std::string describe_cuda(const RunConfig& config) {
  const CudaEnvironment env = probe_cuda(true);
  std::ostringstream out;
  out << "# cuda: runtime " << version_text(env.runtime_version) << ", driver "
      << (env.driver_version > 0 ? "for CUDA " + version_text(env.driver_version) : std::string("none")) << ", NCCL "
      << (env.nccl_built ? "built in" : "not in this build") << "\n";
  if (!env.usable) {
    out << "#   not usable: " << env.reason << "\n";
    return out.str();
  }
  for (const CudaGpuInfo& gpu : env.gpus)
    out << "#   " << gpu_label(gpu) << ": sm_" << gpu.cc_major << gpu.cc_minor << ", " << gpu.sm_count << " SMs, "
        << format_bytes(gpu.total_bytes) << " (" << format_bytes(gpu.free_bytes) << " free)\n";
  out << "#   SM partitions (green contexts): "
      << (env.green_contexts ? "yes, " + granularity_text(env.granularity) : "no: " + env.green_reason) << "\n";
  if (env.gpus.size() > 1) {
    out << "#   peer access:";
    for (std::size_t i = 0; i < env.gpus.size(); ++i)
      for (std::size_t j = 0; j < env.gpus.size(); ++j)
        if (i != j) out << " " << i << "->" << j << (env.peer_access[i][j] ? " yes" : " no") << ";";
    out << "\n";
  }
  out << "# cuda placement for K=" << config.devices << " (--placement " << to_string(config.cuda.placement)
      << ", --transport " << to_string(config.cuda.transport) << "): ";
  try {
    const CudaPlacementPlan plan = plan_placement(config, env);
    out << to_string(plan.placement) << "\n#   " << plan.why << "\n";
    for (int d = 0; d < static_cast<int>(plan.device_names.size()); ++d)
      out << "#   device " << d << ": " << plan.device_names[d] << "\n";
  } catch (const Error& e) {
    out << "not possible\n#   " << e.message() << " (hint: " << e.hint() << ")\n";
  }
  return out.str();
}

}  // namespace pipelab
