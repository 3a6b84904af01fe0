// cuda_backend.cpp — the cuda Backend: the cpu backend's model, step and memory
// books (core/src/backends/cpu/cpu_backend.cpp), with the tensors on GPUs and the math in
// kernels/cuda. Placement, timing and memory are described in cuda_backend.h.
//
// [SECTION] index
//   1. tensors: DeviceTensor, GpuBlock, per-micro-batch state, LogicalDevice
//   2. construction: placement, contexts, streams, parameters, data, clocks
//   3. the Backend interface: begin_step, compute, send, receive, numerics
//   4. forward / backward / optimizer step of one stage
//   5. memory check
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
#include <chrono>
#include <future>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cuda_util.h"
#include "gpu_model.h"
#include "green_context.h"
#include "nccl_transport.h"
#include "pipelab/backends/cuda_backend.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/kernels/cuda.h"

namespace pipelab {

namespace {

namespace kc = kernels::cuda;
using cuda_detail::BlockPointers;
using cuda_detail::DeviceGuard;
using cuda_detail::EventHandle;
using cuda_detail::format_bytes;
using cuda_detail::NvtxRange;
using cuda_detail::StreamHandle;
using Clock = std::chrono::steady_clock;

std::uint64_t float_bytes(std::size_t n) { return 4ull * n; }

kc::GemmVariant gemm_variant(CudaGemm gemm) {
  switch (gemm) {
    case CudaGemm::Naive: return kc::GemmVariant::Naive;
    case CudaGemm::Tiled: return kc::GemmVariant::Tiled;
    case CudaGemm::Cublas: return kc::GemmVariant::Cublas;
  }
  return kc::GemmVariant::Cublas;
}

// ---- 1. tensors ---------------------------------------------------------------------

// A tensor held by a logical device: device memory plus its memory charge (the
// cpu backend's Held, on the GPU).
struct DeviceTensor {
  CudaBuffer buffer;
  MemoryCharge charge;
  std::size_t count = 0;  // floats

  DeviceTensor() = default;
  DeviceTensor(DeviceTensor&& o) noexcept
      : buffer(std::move(o.buffer)), charge(std::move(o.charge)), count(std::exchange(o.count, 0)) {}
  DeviceTensor& operator=(DeviceTensor&& o) noexcept {
    if (this != &o) {
      release();
      buffer = std::move(o.buffer);
      charge = std::move(o.charge);
      count = std::exchange(o.count, 0);
    }
    return *this;
  }

  float* data() const { return buffer.floats(); }
  void hold(CudaAllocator& allocator, DeviceMemory& memory, MemoryCategory category, std::size_t n) {
    release();  // first: the accounting follows the buffer
    buffer = allocator.allocate(float_bytes(n), to_string(category));
    charge = memory.charge(category, float_bytes(n));
    count = n;
  }
  void release() {
    charge.reset();  // books first, then the memory: live >= accounted at every instant
    buffer.reset();
    count = 0;
  }
};

// One block's parameters (or gradients) on the device, laid out like BlockParams.
struct GpuBlock {
  CudaBuffer w1, b1, w2, b2;

  BlockPointers<const float> in() const { return {w1.floats(), b1.floats(), w2.floats(), b2.floats()}; }
  BlockPointers<float> out() const { return {w1.floats(), b1.floats(), w2.floats(), b2.floats()}; }
};

// What a stage keeps for one micro-batch between its F and its B.
struct MicrobatchState {
  DeviceTensor input;                       // stage input (b, d): Stash, kept until B
  std::vector<DeviceTensor> block_inputs;   // inputs of blocks 1..n-1 of the stage (b, d): Stash
  std::vector<DeviceTensor> pre_activations;  // per block: a (b, h), Stash
  std::vector<DeviceTensor> activations;      // per block: g = GELU(a) (b, h), Stash
  DeviceTensor output;       // stage output (b, d): Buffers until sent; logits (Stash) on the last stage
  DeviceTensor grad_output;  // dL/d output (b, d): received (Buffers) or dlogits on the last stage
  DeviceTensor grad_input;   // dL/d input (b, d): Buffers until sent
};

// One logical device: where it runs, its streams, events, memory and stage.
// Members are destroyed bottom-up: tensors before the allocator and the books,
// the cuBLAS handle (in `gemm`) before the streams it is bound to.
struct LogicalDevice {
  int index = 0;
  int gpu = 0;
  std::string name;
  StreamHandle compute;  // kernels of F, B, R, OptimizerStep
  StreamHandle copy;     // outgoing transfers (and incoming ones with NCCL)
  std::unique_ptr<kc::GemmEngine> gemm;
  EventHandle start, end;            // the compute span (timing events)
  EventHandle copy_start, copy_end;  // the send span (timing events)
  EventHandle ready;                 // the compute stream reached a send (sync only)
  std::unique_ptr<CudaAllocator> allocator;
  std::unique_ptr<DeviceMemory> memory;
  int first_layer = 0;
  std::vector<GpuBlock> params;
  std::vector<GpuBlock> grads;
  std::vector<MemoryCharge> resident;  // params + grads
  std::vector<MicrobatchState> mb;
};

// The payload of a cuda transfer: the filled buffer (charged to the receiver) and
// the event the receiver's stream waits for.
struct CudaPayload {
  DeviceTensor tensor;
  EventHandle arrived;
};

// One physical GPU's clock: an origin event and its host time (see cuda_backend.h).
struct ClockDomain {
  int gpu = 0;
  cudaStream_t stream = nullptr;  // an idle stream of the GPU to record the origin on
  EventHandle origin;
  double origin_us = 0;
};

class CudaBackendImpl final : public CudaBackend {
 public:
  CudaBackendImpl(const RunConfig& config, const Partition& partition, int microbatches)
      : spec_(config.model),
        remat_(config.remat),
        options_(config.cuda),
        partition_(partition),
        rows_(split_microbatches(config.model.batch, microbatches)),
        origin_(Clock::now()) {
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

  // ---- 3. the Backend interface ---------------------------------------------------

  std::string name() const override { return "cuda"; }
  std::vector<std::string> device_names() const override { return plan_.device_names; }

  void begin_step() override {
    // Each step accumulates its gradients from zero (a second step on this backend:
    // warm-up, benchmarks), and its memory books start from what is resident.
    for (auto& dev : devices_) {
      DeviceGuard guard(dev->gpu);
      for (const GpuBlock& grad : dev->grads)
        for (const CudaBuffer* part : {&grad.w1, &grad.b1, &grad.w2, &grad.b2})
          PIPELAB_CUDA_CHECK(cudaMemsetAsync(part->data(), 0, part->bytes(), dev->compute.get()));
    }
    synchronize_checked();  // the zeroing must not show up in the first span
    origin_ = Clock::now();
    stepping_ = true;
    for (auto& dev : devices_) dev->memory->restart();
    align_clocks();
  }

  void set_warm_up(bool on) override { warm_up_ = on; }

  Span compute(const Action& a) override {
    LogicalDevice& dev = *devices_.at(a.stage);
    DeviceGuard guard(dev.gpu);
    NvtxRange range(options_.instrument, a);
    const double host_start = now_us();
    // Recorded after every wait receive() put on this stream: the span is work, not waiting.
    if (options_.instrument) PIPELAB_CUDA_CHECK(cudaEventRecord(dev.start.get(), dev.compute.get()));
    switch (a.kind) {
      case ActionKind::Forward: forward(dev, a.microbatch, /*recompute=*/false); break;
      case ActionKind::Recompute: forward(dev, a.microbatch, /*recompute=*/true); break;
      case ActionKind::Backward: backward(dev, a.microbatch); break;
      case ActionKind::OptimizerStep: optimizer_step(dev); break;
      default: PIPELAB_THROW("compute() called with " + to_string(a), "executor bug: please report");
    }
    Span span;
    if (options_.instrument) {
      PIPELAB_CUDA_CHECK(cudaEventRecord(dev.end.get(), dev.compute.get()));
      PIPELAB_CUDA_CHECK(cudaEventSynchronize(dev.end.get()));
      span = {gpu_time_us(dev, dev.start.get()), gpu_time_us(dev, dev.end.get())};
    } else {
      PIPELAB_CUDA_CHECK(cudaStreamSynchronize(dev.compute.get()));
      span = {host_start, now_us()};
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
      PIPELAB_THROW(to_string(a) + ": nothing to send", "the schedule must run F (or B) before its send");
    Transfer t;
    t.send = a;
    t.bytes = float_bytes(source.count);
    // The receiver's buffer, charged to the receiver (as on cpu): a received activation
    // is the next stage's input (Stash), a received gradient a Buffer.
    auto payload = std::make_shared<CudaPayload>();
    payload->tensor.hold(*to.allocator, *to.memory, activation ? MemoryCategory::Stash : MemoryCategory::Buffers,
                         source.count);
    const bool nccl = nccl_ != nullptr;
    {
      // The arrival event lives on the GPU whose stream records it.
      DeviceGuard guard(nccl ? to.gpu : from.gpu);
      payload->arrived = EventHandle(/*timing=*/false);
    }
    DeviceGuard guard(from.gpu);
    NvtxRange range(options_.instrument, a);
    const double host_start = now_us();
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
      t.span = {gpu_time_us(from, started), gpu_time_us(from, finished)};
    } else {
      t.span = {host_start, now_us()};
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
      PIPELAB_CUDA_CHECK(cudaMemcpy(row_loss.data(), row_loss_.data(), row_loss.size() * sizeof(double),
                                    cudaMemcpyDeviceToHost));
    }
    for (std::size_t m = 0; m < rows_.size(); ++m) {
      double total = 0;
      for (int i = offsets_[m]; i < offsets_[m + 1]; ++i) total += row_loss[i];
      n.loss += double{microbatch_loss_scale(rows_[m], spec_.batch)} * total;
    }
    for (const auto& dev : devices_) {
      DeviceGuard guard(dev->gpu);
      for (std::size_t i = 0; i < dev->params.size(); ++i) {
        n.params.push_back(download(dev->params[i]));
        n.grads.push_back(download(dev->grads[i]));
      }
    }
    return n;
  }

  const CudaPlacementPlan& plan() const override { return plan_; }
  double timebase_error_us() const override { return timebase_error_us_; }
  std::vector<CudaMemoryCheck> check_memory() const override;

 private:
  // ---- 2. construction ----------------------------------------------------------------

  void construct(const RunConfig& config) {
    // Row offset of each micro-batch in the batch (prefix sums of the sizes).
    offsets_.push_back(0);
    for (int r : rows_) offsets_.push_back(offsets_.back() + r);
    if (offsets_.back() != spec_.batch)
      PIPELAB_THROW("micro-batch sizes add up to " + std::to_string(offsets_.back()) + ", not the batch " +
                        std::to_string(spec_.batch),
                    "split_microbatches (ex03) must return sizes that sum to the batch");
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
    upload_data();
    for (int gpu : gpus_) {
      const auto first = std::find(plan_.gpu_of_device.begin(), plan_.gpu_of_device.end(), gpu);
      ClockDomain clock;
      clock.gpu = gpu;
      clock.stream = devices_[first - plan_.gpu_of_device.begin()]->compute.get();
      DeviceGuard guard(gpu);
      clock.origin = EventHandle(/*timing=*/true);
      clocks_.push_back(std::move(clock));
    }
    for (int gpu : plan_.gpu_of_device)
      clock_of_device_.push_back(static_cast<int>(std::find(gpus_.begin(), gpus_.end(), gpu) - gpus_.begin()));
    synchronize_all();
    align_clocks();  // a valid timebase even if the caller never calls begin_step()
  }

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
    dev->allocator = std::make_unique<CudaAllocator>(dev->gpu, "cuda device " + std::to_string(d) + " (" + dev->name + ")");
    dev->memory = std::make_unique<DeviceMemory>(d, [this] { return now_us(); });
    dev->first_layer = partition_.first_layer(d);
    dev->mb.resize(rows_.size());
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
        dev.params.push_back(upload(*dev.allocator, host));
        dev.grads.push_back(zeros_like(*dev.allocator, dev.params.back()));
        dev.resident.push_back(dev.memory->charge(MemoryCategory::Params, float_bytes(host.count())));
        dev.resident.push_back(dev.memory->charge(MemoryCategory::Grads, float_bytes(host.count())));
      }
    }
  }

  static GpuBlock zeros_like(CudaAllocator& allocator, const GpuBlock& shape) {
    GpuBlock block;
    const std::pair<CudaBuffer*, const CudaBuffer*> parts[] = {
        {&block.w1, &shape.w1}, {&block.b1, &shape.b1}, {&block.w2, &shape.w2}, {&block.b2, &shape.b2}};
    for (const auto& [buffer, like] : parts) {
      *buffer = allocator.allocate(like->bytes(), "grads");
      PIPELAB_CUDA_CHECK(cudaMemset(buffer->data(), 0, buffer->bytes()));
    }
    return block;
  }

  static GpuBlock upload(CudaAllocator& allocator, const BlockParams& host) {
    GpuBlock block;
    const std::pair<CudaBuffer*, const std::vector<float>*> parts[] = {
        {&block.w1, &host.w1}, {&block.b1, &host.b1}, {&block.w2, &host.w2}, {&block.b2, &host.b2}};
    for (const auto& [buffer, values] : parts) {
      *buffer = allocator.allocate(float_bytes(values->size()), "params");
      PIPELAB_CUDA_CHECK(cudaMemcpy(buffer->data(), values->data(), buffer->bytes(), cudaMemcpyHostToDevice));
    }
    return block;
  }

  static BlockParams download(const GpuBlock& block) {
    BlockParams host;
    const std::pair<const CudaBuffer*, std::vector<float>*> parts[] = {
        {&block.w1, &host.w1}, {&block.b1, &host.b1}, {&block.w2, &host.w2}, {&block.b2, &host.b2}};
    for (const auto& [buffer, values] : parts) {
      values->resize(buffer->bytes() / sizeof(float));
      PIPELAB_CUDA_CHECK(cudaMemcpy(values->data(), buffer->data(), buffer->bytes(), cudaMemcpyDeviceToHost));
    }
    return host;
  }

  // The step's data, like the cpu backend's host copy, is the data loader's and is not
  // charged to any device: inputs on stage 0's GPU, labels and per-row losses on the last's.
  void upload_data() {
    const Batch batch = make_batch(spec_);
    for (int i = 0; i < spec_.batch; ++i)
      if (batch.labels[i] < 0 || batch.labels[i] >= spec_.width)
        PIPELAB_THROW("label " + std::to_string(batch.labels[i]) + " of row " + std::to_string(i) +
                          " is outside [0, " + std::to_string(spec_.width) + ")",
                      "labels are class indices; check make_batch");
    const LogicalDevice& first = *devices_.front();
    const LogicalDevice& last = *devices_.back();
    inputs_allocator_ = std::make_unique<CudaAllocator>(first.gpu, "batch inputs on GPU " + std::to_string(first.gpu));
    labels_allocator_ = std::make_unique<CudaAllocator>(last.gpu, "batch labels on GPU " + std::to_string(last.gpu));
    inputs_ = inputs_allocator_->allocate(float_bytes(batch.inputs.size()), "batch inputs");
    labels_ = labels_allocator_->allocate(sizeof(int) * batch.labels.size(), "batch labels");
    row_loss_ = labels_allocator_->allocate(sizeof(double) * batch.labels.size(), "per-row losses");
    {
      DeviceGuard guard(first.gpu);
      PIPELAB_CUDA_CHECK(cudaMemcpy(inputs_.data(), batch.inputs.data(), inputs_.bytes(), cudaMemcpyHostToDevice));
    }
    DeviceGuard guard(last.gpu);
    PIPELAB_CUDA_CHECK(cudaMemcpy(labels_.data(), batch.labels.data(), labels_.bytes(), cudaMemcpyHostToDevice));
    PIPELAB_CUDA_CHECK(cudaMemset(row_loss_.data(), 0, row_loss_.bytes()));
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

  // µs since the step's origin on the host's steady clock. Setup (parameters charged
  // in the constructor, which may take seconds) is at 0, so the trace's memory series
  // starts with the parameters instead of showing them after the step.
  double now_us() const {
    if (!stepping_) return 0;
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - origin_).count();
    return us < 0 ? 0 : us;
  }

  // Each GPU's origin event, placed on the host clock (see cuda_backend.h, Timing).
  void align_clocks() {
    double error = 0;
    for (ClockDomain& clock : clocks_) {
      DeviceGuard guard(clock.gpu);
      const double before = now_us();
      PIPELAB_CUDA_CHECK(cudaEventRecord(clock.origin.get(), clock.stream));
      PIPELAB_CUDA_CHECK(cudaEventSynchronize(clock.origin.get()));
      const double after = now_us();
      clock.origin_us = 0.5 * (before + after);
      error = std::max(error, 0.5 * (after - before));
    }
    // Logical devices on one GPU share its origin: only between GPUs is there an error.
    timebase_error_us_ = clocks_.size() > 1 ? error : 0.0;
  }

  // A completed event of `dev`'s GPU in µs since the step's origin.
  double gpu_time_us(const LogicalDevice& dev, cudaEvent_t event) const {
    const ClockDomain& clock = clocks_[clock_of_device_[dev.index]];
    float ms = 0;
    PIPELAB_CUDA_CHECK(cudaEventElapsedTime(&ms, clock.origin.get(), event));
    return clock.origin_us + 1000.0 * ms;
  }

  bool is_last(const LogicalDevice& dev) const { return dev.index == partition_.stages() - 1; }

  // ---- 4. one stage's F, R, B and optimizer step --------------------------------------

  // F (recompute = false) or R (recompute = true) of micro-batch m on `dev`'s stage.
  void forward(LogicalDevice& dev, int m, bool recompute) {
    MicrobatchState& mb = dev.mb.at(m);
    CudaAllocator& alloc = *dev.allocator;
    DeviceMemory& mem = *dev.memory;
    const cudaStream_t stream = dev.compute.get();
    const int rows = rows_[m];
    const std::size_t n = static_cast<std::size_t>(rows) * spec_.width;   // (b, d)
    const std::size_t nh = static_cast<std::size_t>(rows) * spec_.hidden; // (b, h)
    if (dev.index == 0 && !recompute) {
      // Stage 0 reads its micro-batch's rows of the batch (rows offsets_[m] ..).
      mb.input.hold(alloc, mem, MemoryCategory::Stash, n);
      const float* src = inputs_.floats() + static_cast<std::size_t>(offsets_[m]) * spec_.width;
      PIPELAB_CUDA_CHECK(cudaMemcpyAsync(mb.input.data(), src, float_bytes(n), cudaMemcpyDeviceToDevice, stream));
    }
    if (mb.input.count != n)
      PIPELAB_THROW(to_string(Action{recompute ? ActionKind::Recompute : ActionKind::Forward, dev.index, m}) +
                        ": no input for this micro-batch",
                    "the schedule must receive the activation before F / keep it until R");
    const int blocks = static_cast<int>(dev.params.size());
    mb.pre_activations.resize(blocks);
    mb.activations.resize(blocks);
    mb.block_inputs.resize(blocks > 0 ? blocks - 1 : 0);
    DeviceTensor recomputed_output;  // R on a middle stage: the output is not needed again
    const float* x = mb.input.data();
    for (int i = 0; i < blocks; ++i) {
      mb.pre_activations[i].hold(alloc, mem, MemoryCategory::Stash, nh);
      mb.activations[i].hold(alloc, mem, MemoryCategory::Stash, nh);
      DeviceTensor* y = nullptr;
      if (i + 1 < blocks) {
        y = &mb.block_inputs[i];
        y->hold(alloc, mem, MemoryCategory::Stash, n);
      } else if (is_last(dev)) {
        y = &mb.output;  // logits stay for the loss backward
        y->hold(alloc, mem, MemoryCategory::Stash, n);
      } else if (!recompute) {
        y = &mb.output;  // until SendActivation
        y->hold(alloc, mem, MemoryCategory::Buffers, n);
      } else {
        y = &recomputed_output;
        y->hold(alloc, mem, MemoryCategory::Buffers, n);
      }
      cuda_detail::gpu_block_forward(*dev.gemm, spec_, dev.params[i].in(), x, rows, mb.pre_activations[i].data(),
                                     mb.activations[i].data(), y->data());
      x = y->data();
    }
    if (is_last(dev) && !recompute) {
      // Per-row losses of this micro-batch; scaled and summed on the host (numerics()).
      kc::softmax_xent_forward(mb.output.data(), labels_int() + offsets_[m], rows, spec_.width,
                               row_loss_double() + offsets_[m], stream);
    }
    if (remat_ && !recompute) drop_activations(mb, is_last(dev));
  }

  // Free what F kept, except the stage input (remat keeps only that).
  static void drop_activations(MicrobatchState& mb, bool last) {
    mb.block_inputs.clear();
    mb.pre_activations.clear();
    mb.activations.clear();
    if (last) mb.output.release();
  }

  void backward(LogicalDevice& dev, int m) {
    MicrobatchState& mb = dev.mb.at(m);
    CudaAllocator& alloc = *dev.allocator;
    DeviceMemory& mem = *dev.memory;
    const cudaStream_t stream = dev.compute.get();
    const int rows = rows_[m];
    const std::size_t n = static_cast<std::size_t>(rows) * spec_.width;
    const std::size_t nh = static_cast<std::size_t>(rows) * spec_.hidden;
    const int blocks = static_cast<int>(dev.params.size());
    if (static_cast<int>(mb.activations.size()) != blocks)
      PIPELAB_THROW(to_string(Action{ActionKind::Backward, dev.index, m}) + ": activations missing",
                    "with remat the schedule needs a Recompute before each B");
    if (is_last(dev)) {
      // dlogits = (softmax − onehot) · scale (1/B: the batch mean), into the gradient buffer.
      const float scale = microbatch_loss_scale(rows, spec_.batch);  // ex03
      mb.grad_output.hold(alloc, mem, MemoryCategory::Buffers, n);
      kc::softmax_xent_backward(mb.output.data(), labels_int() + offsets_[m], mb.grad_output.data(), rows,
                                spec_.width, scale, stream);
    }
    if (mb.grad_output.count != n)
      PIPELAB_THROW(to_string(Action{ActionKind::Backward, dev.index, m}) + ": no output gradient",
                    "the schedule must receive the gradient before B");
    // Workspace, as on cpu: two (b, d) gradients (ping-pong) and dg (b, h).
    DeviceTensor ping, pong, dg;
    ping.hold(alloc, mem, MemoryCategory::Buffers, n);
    pong.hold(alloc, mem, MemoryCategory::Buffers, n);
    dg.hold(alloc, mem, MemoryCategory::Buffers, nh);
    const float* dy = mb.grad_output.data();
    DeviceTensor* dx = &ping;
    DeviceTensor* spare = &pong;
    for (int i = blocks - 1; i >= 0; --i) {
      const float* x = i == 0 ? mb.input.data() : mb.block_inputs[i - 1].data();
      cuda_detail::gpu_block_backward(*dev.gemm, spec_, dev.params[i].in(), x, mb.pre_activations[i].data(),
                                      mb.activations[i].data(), dy, rows, dev.grads[i].out(), dx->data(), dg.data());
      dy = dx->data();
      std::swap(dx, spare);
    }
    DeviceTensor& input_gradient = *spare;  // written by the last block (block 0)
    // Everything this micro-batch kept is freed; the input gradient waits for SendGrad.
    mb.input.release();
    mb.output.release();
    mb.grad_output.release();
    drop_activations(mb, false);
    if (dev.index > 0) {
      // Keep the buffer; charge it as the grad_input (like cpu's hold(std::move(dy))).
      mb.grad_input.release();
      mb.grad_input.buffer = std::move(input_gradient.buffer);
      mb.grad_input.charge = mem.charge(MemoryCategory::Buffers, float_bytes(n));
      mb.grad_input.count = n;
      input_gradient.release();  // its charge; the buffer moved on
    }
  }

  void optimizer_step(LogicalDevice& dev) {
    const cudaStream_t stream = dev.compute.get();
    const std::size_t d = spec_.width, h = spec_.hidden;
    const float lr = warm_up_ ? 0.0f : spec_.learning_rate;  // warm-up: θ − 0·g = θ
    for (std::size_t i = 0; i < dev.params.size(); ++i) {
      const BlockPointers<float> p = dev.params[i].out();
      const BlockPointers<const float> g = dev.grads[i].in();
      kc::sgd_update(p.w1, g.w1, h * d, lr, stream);
      kc::sgd_update(p.b1, g.b1, h, lr, stream);
      kc::sgd_update(p.w2, g.w2, d * h, lr, stream);
      kc::sgd_update(p.b2, g.b2, d, lr, stream);
    }
  }

  const int* labels_int() const { return static_cast<const int*>(labels_.data()); }
  double* row_loss_double() const { return static_cast<double*>(row_loss_.data()); }

  ModelSpec spec_;
  bool remat_;
  CudaOptions options_;
  Partition partition_;
  std::vector<int> rows_;
  std::vector<int> offsets_;
  Clock::time_point origin_;
  bool stepping_ = false;  // set by begin_step(), before any worker thread starts
  bool warm_up_ = false;   // set_warm_up(): SGD with learning rate 0
  CudaPlacementPlan plan_;
  std::vector<int> gpus_;                    // distinct physical GPUs, in order of first use
  std::vector<std::uint64_t> free_before_;   // cudaMemGetInfo free per gpus_ entry, at creation
  std::unique_ptr<cuda_detail::GreenPartitions> green_;  // partitions: owns the streams
  std::unique_ptr<cuda_detail::NcclComms> nccl_;         // --transport nccl
  std::unique_ptr<CudaAllocator> inputs_allocator_, labels_allocator_;
  CudaBuffer inputs_, labels_, row_loss_;   // (B, d) floats, (B) ints, (B) doubles
  std::vector<ClockDomain> clocks_;          // one per gpus_ entry
  std::vector<int> clock_of_device_;         // logical device → clocks_ index
  double timebase_error_us_ = 0;
  std::vector<std::unique_ptr<LogicalDevice>> devices_;  // destroyed first
};

// ---- 5. memory check -------------------------------------------------------------------

std::vector<CudaMemoryCheck> CudaBackendImpl::check_memory() const {
  std::vector<CudaMemoryCheck> checks;
  for (std::size_t g = 0; g < gpus_.size(); ++g) {
    CudaMemoryCheck c;
    c.gpu = gpus_[g];
    c.free_before = free_before_[g];
    {
      DeviceGuard guard(c.gpu);
      std::size_t free_bytes = 0, total_bytes = 0;
      PIPELAB_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
      c.free_now = free_bytes;
    }
    bool peaks_ok = true;
    for (const auto& dev : devices_) {
      if (dev->gpu != c.gpu) continue;
      c.reserved += dev->allocator->reserved_bytes();
      c.live += dev->allocator->live_bytes();
      c.live_peak += dev->allocator->peak_live_bytes();
      const MemoryBytes current = dev->memory->current();
      for (std::uint64_t bytes : current) c.accounted += bytes;
      c.accounted_peak += dev->memory->peak_total();
      // Per device: the books never showed more than was really allocated.
      peaks_ok = peaks_ok && dev->allocator->peak_live_bytes() >= dev->memory->peak_total();
    }
    std::uint64_t data = 0;  // the batch: allocated, not charged (like cpu's host copy)
    for (const auto* alloc : {inputs_allocator_.get(), labels_allocator_.get()})
      if (alloc != nullptr && alloc->gpu() == c.gpu) data += alloc->reserved_bytes();
    const std::uint64_t taken = c.free_before > c.free_now ? c.free_before - c.free_now : 0;
    const bool books_ok = c.live == c.accounted;
    const bool device_ok = taken >= c.reserved + data;
    c.ok = books_ok && peaks_ok && device_ok;
    c.detail = "GPU " + std::to_string(c.gpu) + ": live allocations " + format_bytes(c.live) +
               (books_ok ? " == " : " != ") + "accounted " + format_bytes(c.accounted) + "; peak live " +
               format_bytes(c.live_peak) + (peaks_ok ? " >= " : " < ") + "accounted peak " +
               format_bytes(c.accounted_peak) + "; cudaMemGetInfo: this process took " + format_bytes(taken) +
               (device_ok ? " >= " : " < ") + "allocator reserve " + format_bytes(c.reserved) + " + data " +
               format_bytes(data);
    checks.push_back(c);
  }
  return checks;
}

}  // namespace

std::unique_ptr<CudaBackend> make_cuda_backend(const RunConfig& config, const Partition& partition,
                                               int microbatches) {
  return std::make_unique<CudaBackendImpl>(config, partition, microbatches);
}

}  // namespace pipelab
