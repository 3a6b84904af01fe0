// pipelab/backends/cuda/backend.h — the cuda backend: K logical devices on real GPUs
// (where they run: cuda/placement.h; their memory: cuda/allocator.h).
//
// Timing (per action, CUDA events). The worker thread enqueues the action's work
// after the stream's waits on its inputs, records a start event, the kernels, an end
// event, and waits for the end event; the span is end − start on the GPU's clock, so
// it is work, not waiting. One timebase: at begin_step() each physical GPU records
// an origin event on an idle stream while the host reads its clock before (h0) and
// after (h1) the event completes; GPU times are placed at (h0 + h1) / 2, so the
// alignment error between GPUs is at most max (h1 − h0) / 2 (timebase_error_us()).
// Logical devices on one GPU share its origin: no error between them at all.
// With --no-trace (CudaOptions::instrument = false) there are no events and no NVTX
// ranges; spans are host-clock time around the enqueue and a stream synchronize, to
// measure what the instrumentation itself costs.
//
// Every action also opens an NVTX range named like the trace event ("F3 s1",
// "B3 s1", "SendAct3 s1") in the domain "pipelab", so Nsight Systems shows the same
// picture: nsys profile -t cuda,nvtx pipelab compare --backend cuda ...
//
// Memory: every device buffer comes from the logical device's CudaAllocator and is
// charged to its DeviceMemory under the same categories as the cpu backend (params,
// grads, stash identical to cpu: both charge by the stage's StageMemoryPlan,
// model/memory_plan.h; buffers are what the GPU code really allocates).
// check_memory() compares the books with cudaMemGetInfo.
//
// Nothing here needs a CUDA header: safe to include in any build; make_cuda_backend()
// exists only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/cuda_backend.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipelab/backends/backend.h"
#include "pipelab/backends/cuda/placement.h"
#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"

namespace pipelab {

/// One physical GPU's books after a step: what the allocators hold against what
/// cudaMemGetInfo says the process took, and the accounting against the allocations.
struct CudaMemoryCheck {
  int gpu = 0;                       ///< the physical GPU
  std::uint64_t free_before = 0;     ///< cudaMemGetInfo free when the backend was created
  std::uint64_t free_now = 0;        ///< cudaMemGetInfo free now
  std::uint64_t reserved = 0;        ///< Σ allocators' reserved bytes on this GPU
  std::uint64_t live = 0;            ///< Σ allocators' live bytes
  std::uint64_t accounted = 0;       ///< Σ DeviceMemory current bytes (all categories)
  std::uint64_t accounted_peak = 0;  ///< Σ DeviceMemory peak_total
  std::uint64_t live_peak = 0;       ///< Σ allocators' peak live bytes
  bool ok = false;                   ///< every condition below holds
  std::string detail;                ///< the conditions, with numbers
};

/// The cuda Backend, with what only it can tell.
class CudaBackend : public Backend {
 public:
  /// Where the logical devices run (SMs of each partition as the driver made them).
  virtual const CudaPlacementPlan& plan() const = 0;
  /// Bound on the misalignment between GPUs' clocks in the last begin_step() (µs).
  virtual double timebase_error_us() const = 0;
  /// Compare the memory books with cudaMemGetInfo (call after a step).
  virtual std::vector<CudaMemoryCheck> check_memory() const = 0;
  /// While on, steps are warm-up steps: the optimizer step runs its kernels with
  /// learning rate 0 (θ − 0·g = θ exactly), so the parameters stay as initialised and
  /// the next step computes what a first step would. Every step (begin_step) starts
  /// from zero gradients and fresh memory books either way.
  bool supports_warm_up() const override { return true; }
};

/// The cuda backend for `config` (model, K, placement, transport, GEMM, TF32,
/// instrumentation). Builds each stage's parameters (seeded per layer, like cpu)
/// on its device. Throws UsageError when the placement cannot run here, Error on
/// CUDA failures (out of memory: device, bytes, free, hint).
std::unique_ptr<CudaBackend> make_cuda_backend(const RunConfig& config, const Partition& partition,
                                               int microbatches);

}  // namespace pipelab
