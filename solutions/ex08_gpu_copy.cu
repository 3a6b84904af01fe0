// ex08_gpu_copy.cu — ex08 reference: move one activation to the next stage's GPU.
//
// Three streams take part: the producer's compute stream (it wrote src and recorded
// `ready`), a copy stream (the copy engine works while both GPUs compute), and the
// consumer's compute stream. Events order them without the host ever waiting:
//
//   producer ──ready──► copy stream: [peer copy] ──copied──► consumer stream: next F
//
// Built only when CUDA is found (tests/grading/CMakeLists.txt); needs no kernel.
#include <cuda_runtime.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

namespace {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess)
    PIPELAB_THROW(std::string(call) + " failed: " + cudaGetErrorString(status),
                  "check the devices, pointers, streams and events passed to copy_activation");
}

}  // namespace

void copy_activation(const ActivationCopy& c) {
  // 1. The copy may start only once the producer has written src.
  check(cudaStreamWaitEvent(c.copy_stream, c.ready, 0), "cudaStreamWaitEvent(copy_stream, ready)");
  // 2. The copy itself, on the copy stream: a peer copy works across GPUs (NVLink or
  //    PCIe) and within one GPU alike.
  check(cudaMemcpyPeerAsync(c.dst, c.dst_device, c.src, c.src_device, c.bytes, c.copy_stream),
        "cudaMemcpyPeerAsync");
  // 3. Mark the arrival, and 4. make the consumer's next work wait for it — on the
  //    GPU, so the host returns at once.
  check(cudaEventRecord(c.copied, c.copy_stream), "cudaEventRecord(copied, copy_stream)");
  check(cudaStreamWaitEvent(c.consumer_stream, c.copied, 0), "cudaStreamWaitEvent(consumer_stream, copied)");
}

}  // namespace pipelab
