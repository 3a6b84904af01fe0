// errors.cu — CUDA and cuBLAS status codes → pipelab::Error with a hint.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/kernels/cuda.h"

namespace pipelab::kernels::cuda {

namespace {

// What the user can do about an error, by kind.
const char* hint_for(cudaError_t status) {
  switch (status) {
    case cudaErrorMemoryAllocation:
      return "the GPU is out of memory: use fewer or smaller micro-batches (--microbatches, --batch), "
             "--remat, or a smaller model (--hidden, --width, --layers)";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
      return "no usable GPU here: `pipelab devices` says why; use --backend cpu or sim";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
      return "a kernel faulted; rerun with CUDA_LAUNCH_BLOCKING=1 (and compute-sanitizer) to find it, "
             "and please report it";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return "this build has no code for this GPU: reconfigure with -DCMAKE_CUDA_ARCHITECTURES=<its sm>";
    default:
      return "a CUDA call failed; `pipelab devices` shows the GPUs and driver, "
             "CUDA_LAUNCH_BLOCKING=1 pins down asynchronous errors";
  }
}

}  // namespace

void check_cuda(int status, const char* call, const char* file, int line) {
  const auto error = static_cast<cudaError_t>(status);
  if (error == cudaSuccess) return;
  throw Error(std::string(call) + " failed: " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")",
              hint_for(error), file, line);
}

void check_cublas(int status, const char* call, const char* file, int line) {
  const auto error = static_cast<cublasStatus_t>(status);
  if (error == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string(call) + " failed: " + cublasGetStatusName(error) + " (" + cublasGetStatusString(error) +
                  ")",
              error == CUBLAS_STATUS_ALLOC_FAILED
                  ? "cuBLAS could not allocate its workspace: the GPU is nearly full (fewer micro-batches, --remat)"
                  : "cuBLAS failed; try --gemm vectorized to see whether the problem is cuBLAS or the data",
              file, line);
}

const char* to_string(GemmVariant variant) {
  switch (variant) {
    case GemmVariant::Naive: return "naive";
    case GemmVariant::Tiled: return "tiled";
    case GemmVariant::Register: return "register";
    case GemmVariant::Vectorized: return "vectorized";
    case GemmVariant::Cublas: return "cublas";
  }
  return "?";
}

}  // namespace pipelab::kernels::cuda
