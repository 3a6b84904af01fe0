// nccl_transport.cpp — NcclComms (see nccl_transport.h).
#include "nccl_transport.h"

#include <string>

#include "cuda_util.h"
#include "pipelab/error.h"

#if defined(PIPELAB_HAVE_NCCL)
#include <nccl.h>
#endif

namespace pipelab::cuda_detail {

#if defined(PIPELAB_HAVE_NCCL)

namespace {

void check_nccl(ncclResult_t result, const char* call) {
  if (result == ncclSuccess) return;
  PIPELAB_THROW(std::string(call) + " failed: " + ncclGetErrorString(result) + " (" + ncclGetLastError(nullptr) + ")",
                "NCCL could not connect the GPUs; try --transport peer, and NCCL_DEBUG=INFO for details");
}
#define PIPELAB_NCCL_CHECK(call) check_nccl((call), #call)

}  // namespace

NcclComms::NcclComms(const std::vector<int>& gpus) : gpus_(gpus) {
  std::vector<ncclComm_t> comms(gpus.size(), nullptr);
  PIPELAB_NCCL_CHECK(ncclCommInitAll(comms.data(), static_cast<int>(gpus.size()), gpus.data()));
  comms_.assign(comms.begin(), comms.end());
}

NcclComms::~NcclComms() {
  for (void* comm : comms_)
    if (comm != nullptr) ncclCommDestroy(static_cast<ncclComm_t>(comm));
}

void NcclComms::send_recv(int from, const float* src, cudaStream_t from_stream, int to, float* dst,
                          cudaStream_t to_stream, std::size_t count, cudaEvent_t started, cudaEvent_t finished,
                          cudaEvent_t arrived) {
  std::lock_guard<std::mutex> lock(mutex_);
  {
    DeviceGuard guard(gpus_[from]);
    if (started != nullptr) PIPELAB_CUDA_CHECK(cudaEventRecord(started, from_stream));
  }
  PIPELAB_NCCL_CHECK(ncclGroupStart());
  PIPELAB_NCCL_CHECK(ncclSend(src, count, ncclFloat32, to, static_cast<ncclComm_t>(comms_[from]), from_stream));
  PIPELAB_NCCL_CHECK(ncclRecv(dst, count, ncclFloat32, from, static_cast<ncclComm_t>(comms_[to]), to_stream));
  PIPELAB_NCCL_CHECK(ncclGroupEnd());
  {
    DeviceGuard guard(gpus_[from]);
    if (finished != nullptr) PIPELAB_CUDA_CHECK(cudaEventRecord(finished, from_stream));
  }
  DeviceGuard guard(gpus_[to]);
  PIPELAB_CUDA_CHECK(cudaEventRecord(arrived, to_stream));
}

#else  // no NCCL in this build

NcclComms::NcclComms(const std::vector<int>& gpus) : gpus_(gpus) {
  PIPELAB_USAGE_ERROR("--transport", "this build of pipelab has no NCCL",
                      "install NCCL (nccl.h, libnccl) with the CUDA Toolkit and reconfigure, or use --transport peer");
}

NcclComms::~NcclComms() = default;

void NcclComms::send_recv(int, const float*, cudaStream_t, int, float*, cudaStream_t, std::size_t, cudaEvent_t,
                          cudaEvent_t, cudaEvent_t) {
  PIPELAB_THROW("NCCL transport used in a build without NCCL", "this is a bug: please report it");
}

#endif

}  // namespace pipelab::cuda_detail
