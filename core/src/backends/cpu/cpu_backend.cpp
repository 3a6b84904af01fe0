// cpu_backend.cpp — real numerics, one worker thread per device.
//
// Each device owns its stage's parameters and gradients, charged to its own
// DeviceMemory. Per micro-batch a stage keeps (Stash) the input of each of its
// blocks and their activations from F to B — or, with remat, only the stage's
// input, rebuilt by Recompute just before B. A split backward (I then W) keeps them
// until W, and I adds every block's dy and da for W (cpu_backward.cpp). A send copies
// the tensor into a buffer charged to the receiver (the cpu stand-in for a
// device-to-device copy). As one rank of a multi-process run (only_stage >= 0) the
// backend holds that stage alone, and a send keeps the tensor in a send buffer charged
// to the sender until the transport (runtime/spmd/) has put it on the wire; a
// data-parallel rank's AllReduceGrads is the transport's too, in place on the
// gradients (gradient_wire).
// The loss is the batch mean: each row of a micro-batch is scaled by 1/B, so
// micro-batch gradients add up to the full batch's: to the bit with --gemm reference,
// to rounding with --gemm blas (config.cpu.gemm; kernels/include/pipelab/kernels/cpu.h).
// Each worker calls its GEMMs single-threaded: the K workers are the parallelism.
// Params, grads and the stash are charged by the stage's StageMemoryPlan
// (model/memory_plan.h), like the sim's and the cuda backend's; a held tensor is charged
// what it holds, which is the plan's.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstring>

#include "cpu_stage.h"
#include "pipelab/backends/backends.h"
#include "pipelab/backends/microbatches.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/model/memory_plan.h"

namespace pipelab {

namespace {

namespace k = kernels::cpu;
using Clock = std::chrono::steady_clock;

using cpu_detail::float_bytes;
using cpu_detail::Held;
using cpu_detail::MicrobatchState;
using cpu_detail::Stage;

// The payload of a cpu transfer: the filled buffer, charged to the receiver.
struct CpuPayload {
  Held buffer;
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(const RunConfig& config, const Partition& partition, int microbatches, int only_stage)
      : only_stage_(only_stage),
        spec_(config.model),
        remat_(config.remat),
        gemm_(config.cpu.gemm),
        partition_(partition),
        batch_(make_batch(config.model)),
        microbatches_(microbatch_rows(config.model.batch, microbatches)),
        origin_(Clock::now()) {
    // One Stage per (device, chunk), slot d·v + c: the device's stage of its replica
    // (every layer, for data parallelism), one per model chunk it holds.
    const int K = partition.devices();
    const int v = partition.chunks;
    stages_.resize(static_cast<std::size_t>(K) * v);
    for (int d = 0; d < K; ++d) {
      memory_.push_back(std::make_unique<DeviceMemory>(d, [this] { return now_us(); }));
      for (int c = 0; c < v; ++c) {
        Stage& st = stages_[partition.slot(d, c)];
        const int stage = partition.stage_on(d, c);
        st.index = d;
        st.chunk = c;
        st.first_stage = partition.first_on(d, c);
        st.first_layer = partition.first_layer(stage);
        st.memory_plan = plan_stage_memory(spec_, partition, d, remat_, c);
        st.mb.resize(microbatches_.rows.size());
        if (only_stage_ >= 0 && d != only_stage_) continue;  // another rank's device
        for (int l = partition.first_layer(stage); l < partition.end_layer(stage); ++l) {
          st.params.push_back(init_block(spec_, l));
          st.grads.push_back(zero_block(spec_));
          // One block's parameters, then its gradients (same shapes).
          st.resident.push_back(memory_[d]->charge(MemoryCategory::Params, st.memory_plan.block_params_bytes()));
          st.resident.push_back(memory_[d]->charge(MemoryCategory::Grads, st.memory_plan.block_params_bytes()));
        }
      }
    }
  }

  std::string name() const override { return "cpu"; }
  std::vector<std::string> device_names() const override {
    std::vector<std::string> names;
    // Which GEMM ran ("reference avx2-fma", "blas OpenBLAS 0.3.21 ..."): it changes the
    // last bits of the results, and the speed.
    const std::string gemm = k::gemm_impl_description(gemm_);
    for (int d = 0; d < partition_.devices(); ++d)
      names.push_back((only_stage_ >= 0 ? "cpu process " : "cpu thread ") + std::to_string(d) + ", gemm " + gemm);
    return names;
  }

  void begin_step() override {
    // Every step computes the same first step: zero gradients and loss (the stashes
    // are empty after a step: B and the sends release them). From the second step on,
    // the memory books restart from what is resident (params, grads).
    for (Stage& st : stages_) {
      for (BlockParams& g : st.grads)
        for_each_tensor(g, [](const char*, std::vector<float>& t) { std::fill(t.begin(), t.end(), 0.f); });
      st.loss = 0;
    }
    if (steps_begun_++ > 0)
      for (auto& mem : memory_) mem->restart();
    origin_ = Clock::now();
  }

  bool supports_warm_up() const override { return true; }
  // Warm-up: SGD with learning rate 0 (θ − 0·g = θ exactly), the same work.
  void set_warm_up(bool on) override { warm_up_ = on; }

  Span compute(const Action& a) override {
    // Thread CPU time beside the wall span: their ratio says how long this worker
    // was on a core (docs/metrics.md, on-core fraction).
    const double cpu_start = thread_cpu_us();
    const double start = now_us();
    switch (a.kind) {
      case ActionKind::Forward: forward(a, /*recompute=*/false); break;
      case ActionKind::Recompute: forward(a, /*recompute=*/true); break;
      case ActionKind::Backward:
        cpu_detail::stage_backward(stage_of(a), *memory_[a.stage], step_data(), a.microbatch);
        break;
      case ActionKind::BackwardInput:  // cpu_backward.cpp: the split backward's I, then its W
        cpu_detail::stage_backward_input(stage_of(a), *memory_[a.stage], step_data(), a.microbatch);
        break;
      case ActionKind::BackwardWeight:
        if (is_batched_weight(a))  // --w-batch: one W over every micro-batch's rows
          cpu_detail::stage_backward_weight_batch(stage_of(a), *memory_[a.stage], step_data());
        else
          cpu_detail::stage_backward_weight(stage_of(a), step_data(), a.microbatch);
        break;
      case ActionKind::OptimizerStep: optimizer_step(a.stage); break;  // every chunk of the device
      default: PIPELAB_THROW("compute() called with " + to_string(a), "executor bug: please report");
    }
    const double end = now_us();
    return {start, end, thread_cpu_us() - cpu_start};
  }

  Transfer send(const Action& a) override {
    const bool activation = a.kind == ActionKind::SendActivation;
    MicrobatchState& mb = stage_of(a).mb[a.microbatch];
    Held& source = activation ? mb.output : mb.grad_input;
    const int to = matching_recv(a, partition_.chunk_map()).stage;  // the receiving device
    Transfer t;
    t.send = a;
    t.bytes = float_bytes(source.data.size());  // boundary_bytes(spec_, rows)
    t.span.start_us = now_us();
    // The copy into the receiver's memory is the communication: a received
    // activation is the next stage's input (Stash), a gradient a Buffer.
    auto payload = std::make_shared<CpuPayload>();
    if (only_stage_ >= 0) {
      // Another process receives it: the tensor itself becomes the send buffer, the
      // sender's until the transport's send completes (no copy here; MPI copies).
      payload->buffer.hold(*memory_[a.stage], MemoryCategory::Buffers, std::move(source.data));
    } else {
      payload->buffer.hold(*memory_[to], activation ? MemoryCategory::Stash : MemoryCategory::Buffers,
                           std::vector<float>(source.data.size()));
      std::memcpy(payload->buffer.data.data(), source.data.data(), t.bytes);
    }
    t.span.end_us = now_us();
    source.release();  // the sender's copy is no longer needed
    t.payload = std::move(payload);
    return t;
  }

  Span receive(const Action& a, Transfer& t) override {
    auto payload = std::static_pointer_cast<CpuPayload>(t.payload);
    MicrobatchState& mb = stage_of(a).mb[a.microbatch];
    Held& target = a.kind == ActionKind::RecvActivation ? mb.input : mb.grad_output;
    target = std::move(payload->buffer);
    return t.span;
  }

  WireBytes wire_bytes(Transfer& t) override {
    auto payload = std::static_pointer_cast<CpuPayload>(t.payload);
    return {payload->buffer.data.data(), float_bytes(payload->buffer.data.size())};
  }

  Transfer wire_transfer(const Action& recv, WireBytes& into) override {
    // The receiver's buffer: (rows of the micro-batch, d) floats, charged as send() charges
    // a received tensor in one process (an activation is the stage's input: Stash).
    const bool activation = recv.kind == ActionKind::RecvActivation;
    const std::size_t n = static_cast<std::size_t>(microbatches_.rows.at(recv.microbatch)) * spec_.width;
    auto payload = std::make_shared<CpuPayload>();
    payload->buffer.hold(*memory_[recv.stage], activation ? MemoryCategory::Stash : MemoryCategory::Buffers,
                         std::vector<float>(n));
    Transfer t;
    t.send = matching_send(recv, partition_.chunk_map());
    t.bytes = float_bytes(n);
    into = {payload->buffer.data.data(), t.bytes};
    t.payload = std::move(payload);
    return t;
  }

  std::vector<WireBytes> gradient_wire(int device) override {
    // In place: the transport's sum overwrites this device's own gradients (every chunk).
    std::vector<WireBytes> wire;
    for (int c = 0; c < partition_.chunks; ++c)
      for (const cpu_detail::Piece& p : cpu_detail::gradient_pieces(stages_[partition_.slot(device, c)]))
        wire.push_back({p.data, float_bytes(p.size)});
    return wire;
  }

  std::optional<Clock::time_point> time_origin() const override { return origin_; }

  Transfer all_reduce(const Action& a, Rendezvous& together) override {
    return cpu_detail::all_reduce_grads(stages_, partition_, a, together, [this] { return now_us(); });
  }

  DeviceMemory& memory(int device) override { return *memory_.at(device); }

  std::optional<StepNumerics> numerics() const override {
    // The loss is summed over the devices that compute one (the last stage of every
    // replica); the parameters and gradients are replica 0's, which every replica
    // must equal after the all-reduce and the SGD step (checked: a mismatch is a bug).
    // As one rank (only_stage_), the replica of the rank's device, and only its stages
    // hold anything: the runtime gathers and checks the ranks (runtime/spmd/).
    StepNumerics n;
    for (const Stage& st : stages_)
      if (partition_.last_on(st.index, st.chunk)) n.loss += st.loss;
    const int replica = only_stage_ >= 0 ? only_stage_ / partition_.pipeline_devices() : 0;
    // The replica's stages in layer order: virtual stage vs is chunk_of(vs) of device_of(vs).
    const ChunkMap map = partition_.chunk_map();
    for (int vs = 0; vs < partition_.stages(); ++vs) {
      const int device = replica * partition_.pipeline_devices() + map.device_of(vs);
      const Stage& st = stages_[partition_.slot(device, map.chunk_of(vs))];
      n.grads.insert(n.grads.end(), st.grads.begin(), st.grads.end());
      n.params.insert(n.params.end(), st.params.begin(), st.params.end());
    }
    if (only_stage_ < 0) cpu_detail::check_replicas_agree(stages_, partition_);
    return n;
  }

 private:
  // CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), µs.
  static double thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
  }

  double now_us() const {
    // µs since the step's origin; setup before begin_step() is clamped to 0.
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - origin_).count();
    return us < 0 ? 0 : us;
  }

  // The Stage an action runs on: its device's chunk (slot device·v + chunk).
  Stage& stage_of(const Action& a) {
    return stages_[partition_.slot(a.stage, a.chunk)];
  }

  // What the stage math reads (cpu_stage.h).
  cpu_detail::StepData step_data() const { return {spec_, gemm_, batch_, microbatches_}; }

  // F (recompute = false) or R (recompute = true) of one micro-batch on a stage.
  void forward(const Action& a, bool recompute) {
    const int m = a.microbatch;
    Stage& st = stage_of(a);
    MicrobatchState& mb = st.mb[m];
    DeviceMemory& mem = *memory_[a.stage];
    const bool last = partition_.last_on(a.stage, a.chunk);
    const int rows = microbatches_.rows[m];
    const int offset = microbatches_.offsets[m];
    const std::size_t n = static_cast<std::size_t>(rows) * spec_.width;
    if (st.first_stage && !recompute) {
      // Stage 0 reads its micro-batch's rows of the batch (rows offset ..).
      const float* src = batch_.inputs.data() + static_cast<std::size_t>(offset) * spec_.width;
      mb.input.hold(mem, MemoryCategory::Stash, std::vector<float>(src, src + n));
    }
    if (mb.input.data.size() != n)
      PIPELAB_THROW(to_string(a) +
                        ": no input for this micro-batch",
                    "the schedule must receive the activation before F / keep it until R");
    const int blocks = static_cast<int>(st.params.size());
    // Workspace: the running x and y (b, d) of the block loop.
    const MemoryCharge workspace = mem.charge(MemoryCategory::Buffers, 2 * float_bytes(n));
    mb.activations.clear();
    for (int i = 0; i < blocks; ++i) {
      if (st.spare_activations.empty()) {
        mb.activations.emplace_back();
      } else {
        mb.activations.push_back(std::move(st.spare_activations.back()));
        st.spare_activations.pop_back();
      }
    }
    mb.block_inputs.clear();
    mb.block_inputs.resize(blocks > 0 ? blocks - 1 : 0);
    std::vector<float> x = mb.input.data, y(n);
    for (int i = 0; i < blocks; ++i) {
      block_forward(spec_, st.params[i], x.data(), rows, mb.activations[i], y.data(), gemm_);
      if (i + 1 < blocks) {
        mb.block_inputs[i].hold(mem, MemoryCategory::Stash, y);
        x.swap(y);
      }
    }
    const std::vector<float>& out = y;  // the last block's output
    // a and g of every block (their inputs are charged as `input` / `block_inputs`).
    mb.activation_charge = mem.charge(MemoryCategory::Stash, st.memory_plan.activations_bytes(rows));
    if (last) {
      // Logits stay for the loss backward; the loss is summed once (not on recompute).
      mb.output.hold(mem, MemoryCategory::Stash, out);
      if (!recompute) {
        const float scale = microbatch_loss_scale(rows, spec_.batch);  // ex03
        st.loss += k::softmax_xent_forward(mb.output.data.data(), batch_.labels.data() + offset,
                                           rows, spec_.width, scale);
      }
    } else if (!recompute) {
      mb.output.hold(mem, MemoryCategory::Buffers, out);  // until SendActivation
    }
    if (remat_ && !recompute) cpu_detail::drop_activations(st, mb, last);
  }

  void optimizer_step(int device) {
    const float lr = warm_up_ ? 0.f : spec_.learning_rate;
    for (int c = 0; c < partition_.chunks; ++c) {
      Stage& st = stages_[partition_.slot(device, c)];
      for (std::size_t i = 0; i < st.params.size(); ++i) sgd_update(st.params[i], st.grads[i], lr);
    }
  }

  int only_stage_;  // >= 0: one rank of a multi-process run, holding this stage only
  ModelSpec spec_;
  bool remat_;
  k::GemmImpl gemm_;  // who computes the GEMMs (--gemm)
  Partition partition_;
  Batch batch_;
  MicrobatchRows microbatches_;
  Clock::time_point origin_;
  bool warm_up_ = false;   // set_warm_up(): SGD with learning rate 0
  int steps_begun_ = 0;    // begin_step() calls so far
  std::vector<std::unique_ptr<DeviceMemory>> memory_;
  std::vector<Stage> stages_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches, int only_stage) {
  // Refuse a step that cannot fit before allocating: params + grads (2 · 4 · L ·
  // (2dh + h + d)) plus, at worst, every block's stash for the whole batch
  // (GPipe keeps all micro-batches: L · B · (d + 2h) · 4), against physical memory.
  const ModelSpec& s = config.model;
  // Data parallelism holds the params and grads once per replica.
  const double need = 8.0 * s.layers * static_cast<double>(block_param_count(s)) * partition.replicas +
                      static_cast<double>(s.layers) * static_cast<double>(block_stash_bytes(s, s.batch));
  const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  if (have > 0 && need > 0.8 * have)
    PIPELAB_THROW("the cpu backend needs about " + std::to_string(static_cast<long long>(need / 1048576)) +
                      " MiB for this model but the machine has " +
                      std::to_string(static_cast<long long>(have / 1048576)) + " MiB",
                  "use a smaller --width/--hidden/--layers/--batch, --remat, or --backend sim");
  if (!k::gemm_impl_available(config.cpu.gemm))
    PIPELAB_THROW(std::string("the cpu GEMM '") + k::to_string(config.cpu.gemm) + "' is not in this build: " +
                      k::gemm_impl_unavailable_reason(config.cpu.gemm),
                  "use --gemm reference, or install libopenblas-pthread-dev (scripts/install-deps) and rebuild");
  return std::make_unique<CpuBackend>(config, partition, microbatches, only_stage);
}

}  // namespace pipelab
