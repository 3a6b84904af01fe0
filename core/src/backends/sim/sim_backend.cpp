// sim_backend.cpp — discrete-event simulation of a pipeline step.
//
// Cost model (documented in docs/, labelled "sim" wherever shown):
//   compute time = FLOPs / device rate × stage skew, FLOPs (--sim-costs flops, the default):
//     F = Σ_layers block_forward_flops(b) (+ ⅔ of the loss on the last stage)
//     B = Σ_layers block_backward_flops(b) (+ ⅓ of the loss on the last stage)
//     I = Σ_layers block_backward_input_flops(b) (+ ⅓ of the loss on the last stage:
//         the loss backward starts the input gradient, as it starts B)
//     W = Σ_layers block_backward_weight_flops(b)          (I + W = B exactly)
//       a whole-batch W (--w-batch) = Σ_micro-batches of that: every FLOP priced alike
//     R = Σ_layers block_forward_flops(b)
//     OptimizerStep = 2 FLOPs per parameter (read grad, update)
//   or (--sim-costs unit, the theory's costs) F = R = I = W = one unit per layer, B = 2,
//     a unit = 4·b·d·h, the forward's GEMM FLOPs; loss and optimizer free
//   transfer time = latency + bytes · 8 / bandwidth  (0 for ideal links; 0 and no bytes for
//     a hand-over between two chunks of one device, zbv's V)
//   gradient all-reduce (data parallelism) = a ring over the K devices:
//     2(K-1) · (latency + (G/K) · 8 / bandwidth), from when the last device reached it
// Sends are asynchronous (a copy engine): the sender's clock does not advance;
// the transfer starts when both the sender reached it and the link is free.
// A receive advances the receiver's clock to max(its clock, arrival).
// Memory is the stage's StageMemoryPlan (model/memory_plan.h), which the cpu and
// cuda backends charge by too: params and grads for the stage's layers; per
// micro-batch the block stash (or only the stage input under remat) from the start
// of F (or R) to the end of B — or, for a micro-batch whose backward is split, to the
// end of W (W still reads every block's x and g), plus I's dy and da from the start of
// I to the end of W — with --w-batch to the end of the stage's one whole-batch W.
#include <algorithm>
#include <map>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/model/memory_plan.h"
#include "pipelab/schedule/data_parallel.h"

namespace pipelab {

namespace {

class SimBackend final : public Backend {
 public:
  SimBackend(const RunConfig& config, const Partition& partition, int microbatches)
      : config_(config),
        spec_(config.model),
        partition_(partition),
        rows_(split_microbatches(config.model.batch, microbatches)),
        clock_(partition.devices(), 0.0),
        link_free_(partition.devices(), {0.0, 0.0}),
        stash_(static_cast<std::size_t>(partition.devices()) * partition.chunks),
        weight_stash_(static_cast<std::size_t>(partition.devices()) * partition.chunks) {
    settle_at_.assign(partition.devices(), -1.0);
    const int K = partition.devices();
    for (int d = 0; d < K; ++d) {
      memory_.push_back(std::make_unique<DeviceMemory>(d, [this, d] { return clock_[d]; }));
      // One plan per (device, chunk), slot d·v + c: each chunk is a stage of its own.
      for (int c = 0; c < partition.chunks; ++c) {
        const std::size_t slot = partition.slot(d, c);
        plans_.push_back(plan_stage_memory(spec_, partition, d, config.remat, c));
        // Params and grads of the chunk's layers (fp32), held for the whole step.
        resident_.push_back(memory_[d]->charge(MemoryCategory::Params, plans_[slot].params_bytes()));
        resident_.push_back(memory_[d]->charge(MemoryCategory::Grads, plans_[slot].grads_bytes()));
        stash_[slot].resize(rows_.size());
      }
    }
  }

  std::string name() const override { return "sim"; }
  std::vector<std::string> device_names() const override {
    std::vector<std::string> names;
    for (int d = 0; d < partition_.devices(); ++d)
      names.push_back("sim device " + std::to_string(d) + " (" +
                      format_rate(config_.sim.device_tflops) + " TFLOP/s)");
    return names;
  }

  void begin_step() override {}
  bool virtual_time() const override { return true; }

  Span compute(const Action& a) override {
    const int d = a.stage;
    const std::size_t k = slot(a);  // the device's chunk
    settle(d);
    const Span span{clock_[d], clock_[d] + compute_us(a)};
    switch (a.kind) {
      case ActionKind::Forward:
        // The forward allocates its stash (all block activations, or the input only).
        stash_[k][a.microbatch].forward =
            memory_[d]->charge(MemoryCategory::Stash, plans_[k].forward_stash_bytes(rows_[a.microbatch]));
        break;
      case ActionKind::Recompute:
        stash_[k][a.microbatch].recompute =
            memory_[d]->charge(MemoryCategory::Stash, plans_[k].recompute_stash_bytes(rows_[a.microbatch]));
        break;
      case ActionKind::BackwardInput:
        // I allocates what W reads: every block's dy and da. Kept in a table of its own,
        // sized on the first I, so schedules without a split backward pay nothing for it.
        if (weight_stash_[k].empty()) weight_stash_[k].resize(rows_.size());
        weight_stash_[k][a.microbatch] =
            memory_[d]->charge(MemoryCategory::Stash, plans_[k].weight_stash_bytes(rows_[a.microbatch]));
        break;
      default:
        break;
    }
    clock_[d] = span.end_us;
    // Freed at the end of the backward's last half: B, or W of a split backward (I frees
    // nothing: W still reads F's stash). F's stash, then R's, then I's. A whole-batch W
    // (--w-batch) frees every micro-batch's.
    if (is_batched_weight(a)) {
      for (MicrobatchStash& held : stash_[k]) {
        held.forward.reset();
        held.recompute.reset();
      }
      for (MemoryCharge& held : weight_stash_[k]) held.reset();
    } else if (a.kind == ActionKind::Backward || a.kind == ActionKind::BackwardWeight) {
      stash_[k][a.microbatch].forward.reset();
      stash_[k][a.microbatch].recompute.reset();
      if (a.kind == ActionKind::BackwardWeight && !weight_stash_[k].empty()) weight_stash_[k][a.microbatch].reset();
    }
    return span;
  }

  Transfer send(const Action& a) override {
    const int d = a.stage;
    settle(d);
    const bool downstream = a.kind == ActionKind::SendActivation;
    double& link_free = downstream ? link_free_[d][0] : link_free_[d][1];
    Transfer t;
    t.send = a;
    // A hand-over between two chunks of one device (the bottom of zbv's V) crosses no
    // link: it arrives when it is sent and moves no bytes over the wire.
    if (matching_recv(a, partition_.chunk_map()).stage == d) {
      t.span.start_us = t.span.end_us = clock_[d];
      return t;
    }
    // Activations and gradients at a stage boundary are both (b, d) fp32.
    t.bytes = boundary_bytes(spec_, rows_[a.microbatch]);
    t.span.start_us = std::max(clock_[d], link_free);
    t.span.end_us = t.span.start_us + transfer_us(static_cast<double>(t.bytes));
    link_free = t.span.end_us;
    return t;
  }

  Span receive(const Action& a, Transfer& t) override {
    const int d = a.stage;
    settle(d);
    clock_[d] = std::max(clock_[d], t.span.end_us);
    return t.span;
  }

  Transfer all_reduce(const Action& a, Rendezvous& together) override {
    const int d = a.stage;
    const int K = static_cast<int>(clock_.size());
    Transfer t;
    t.send = a;
    // It starts when the last device got there. The threaded executor's workers meet
    // first (every clock is its arrival time) and again once all have read them; the
    // event engine calls every part once all have arrived, in turn. So a part never
    // moves its own clock: its end applies at the device's next action (settle).
    if (!together.arrive_and_wait()) return t;
    t.span.start_us = *std::max_element(clock_.begin(), clock_.end());
    if (!together.arrive_and_wait()) return t;
    // A ring: K - 1 reduce-scatter steps, then K - 1 all-gather steps, each sending
    // 1/K of the gradients to the next device and receiving 1/K from the previous one,
    // all links busy at once: 2(K-1) · (latency + (G/K) · 8 / bandwidth), 2(K-1)/K · G
    // bytes sent per device (schedule/data_parallel.h).
    const double gradient_bytes = static_cast<double>(plans_[slot(a)].grads_bytes());  // one chunk: DP
    t.bytes = static_cast<std::uint64_t>(ring_all_reduce_bytes(K, gradient_bytes));
    t.span.end_us = t.span.start_us + (K > 1 ? 2.0 * (K - 1) * transfer_us(gradient_bytes / K) : 0.0);
    settle_at_[d] = t.span.end_us;
    return t;
  }

  DeviceMemory& memory(int device) override { return *memory_.at(device); }
  std::optional<StepNumerics> numerics() const override { return std::nullopt; }

 private:
  // Where an action's chunk keeps its plan and stash: slot device·v + chunk.
  std::size_t slot(const Action& a) const { return partition_.slot(a.stage, a.chunk); }

  // The device's clock catches up with its all-reduce's end (all_reduce).
  void settle(int d) {
    if (settle_at_[d] >= 0) {
      clock_[d] = std::max(clock_[d], settle_at_[d]);
      settle_at_[d] = -1.0;
    }
  }

  double compute_us(const Action& a) const {
    const int s = a.stage;  // the device; its chunk's stage is stage_on(s, chunk)
    const int layers = partition_.layer_count(partition_.stage_on(s, a.chunk));
    const double flops = config_.sim.costs == SimCosts::Unit ? unit_flops(a, layers) : action_flops(a, layers);
    const double skew = config_.sim.stage_skew.empty() ? 1.0 : config_.sim.stage_skew.at(s);
    // time (µs) = FLOPs / (TFLOP/s · 1e12) · 1e6
    return flops / (config_.sim.device_tflops * 1e6) * skew;
  }

  // --sim-costs unit: the theory's F:I:W = 1:1:1 (B = 2). One unit is a layer's forward
  // GEMM FLOPs on the micro-batch's rows, 4·b·d·h (two GEMMs of 2·b·d·h), so a unit
  // run's times stay near the FLOP-priced ones; the loss and the optimizer are free.
  double unit_flops(const Action& a, int layers) const {
    const auto units = [&](int rows) { return layers * 4.0 * rows * spec_.width * spec_.hidden; };
    switch (a.kind) {
      case ActionKind::Forward:
      case ActionKind::Recompute:
      case ActionKind::BackwardInput:
        return units(rows_[a.microbatch]);
      case ActionKind::Backward:
        return 2.0 * units(rows_[a.microbatch]);
      case ActionKind::BackwardWeight:  // the whole-batch W: the units of every row of the batch
        return units(is_batched_weight(a) ? spec_.batch : rows_[a.microbatch]);
      default:
        return 0.0;  // OptimizerStep: free, as the theory has it
    }
  }

  // --sim-costs flops (the default): each action's FLOP count (model/model.h).
  double action_flops(const Action& a, int layers) const {
    const int s = a.stage;
    const bool last = partition_.last_on(s, a.chunk);
    const bool with_loss = last && config_.sim.count_loss;
    double flops = 0;
    switch (a.kind) {
      case ActionKind::Forward:
        flops = layers * block_forward_flops(spec_, rows_[a.microbatch]);
        if (with_loss) flops += loss_flops(spec_, rows_[a.microbatch]) * 2.0 / 3.0;
        break;
      case ActionKind::Backward:
        flops = layers * block_backward_flops(spec_, rows_[a.microbatch]);
        if (with_loss) flops += loss_flops(spec_, rows_[a.microbatch]) / 3.0;
        break;
      case ActionKind::BackwardInput:  // the loss backward is where the input gradient starts
        flops = layers * block_backward_input_flops(spec_, rows_[a.microbatch]);
        if (with_loss) flops += loss_flops(spec_, rows_[a.microbatch]) / 3.0;
        break;
      case ActionKind::BackwardWeight:
        if (!is_batched_weight(a)) {
          flops = layers * block_backward_weight_flops(spec_, rows_[a.microbatch]);
          break;
        }
        // The whole-batch W (--w-batch): the sum of the micro-batches' W FLOPs. The sim prices
        // every FLOP alike, so one GEMM of k = B rows costs what M of k = B/M do: no gain here.
        for (int rows : rows_) flops += layers * block_backward_weight_flops(spec_, rows);
        break;
      case ActionKind::Recompute:
        flops = layers * block_forward_flops(spec_, rows_[a.microbatch]);
        break;
      case ActionKind::OptimizerStep:
        flops = config_.sim.count_optimizer ? 2.0 * block_param_count(spec_) * layers : 0.0;
        break;
      default:
        break;
    }
    return flops;
  }

  double transfer_us(double bytes) const {
    // latency + bytes · 8 bit / (Gbit/s · 1e9) · 1e6 µs; bandwidth 0 = infinite.
    double us = config_.sim.link_latency_us;
    if (config_.sim.link_gbps > 0) us += bytes * 8.0 / (config_.sim.link_gbps * 1e3);
    return us;
  }

  static std::string format_rate(double tflops) {
    std::string s = std::to_string(tflops);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  RunConfig config_;
  ModelSpec spec_;
  Partition partition_;
  std::vector<int> rows_;
  std::vector<double> clock_;                    // per device virtual time, µs
  // Per device: the end of its all-reduce part, applied to its clock at its next action
  // (settle), so every part of one all-reduce reads the devices' arrival times; -1: none.
  std::vector<double> settle_at_;
  std::vector<std::array<double, 2>> link_free_;  // per sender: [down, up] link free time
  std::vector<std::unique_ptr<DeviceMemory>> memory_;
  std::vector<StageMemoryPlan> plans_;           // per (device, chunk) slot: what its stage holds
  std::vector<MemoryCharge> resident_;
  // What one micro-batch holds on one device between F and B: at most two charges,
  // kept inline (a K=1024, M=1024 step has a million of them).
  struct MicrobatchStash {
    MemoryCharge forward;    // charged by F: the full stash, or the input under remat
    MemoryCharge recompute;  // charged by R: the rest of the stash
  };
  std::vector<std::vector<MicrobatchStash>> stash_;  // [device][mb]
  // [device][mb]: charged by I, what W reads (every block's dy and da); empty on a device
  // until its first I.
  std::vector<std::vector<MemoryCharge>> weight_stash_;
};

}  // namespace

std::unique_ptr<Backend> make_sim_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches) {
  return std::make_unique<SimBackend>(config, partition, microbatches);
}

}  // namespace pipelab
