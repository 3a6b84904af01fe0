// green_context.cpp — SM partitions of one GPU with CUDA green contexts (see
// green_context.h). Driver entry points come from cudaGetDriverEntryPointByVersion:
// cuda.h and cudaTypedefs.h give the types only; nothing here links libcuda.
#include "green_context.h"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>

#include "cuda_util.h"
#include "pipelab/error.h"

namespace pipelab::cuda_detail {

namespace {

// The driver functions we use, at the ABI version we were written against
// (green contexts arrived in 12.4, cuGreenCtxStreamCreate in 12.5).
struct DriverApi {
  PFN_cuGetErrorString_v6000 get_error_string = nullptr;
  PFN_cuDeviceGet_v2000 device_get = nullptr;
  PFN_cuDeviceGetDevResource_v12040 device_get_dev_resource = nullptr;
  PFN_cuDevSmResourceSplitByCount_v12040 sm_resource_split_by_count = nullptr;
  PFN_cuDevResourceGenerateDesc_v12040 resource_generate_desc = nullptr;
  PFN_cuGreenCtxCreate_v12040 green_ctx_create = nullptr;
  PFN_cuGreenCtxDestroy_v12040 green_ctx_destroy = nullptr;
  PFN_cuGreenCtxStreamCreate_v12050 green_ctx_stream_create = nullptr;
  PFN_cuStreamDestroy_v4000 stream_destroy = nullptr;
  bool ok = false;
  std::string reason;  // why not ok
};

// Fetch `symbol` at `version` into `fn`; false with `reason` if the driver lacks it.
template <typename Fn>
bool fetch(const char* symbol, unsigned version, Fn* fn, std::string* reason) {
  void* pointer = nullptr;
  cudaDriverEntryPointQueryResult query = cudaDriverEntryPointSymbolNotFound;
  const cudaError_t status = cudaGetDriverEntryPointByVersion(symbol, &pointer, version, cudaEnableDefault, &query);
  if (status != cudaSuccess || query != cudaDriverEntryPointSuccess || pointer == nullptr) {
    cudaGetLastError();
    *reason = std::string("the CUDA driver has no ") + symbol + " (version " + std::to_string(version / 1000) + "." +
              std::to_string(version % 1000 / 10) + "): " +
              (status != cudaSuccess ? cudaGetErrorString(status)
               : query == cudaDriverEntryPointVersionNotSufficent ? "driver too old"
                                                                   : "symbol not found") +
              "; green contexts need a driver for CUDA 12.5 or newer";
    return false;
  }
  *fn = reinterpret_cast<Fn>(pointer);
  return true;
}

DriverApi load_driver_api() {
  DriverApi api;
  std::string& why = api.reason;
  api.ok = fetch("cuGetErrorString", 6000, &api.get_error_string, &why) &&
           fetch("cuDeviceGet", 2000, &api.device_get, &why) &&
           fetch("cuDeviceGetDevResource", 12040, &api.device_get_dev_resource, &why) &&
           fetch("cuDevSmResourceSplitByCount", 12040, &api.sm_resource_split_by_count, &why) &&
           fetch("cuDevResourceGenerateDesc", 12040, &api.resource_generate_desc, &why) &&
           fetch("cuGreenCtxCreate", 12040, &api.green_ctx_create, &why) &&
           fetch("cuGreenCtxDestroy", 12040, &api.green_ctx_destroy, &why) &&
           fetch("cuGreenCtxStreamCreate", 12050, &api.green_ctx_stream_create, &why) &&
           fetch("cuStreamDestroy", 4000, &api.stream_destroy, &why);
  return api;
}

// Loaded once, on first use (after the runtime found a GPU).
const DriverApi& driver() {
  static const DriverApi api = load_driver_api();
  return api;
}

// A driver call's result as text: "cuGreenCtxCreate: CUDA_ERROR_... text".
std::string driver_error(const char* call, CUresult result) {
  const char* text = nullptr;
  if (driver().get_error_string == nullptr || driver().get_error_string(result, &text) != CUDA_SUCCESS ||
      text == nullptr)
    text = "unknown driver error";
  return std::string(call) + " failed: " + text + " (CUresult " + std::to_string(static_cast<int>(result)) + ")";
}

#define PIPELAB_DRIVER_CHECK(call, hint)                                         \
  do {                                                                            \
    const CUresult pipelab_result_ = (call);                                      \
    if (pipelab_result_ != CUDA_SUCCESS) PIPELAB_THROW(driver_error(#call, pipelab_result_), (hint)); \
  } while (0)

// The documented minimum partition and alignment per architecture (cuda.h, "Green
// Contexts"), for drivers that do not report them.
void documented_granularity(int cc_major, SmSplitGranularity* g) {
  if (cc_major >= 9) {
    g->min_partition = 8;
    g->alignment = 8;
  } else if (cc_major == 8) {
    g->min_partition = 4;
    g->alignment = 2;
  } else {
    g->min_partition = 2;
    g->alignment = 2;
  }
}

const char* kHint = "use --placement streams (or auto); `pipelab devices` shows what green contexts can do here";

}  // namespace

bool query_sm_granularity(int gpu, SmSplitGranularity* granularity, std::string* reason) {
  const DriverApi& api = driver();
  if (!api.ok) {
    *reason = api.reason;
    return false;
  }
  cudaDeviceProp props{};
  if (cudaGetDeviceProperties(&props, gpu) != cudaSuccess) {
    cudaGetLastError();
    *reason = "cannot read the properties of GPU " + std::to_string(gpu);
    return false;
  }
  if (props.major < 6) {
    *reason = "green contexts need compute capability 6.0 or newer; GPU " + std::to_string(gpu) + " is " +
              std::to_string(props.major) + "." + std::to_string(props.minor);
    return false;
  }
  CUdevice device = 0;
  CUdevResource sm{};
  CUresult result = api.device_get(&device, gpu);
  if (result == CUDA_SUCCESS) result = api.device_get_dev_resource(device, &sm, CU_DEV_RESOURCE_TYPE_SM);
  if (result != CUDA_SUCCESS) {
    *reason = driver_error("cuDeviceGetDevResource", result);
    return false;
  }
  granularity->sm_count = sm.sm.smCount;
  granularity->min_partition = sm.sm.minSmPartitionSize;
  granularity->alignment = sm.sm.smCoscheduledAlignment;
  granularity->from_driver = granularity->min_partition > 0 && granularity->alignment > 0;
  if (!granularity->from_driver) documented_granularity(props.major, granularity);
  return true;
}

unsigned partition_size(const SmSplitGranularity& g, int parts) {
  if (parts < 1 || g.alignment == 0) return 0;
  // The largest multiple of the alignment that fits `parts` times.
  const unsigned size = g.sm_count / static_cast<unsigned>(parts) / g.alignment * g.alignment;
  return size >= g.min_partition ? size : 0;
}

GreenPartitions::GreenPartitions(int gpu, int parts) : gpu_(gpu) {
  const DriverApi& api = driver();
  if (!api.ok) PIPELAB_THROW("SM partitions are not available: " + api.reason, kHint);
  DeviceGuard guard(gpu);
  // Green contexts retain the primary context: make it exist first (cheap if it does).
  PIPELAB_CUDA_CHECK(cudaFree(nullptr));

  SmSplitGranularity granularity;
  std::string reason;
  if (!query_sm_granularity(gpu, &granularity, &reason)) PIPELAB_THROW("SM partitions are not available: " + reason, kHint);
  const unsigned size = partition_size(granularity, parts);
  if (size == 0)
    PIPELAB_USAGE_ERROR("--placement",
                        "cannot split GPU " + std::to_string(gpu) + "'s " + std::to_string(granularity.sm_count) +
                            " SMs into " + std::to_string(parts) + " partitions of at least " +
                            std::to_string(granularity.min_partition) + " SMs (multiples of " +
                            std::to_string(granularity.alignment) + ")",
                        "use fewer --devices, or --placement streams");

  CUdevice device = 0;
  PIPELAB_DRIVER_CHECK(api.device_get(&device, gpu), kHint);
  CUdevResource whole{};
  PIPELAB_DRIVER_CHECK(api.device_get_dev_resource(device, &whole, CU_DEV_RESOURCE_TYPE_SM), kHint);
  std::vector<CUdevResource> groups(parts);
  unsigned made = static_cast<unsigned>(parts);
  CUdevResource remaining{};
  PIPELAB_DRIVER_CHECK(api.sm_resource_split_by_count(groups.data(), &made, &whole, &remaining, 0, size), kHint);
  if (made < static_cast<unsigned>(parts))
    PIPELAB_THROW("the driver split GPU " + std::to_string(gpu) + "'s " + std::to_string(whole.sm.smCount) +
                      " SMs into only " + std::to_string(made) + " groups of " + std::to_string(size) +
                      " SMs, not " + std::to_string(parts),
                  kHint);

  try {
    unsigned used = 0;
    for (int part = 0; part < parts; ++part) {
      SmPartition p;
      p.sms = groups[part].sm.smCount;
      CUdevResourceDesc desc = nullptr;
      PIPELAB_DRIVER_CHECK(api.resource_generate_desc(&desc, &groups[part], 1), kHint);
      CUgreenCtx context = nullptr;
      PIPELAB_DRIVER_CHECK(api.green_ctx_create(&context, desc, device, CU_GREEN_CTX_DEFAULT_STREAM), kHint);
      p.green_context = context;
      partitions_.push_back(p);  // owned from here on: destroy() cleans up on a throw below
      CUstream compute = nullptr, copy = nullptr;
      PIPELAB_DRIVER_CHECK(api.green_ctx_stream_create(&compute, context, CU_STREAM_NON_BLOCKING, 0), kHint);
      partitions_.back().compute = compute;
      PIPELAB_DRIVER_CHECK(api.green_ctx_stream_create(&copy, context, CU_STREAM_NON_BLOCKING, 0), kHint);
      partitions_.back().copy = copy;
      used += p.sms;
    }
    idle_sms_ = whole.sm.smCount > used ? whole.sm.smCount - used : 0;
  } catch (...) {
    destroy();
    throw;
  }
}

GreenPartitions::~GreenPartitions() { destroy(); }

void GreenPartitions::destroy() noexcept {
  const DriverApi& api = driver();
  for (SmPartition& p : partitions_) {
    if (p.compute != nullptr) api.stream_destroy(p.compute);
    if (p.copy != nullptr) api.stream_destroy(p.copy);
    if (p.green_context != nullptr) api.green_ctx_destroy(static_cast<CUgreenCtx>(p.green_context));
  }
  partitions_.clear();
}

}  // namespace pipelab::cuda_detail
