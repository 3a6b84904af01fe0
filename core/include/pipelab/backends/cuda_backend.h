// pipelab/backends/cuda_backend.h — the cuda backend: K logical devices on real GPUs.
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
// grads, stash identical to cpu; buffers are what the GPU code really allocates).
// check_memory() compares the books with cudaMemGetInfo. Out of memory is a
// pipelab::Error naming the device, the bytes asked for and free, with a hint.
//
// Nothing here needs a CUDA header: this file is safe to include in any build; the
// functions exist only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipelab/backends/backend.h"
#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"

namespace pipelab {

// ---- what is here ---------------------------------------------------------------

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

// ---- device memory -------------------------------------------------------------------

class CudaAllocator;

/// RAII: one device allocation from a CudaAllocator; destroying it gives it back.
class CudaBuffer {
 public:
  CudaBuffer() = default;
  ~CudaBuffer() { reset(); }
  /// Takes over `other`'s allocation; `other` is then empty.
  CudaBuffer(CudaBuffer&& other) noexcept;
  /// Gives this allocation back, then takes over `other`'s.
  CudaBuffer& operator=(CudaBuffer&& other) noexcept;
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  /// The device pointer (nullptr when empty).
  void* data() const { return data_; }
  /// The device pointer as fp32 elements.
  float* floats() const { return static_cast<float*>(data_); }
  /// Size of the allocation.
  std::uint64_t bytes() const { return bytes_; }
  /// Give the allocation back now.
  void reset();

 private:
  friend class CudaAllocator;
  CudaAllocator* owner_ = nullptr;
  void* data_ = nullptr;
  std::uint64_t bytes_ = 0;
};

/// A caching device allocator for one logical device (on one physical GPU). Thread-safe.
/// cudaMalloc on a miss, reuse of an exact-size block on a hit; cudaFree only in
/// the destructor (cudaFree synchronizes the whole device). A returned block goes to
/// a pending list and becomes reusable only after retire(), which the owner calls
/// once the GPU work that used it is known to be finished.
class CudaAllocator {
 public:
  /// `device_label` names the device in error messages ("cuda device 1 (GPU 0 ...)").
  CudaAllocator(int gpu, std::string device_label);
  ~CudaAllocator();
  CudaAllocator(const CudaAllocator&) = delete;
  CudaAllocator& operator=(const CudaAllocator&) = delete;

  /// `bytes` of device memory (0 → an empty buffer). `purpose` ("stash", ...) goes
  /// into the out-of-memory error, which names the device, the bytes asked and free.
  CudaBuffer allocate(std::uint64_t bytes, const char* purpose);
  /// Make every block returned so far reusable (their GPU work has finished).
  void retire();

  int gpu() const { return gpu_; }                                   ///< the physical GPU
  const std::string& device_label() const { return label_; }         ///< as in error messages
  std::uint64_t reserved_bytes() const;   ///< held from cudaMalloc (live + cached)
  std::uint64_t live_bytes() const;       ///< handed out and not returned
  std::uint64_t peak_live_bytes() const;  ///< the most live bytes at any time

 private:
  friend class CudaBuffer;
  void give_back(void* data, std::uint64_t bytes);
  void free_cached_locked();

  int gpu_;
  std::string label_;
  mutable std::mutex mutex_;
  std::unordered_multimap<std::uint64_t, void*> free_;     // reusable, by exact size
  std::vector<std::pair<void*, std::uint64_t>> pending_;   // returned, GPU may still use
  std::uint64_t reserved_ = 0, live_ = 0, peak_live_ = 0;
};

// ---- the backend -------------------------------------------------------------------

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
