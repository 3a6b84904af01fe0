// cuda_backend.cpp — the cuda Backend: the cpu backend's model, step and memory books
// (core/src/backends/cpu/cpu_backend.cpp), with the tensors on GPUs and the math in
// kernels/cuda. Placement, timing and memory are described in pipelab/backends/cuda/.
//
// [SECTION] index
//   1. the Backend interface: begin_step, compute, send, receive, numerics
//   2. construction: placement, contexts, streams, parameters, data, clocks
//   3. construction helpers: peer access, devices, parameters, synchronisation
// Elsewhere: the tensors (device_tensor.h), the batch (device_batch.h), a logical
// device (logical_device.h), one stage's F / R / B / I / W / optimizer step (stage_math.h), the
// timebase (clock.h), the memory check (memory_check.h).
//
// Per action the worker thread: opens an NVTX range, records a start event on the
// device's compute stream (after any cudaStreamWaitEvent that receive() enqueued),
// enqueues the kernels, records an end event and waits for it. The wait is what
// lets compute() return a measured span, which the executor needs at once; the
// gap it leaves between actions shows as idle time: on an H100, 50-110 µs (median ~70)
// of wake-up, mailbox hand-off and launches — negligible for ~1 ms actions, dominant for
// the cpu-sized default model (bench/results/2026-11-23-h100.md). Enqueueing ahead and
// resolving the spans after the step would remove it (not done).
// Memory released during an action becomes reusable after that wait (allocator retire()).
#include <cuda_runtime.h>

#include <algorithm>
#include <future>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clock.h"
#include "cuda_util.h"
#include "device_batch.h"
#include "device_tensor.h"
#include "green_context.h"
#include "logical_device.h"
#include "memory_check.h"
#include "nccl_transport.h"
#include "stage_math.h"
#include "pipelab/backends/cuda/backend.h"
#include "pipelab/backends/microbatches.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/kernels/cuda.h"
#include "pipelab/model/memory_plan.h"

namespace pipelab {

namespace {

namespace kc = kernels::cuda;
using cuda_detail::DeviceGuard;
using cuda_detail::DeviceTensor;
using cuda_detail::EventHandle;
using cuda_detail::float_bytes;
using cuda_detail::GpuBlock;
using cuda_detail::LogicalDevice;
using cuda_detail::MicrobatchState;
using cuda_detail::NvtxRange;
using cuda_detail::StreamHandle;

kc::GemmVariant gemm_variant(CudaGemm gemm) {
  switch (gemm) {
    case CudaGemm::Naive: return kc::GemmVariant::Naive;
    case CudaGemm::Tiled: return kc::GemmVariant::Tiled;
    case CudaGemm::Register: return kc::GemmVariant::Register;
    case CudaGemm::Vectorized: return kc::GemmVariant::Vectorized;
    case CudaGemm::Cublas: return kc::GemmVariant::Cublas;
  }
  return kc::GemmVariant::Cublas;
}

// The payload of a cuda transfer: the filled buffer (charged to the receiver) and
// the event the receiver's stream waits for.
struct CudaPayload {
  DeviceTensor tensor;
  EventHandle arrived;
};

class CudaBackendImpl final : public CudaBackend {
 public:
  CudaBackendImpl(const RunConfig& config, const Partition& partition, int microbatches)
      : spec_(config.model),
        remat_(config.remat),
        options_(config.cuda),
        partition_(partition),
        microbatches_(microbatch_rows(config.model.batch, microbatches)) {
    try {
      construct(config);
    } catch (...) {
      synchronize_all();
      throw;
    }
  }

  ~CudaBackendImpl() override {
    synchronize_all();
    // Each device's cuBLAS handle, streams and memory go with its GPU current.
    for (auto& dev : devices_) {
      cudaSetDevice(dev->gpu);
      dev.reset();
    }
  }

  // ---- 1. the Backend interface ---------------------------------------------------

  std::string name() const override { return "cuda"; }
  std::vector<std::string> device_names() const override { return plan_.device_names; }

  void begin_step() override {
    // Each step accumulates its gradients from zero (a second step on this backend:
    // warm-up, benchmarks), and its memory books start from what is resident.
    for (auto& dev : devices_) {
      DeviceGuard guard(dev->gpu);
      for (const GpuBlock& grad : dev->grads) cuda_detail::zero_block_async(grad, dev->compute.get());
    }
    synchronize_checked();  // the zeroing must not show up in the first span
    timebase_.start_step();
    for (auto& dev : devices_) dev->memory->restart();
    timebase_.align();
  }

  void set_warm_up(bool on) override { warm_up_ = on; }

  Span compute(const Action& a) override {
    LogicalDevice& dev = *devices_.at(a.stage);
    DeviceGuard guard(dev.gpu);
    NvtxRange range(options_.instrument, a);
    const double host_start = timebase_.now_us();
    // Recorded after every wait receive() put on this stream: the span is work, not waiting.
    if (options_.instrument) PIPELAB_CUDA_CHECK(cudaEventRecord(dev.start.get(), dev.compute.get()));
    switch (a.kind) {
      case ActionKind::Forward:
        cuda_detail::stage_forward(dev, step_data(), a.microbatch, /*recompute=*/false);
        break;
      case ActionKind::Recompute:
        cuda_detail::stage_forward(dev, step_data(), a.microbatch, /*recompute=*/true);
        break;
      case ActionKind::Backward: cuda_detail::stage_backward(dev, step_data(), a.microbatch); break;
      case ActionKind::BackwardInput:   // the split backward (stage_split_backward.cpp) has
      case ActionKind::BackwardWeight:  // not run on a GPU: it runs only when asked for
        if (!options_.split_backward)
          PIPELAB_THROW(to_string(a) + ": I/W (split backward) is not supported on the cuda backend by default",
                        "run it on --backend cpu or sim, or add --cuda-split-backward (not yet run on a GPU)");
        if (a.kind == ActionKind::BackwardInput)
          cuda_detail::stage_backward_input(dev, step_data(), a.microbatch);
        else
          cuda_detail::stage_backward_weight(dev, step_data(), a.microbatch);
        break;
      case ActionKind::OptimizerStep:  // warm-up: learning rate 0, θ − 0·g = θ
        cuda_detail::stage_optimizer_step(dev, warm_up_ ? 0.0f : spec_.learning_rate);
        break;
      default: PIPELAB_THROW("compute() called with " + to_string(a), "executor bug: please report");
    }
    Span span;
    if (options_.instrument) {
      PIPELAB_CUDA_CHECK(cudaEventRecord(dev.end.get(), dev.compute.get()));
      PIPELAB_CUDA_CHECK(cudaEventSynchronize(dev.end.get()));
      span = {timebase_.gpu_time_us(dev.index, dev.start.get()), timebase_.gpu_time_us(dev.index, dev.end.get())};
    } else {
      PIPELAB_CUDA_CHECK(cudaStreamSynchronize(dev.compute.get()));
      span = {host_start, timebase_.now_us()};
    }
    dev.allocator->retire();  // everything this action released is no longer in use
    return span;
  }

  Transfer send(const Action& a) override {
    const bool activation = a.kind == ActionKind::SendActivation;
    LogicalDevice& from = *devices_.at(a.stage);
    LogicalDevice& to = *devices_.at(activation ? a.stage + 1 : a.stage - 1);
    MicrobatchState& mb = from.mb.at(a.microbatch);
    DeviceTensor& source = activation ? mb.output : mb.grad_input;
    if (source.count == 0)
      PIPELAB_THROW(to_string(a) + ": nothing to send", "the schedule must run F (or B, or I) before its send");
    Transfer t;
    t.send = a;
    t.bytes = float_bytes(source.count);  // boundary_bytes(spec_, rows)
    // The receiver's buffer, charged to the receiver (as on cpu): a received activation
    // is the next stage's input (Stash), a received gradient a Buffer.
    auto payload = std::make_shared<CudaPayload>();
    payload->tensor.hold(*to.allocator, *to.memory, activation ? MemoryCategory::Stash : MemoryCategory::Buffers,
                         t.bytes);
    const bool nccl = nccl_ != nullptr;
    {
      // The arrival event lives on the GPU whose stream records it.
      DeviceGuard guard(nccl ? to.gpu : from.gpu);
      payload->arrived = EventHandle(/*timing=*/false);
    }
    DeviceGuard guard(from.gpu);
    NvtxRange range(options_.instrument, a);
    const double host_start = timebase_.now_us();
    // The copy starts after everything the compute stream has enqueued (F wrote `source`).
    PIPELAB_CUDA_CHECK(cudaEventRecord(from.ready.get(), from.compute.get()));
    PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(from.copy.get(), from.ready.get(), 0));
    cudaEvent_t started = options_.instrument ? from.copy_start.get() : nullptr;
    cudaEvent_t finished = options_.instrument ? from.copy_end.get() : nullptr;
    if (nccl) {
      nccl_->send_recv(from.index, source.data(), from.copy.get(), to.index, payload->tensor.data(), to.copy.get(),
                       source.count, started, finished, payload->arrived.get());
    } else {
      if (started != nullptr) PIPELAB_CUDA_CHECK(cudaEventRecord(started, from.copy.get()));
      PIPELAB_CUDA_CHECK(
          cudaMemcpyPeerAsync(payload->tensor.data(), to.gpu, source.data(), from.gpu, t.bytes, from.copy.get()));
      if (finished != nullptr) PIPELAB_CUDA_CHECK(cudaEventRecord(finished, from.copy.get()));
      PIPELAB_CUDA_CHECK(cudaEventRecord(payload->arrived.get(), from.copy.get()));
    }
    PIPELAB_CUDA_CHECK(cudaEventSynchronize(payload->arrived.get()));
    if (finished != nullptr) {
      PIPELAB_CUDA_CHECK(cudaEventSynchronize(finished));
      t.span = {timebase_.gpu_time_us(from.index, started), timebase_.gpu_time_us(from.index, finished)};
    } else {
      t.span = {host_start, timebase_.now_us()};
    }
    source.release();             // the sender's copy is no longer needed ...
    from.allocator->retire();     // ... and the copy that read it has finished
    t.payload = std::move(payload);
    return t;
  }

  Span receive(const Action& a, Transfer& t) override {
    auto payload = std::static_pointer_cast<CudaPayload>(t.payload);
    LogicalDevice& dev = *devices_.at(a.stage);
    MicrobatchState& mb = dev.mb.at(a.microbatch);
    DeviceTensor& target = a.kind == ActionKind::RecvActivation ? mb.input : mb.grad_output;
    target = std::move(payload->tensor);
    DeviceGuard guard(dev.gpu);
    NvtxRange range(options_.instrument, a);
    // The consumer waits on the GPU, never the host; the next start event is recorded
    // after this wait (send() already waited for the bytes, so it costs nothing today).
    PIPELAB_CUDA_CHECK(cudaStreamWaitEvent(dev.compute.get(), payload->arrived.get(), 0));
    return t.span;
  }

  DeviceMemory& memory(int device) override { return *devices_.at(device)->memory; }

  std::optional<StepNumerics> numerics() const override {
    StepNumerics n;
    // Loss: as on cpu, Σ over micro-batches of scale · Σ_rows −log softmax, in double.
    const LogicalDevice& last = *devices_.back();
    std::vector<double> row_loss(spec_.batch);
    {
      DeviceGuard guard(last.gpu);
      PIPELAB_CUDA_CHECK(cudaMemcpy(row_loss.data(), batch_.row_loss.data(), row_loss.size() * sizeof(double),
                                    cudaMemcpyDeviceToHost));
    }
    const std::vector<int>& rows = microbatches_.rows;
    const std::vector<int>& offsets = microbatches_.offsets;
    for (std::size_t m = 0; m < rows.size(); ++m) {
      double total = 0;
      for (int i = offsets[m]; i < offsets[m + 1]; ++i) total += row_loss[i];
      n.loss += double{microbatch_loss_scale(rows[m], spec_.batch)} * total;
    }
    for (const auto& dev : devices_) {
      DeviceGuard guard(dev->gpu);
      for (std::size_t i = 0; i < dev->params.size(); ++i) {
        n.params.push_back(cuda_detail::download_block(dev->params[i]));
        n.grads.push_back(cuda_detail::download_block(dev->grads[i]));
      }
    }
    return n;
  }

  const CudaPlacementPlan& plan() const override { return plan_; }
  double timebase_error_us() const override { return timebase_.error_us(); }

  std::vector<CudaMemoryCheck> check_memory() const override {
    std::vector<CudaMemoryCheck> checks;
    for (std::size_t g = 0; g < gpus_.size(); ++g)
      checks.push_back(cuda_detail::check_gpu_memory(gpus_[g], free_before_[g], devices_,
                                                     {batch_.inputs_allocator.get(), batch_.labels_allocator.get()}));
    return checks;
  }

 private:
  // ---- 2. construction ----------------------------------------------------------------

  void construct(const RunConfig& config) {
    const int K = partition_.stages();
    plan_ = plan_placement(config, probe_cuda(false));
    if (static_cast<int>(plan_.gpu_of_device.size()) != K)
      PIPELAB_THROW("placement planned " + std::to_string(plan_.gpu_of_device.size()) + " devices for K = " +
                        std::to_string(K),
                    "this is a bug: please report it");
    for (int gpu : plan_.gpu_of_device)
      if (std::find(gpus_.begin(), gpus_.end(), gpu) == gpus_.end()) gpus_.push_back(gpu);

    // Contexts, and what each GPU had free before we took anything (check_memory()).
    for (int gpu : gpus_) {
      DeviceGuard guard(gpu);
      PIPELAB_CUDA_CHECK(cudaFree(nullptr));  // creates the primary context
      std::size_t free_bytes = 0, total_bytes = 0;
      PIPELAB_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
      free_before_.push_back(free_bytes);
    }
    if (plan_.placement == CudaPlacement::Gpus) enable_peer_access();
    if (plan_.placement == CudaPlacement::Partitions) {
      green_ = std::make_unique<cuda_detail::GreenPartitions>(gpus_.front(), K);
      for (int d = 0; d < K; ++d) {
        const int sms = static_cast<int>(green_->sms(d));
        if (sms != plan_.sms_of_device[d]) plan_.device_names[d] += " (the driver gave " + std::to_string(sms) + ")";
        plan_.sms_of_device[d] = sms;
      }
      plan_.idle_sms = static_cast<int>(green_->idle_sms());
    }
    if (plan_.transport == CudaTransport::Nccl) nccl_ = std::make_unique<cuda_detail::NcclComms>(plan_.gpu_of_device);

    for (int d = 0; d < K; ++d) devices_.push_back(make_device(d));
    upload_parameters();
    batch_ = cuda_detail::upload_batch(spec_, devices_.front()->gpu, devices_.back()->gpu);
    // One clock domain per GPU, its origin recorded on the compute stream of its first device.
    for (int gpu : gpus_) {
      const auto first = std::find(plan_.gpu_of_device.begin(), plan_.gpu_of_device.end(), gpu);
      timebase_.add_gpu(gpu, devices_[first - plan_.gpu_of_device.begin()]->compute.get());
    }
    timebase_.map_devices(plan_.gpu_of_device);
    synchronize_all();
    timebase_.align();  // a valid timebase even if the caller never calls begin_step()
  }

  // ---- 3. construction helpers ---------------------------------------------------------

  void enable_peer_access() {
    std::string status;
    for (std::size_t d = 0; d + 1 < plan_.gpu_of_device.size(); ++d) {
      const int a = plan_.gpu_of_device[d], b = plan_.gpu_of_device[d + 1];
      bool both = true;
      for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
        int can = 0;
        PIPELAB_CUDA_CHECK(cudaDeviceCanAccessPeer(&can, from, to));
        if (!can) {
          both = false;
          continue;
        }
        DeviceGuard guard(from);
        const cudaError_t result = cudaDeviceEnablePeerAccess(to, 0);
        if (result == cudaErrorPeerAccessAlreadyEnabled)
          cudaGetLastError();
        else
          PIPELAB_CUDA_CHECK(result);
      }
      status += " " + std::to_string(a) + "<->" + std::to_string(b) + (both ? " peer" : " staged");
    }
    if (!status.empty()) plan_.why += "; links:" + status;
  }

  std::unique_ptr<LogicalDevice> make_device(int d) {
    auto dev = std::make_unique<LogicalDevice>();
    dev->index = d;
    dev->gpu = plan_.gpu_of_device[d];
    dev->name = plan_.device_names[d];
    DeviceGuard guard(dev->gpu);
    if (green_) {
      dev->compute = StreamHandle::borrow(green_->compute_stream(d));
      dev->copy = StreamHandle::borrow(green_->copy_stream(d));
    } else {
      dev->compute = StreamHandle::create();
      dev->copy = StreamHandle::create();
    }
    dev->gemm = std::make_unique<kc::GemmEngine>(gemm_variant(options_.gemm), dev->compute.get(), options_.tf32);
    dev->start = EventHandle(true);
    dev->end = EventHandle(true);
    dev->copy_start = EventHandle(true);
    dev->copy_end = EventHandle(true);
    dev->ready = EventHandle(false);
    dev->allocator =
        std::make_unique<CudaAllocator>(dev->gpu, "cuda device " + std::to_string(d) + " (" + dev->name + ")");
    dev->memory = std::make_unique<DeviceMemory>(d, [this] { return timebase_.now_us(); });
    dev->first_layer = partition_.first_layer(d);
    dev->memory_plan = plan_stage_memory(spec_, partition_, d, remat_);
    dev->mb.resize(microbatches_.rows.size());
    return dev;
  }

  // Every layer's parameters (seeded by (seed, layer): the cpu backend's values) and
  // zero gradients, on the layer's device. The host draws the random numbers, which
  // for a big model (d = 4096, h = 16384: 134 M per block) takes seconds per layer:
  // a batch of layers is drawn in parallel, uploaded, and freed before the next.
  void upload_parameters() {
    const int layers = spec_.layers;
    const int batch = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
    for (int first = 0; first < layers; first += batch) {
      const int end = std::min(layers, first + batch);
      std::vector<std::future<BlockParams>> drawn;
      for (int l = first; l < end; ++l)
        drawn.push_back(std::async(std::launch::async, [this, l] { return init_block(spec_, l); }));
      for (int l = first; l < end; ++l) {
        const BlockParams host = drawn[l - first].get();  // rethrows what init_block threw
        int stage = 0;
        while (l >= partition_.end_layer(stage)) ++stage;  // layers are in stage order
        LogicalDevice& dev = *devices_.at(stage);
        DeviceGuard guard(dev.gpu);
        dev.params.push_back(cuda_detail::upload_block(*dev.allocator, host));
        dev.grads.push_back(cuda_detail::zeros_like(*dev.allocator, dev.params.back()));
        // One block's parameters, then its gradients (same shapes).
        dev.resident.push_back(dev.memory->charge(MemoryCategory::Params, dev.memory_plan.block_params_bytes()));
        dev.resident.push_back(dev.memory->charge(MemoryCategory::Grads, dev.memory_plan.block_params_bytes()));
      }
    }
  }

  // What every stage's math reads: the model, the micro-batches, the batch on the GPUs.
  cuda_detail::StepData step_data() const {
    return {spec_, remat_, microbatches_, batch_.inputs.floats(), batch_.label_data(), batch_.row_loss_data()};
  }

  // Every GPU idle; errors thrown.
  void synchronize_checked() {
    for (int gpu : gpus_) {
      DeviceGuard guard(gpu);
      PIPELAB_CUDA_CHECK(cudaDeviceSynchronize());
    }
  }

  // Every GPU idle; errors ignored (used on the way out, also after a failure).
  void synchronize_all() noexcept {
    for (int gpu : gpus_) {
      if (cudaSetDevice(gpu) == cudaSuccess) cudaDeviceSynchronize();
      cudaGetLastError();
    }
  }

  ModelSpec spec_;
  bool remat_;
  CudaOptions options_;
  Partition partition_;
  MicrobatchRows microbatches_;
  bool warm_up_ = false;   // set_warm_up(): SGD with learning rate 0
  CudaPlacementPlan plan_;
  std::vector<int> gpus_;                    // distinct physical GPUs, in order of first use
  std::vector<std::uint64_t> free_before_;   // cudaMemGetInfo free per gpus_ entry, at creation
  std::unique_ptr<cuda_detail::GreenPartitions> green_;  // partitions: owns the streams
  std::unique_ptr<cuda_detail::NcclComms> nccl_;         // --transport nccl
  cuda_detail::DeviceBatch batch_;           // the step's data: allocated, charged to no device
  cuda_detail::Timebase timebase_;           // host clock + one origin event per gpus_ entry
  std::vector<std::unique_ptr<LogicalDevice>> devices_;  // destroyed first
};

}  // namespace

std::unique_ptr<CudaBackend> make_cuda_backend(const RunConfig& config, const Partition& partition,
                                               int microbatches) {
  return std::make_unique<CudaBackendImpl>(config, partition, microbatches);
}

}  // namespace pipelab
