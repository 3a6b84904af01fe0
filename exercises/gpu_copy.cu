// gpu_copy.cu — ex08 (GPU): move one activation to the next stage's GPU (lab 06).
//
// Contract: core/include/pipelab/exercise.h. Compiled only where CUDA is found; graded
// only on a machine with a GPU: scripts/grade ex08
#include <cuda_runtime.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

void copy_activation(const ActivationCopy& copy) {
  // TODO(ex08): enqueue the copy; the host must not wait (no cudaDeviceSynchronize,
  //   no cudaStreamSynchronize, no cudaMemcpy without Async).
  //   1. copy.copy_stream waits for copy.ready      (cudaStreamWaitEvent)
  //   2. copy src -> dst on copy.copy_stream          (cudaMemcpyPeerAsync: dst, dst_device,
  //                                                     src, src_device, bytes, stream)
  //   3. record copy.copied on copy.copy_stream       (cudaEventRecord)
  //   4. copy.consumer_stream waits for copy.copied   (cudaStreamWaitEvent)
  //   Check every call's cudaError_t; on failure PIPELAB_THROW(cudaGetErrorString(...), hint).
  (void)copy;
  throw NotImplemented("ex08: copy_activation");
}

}  // namespace pipelab
