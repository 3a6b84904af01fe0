// nccl_transport.h — --transport nccl: one single-process NCCL communicator over the
// K GPUs (ncclCommInitAll, rank d = logical device d), point-to-point send/recv
// (internal to core/src/backends/cuda/). Built with NCCL when CMake finds it (PIPELAB_HAVE_NCCL);
// otherwise constructing one throws UsageError("--transport").
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <vector>

namespace pipelab::cuda_detail {

class NcclComms {
 public:
  /// One rank per entry of `gpus` (distinct physical GPUs).
  explicit NcclComms(const std::vector<int>& gpus);
  ~NcclComms();
  NcclComms(const NcclComms&) = delete;
  NcclComms& operator=(const NcclComms&) = delete;

  /// Move `count` floats from `src` on rank `from` to `dst` on rank `to`: ncclSend on
  /// `from_stream` and ncclRecv on `to_stream`, in one group call (one thread drives
  /// both GPUs, so the pair must be issued together or the send would wait forever).
  /// `started` / `finished` are recorded on from_stream around the send (may be null),
  /// `arrived` on to_stream after the recv. Calls are serialized: a communicator may
  /// not be used by two threads at once, and one global order of groups keeps every
  /// stream's NCCL operations matched (no deadlock).
  void send_recv(int from, const float* src, cudaStream_t from_stream, int to, float* dst, cudaStream_t to_stream,
                 std::size_t count, cudaEvent_t started, cudaEvent_t finished, cudaEvent_t arrived);

 private:
  std::vector<void*> comms_;  // ncclComm_t per rank
  std::vector<int> gpus_;
  std::mutex mutex_;
};

}  // namespace pipelab::cuda_detail
