// replay_backend.cpp — measured costs through the schedule again, in virtual time
// (see replay.h). The clocks work like the sim's: a compute action advances its
// device's clock by its cost; a transfer starts when its sender reached it and the
// sender's link in that direction is free.
#include <algorithm>
#include <array>

#include "pipelab/backends/replay.h"
#include "pipelab/error.h"
#include "pipelab/runtime/memory.h"
#include "pipelab/statistics.h"

namespace pipelab {

MeasuredCosts measured_costs(const Trace& measured) { return measured_costs(std::vector<const Trace*>{&measured}); }

MeasuredCosts measured_costs(const std::vector<const Trace*>& steps) {
  if (steps.empty() || steps.front()->events.empty())
    PIPELAB_THROW("cannot replay a step with no events", "replay the trace of a step that ran");
  const Trace& first = *steps.front();
  MeasuredCosts costs;
  costs.measured_backend = first.meta.backend;
  costs.sender_busy = first.meta.backend == "cpu";
  // Thread CPU time is what an action costs on a core of its own; use it when every
  // compute action of every step has one (the cpu backend records it), never a mix.
  bool all_cpu = true;
  for (const Trace* step : steps)
    for (const TraceEvent& e : step->events)
      if (e.lane == Lane::Compute && !(e.cpu_us >= 0)) all_cpu = false;
  costs.cpu_time = all_cpu;
  // Every measurement of each action, then its median: one disturbed step (a cache
  // flushed by a preemption, a neighbour on the machine) moves one of N samples.
  std::unordered_map<std::uint64_t, std::vector<double>> compute, transfer;
  for (const Trace* step : steps)
    for (const TraceEvent& e : step->events) {
      if (e.lane == Lane::Compute)
        compute[action_key(e.action)].push_back(all_cpu ? e.cpu_us : e.dur_us);
      else if (e.lane == Lane::Send)
        transfer[action_key(e.action)].push_back(e.dur_us);
    }
  for (auto& [key, samples] : compute) costs.compute_us[key] = median_of(std::move(samples));
  for (auto& [key, samples] : transfer) costs.transfer_us[key] = median_of(std::move(samples));
  return costs;
}

namespace {

class ReplayBackend final : public Backend {
 public:
  ReplayBackend(MeasuredCosts costs, int devices)
      : costs_(std::move(costs)), clock_(devices, 0.0), link_free_(devices, {0.0, 0.0}) {
    settle_at_.assign(devices, -1.0);
    for (int d = 0; d < devices; ++d)
      memory_.push_back(std::make_unique<DeviceMemory>(d, [this, d] { return clock_[d]; }));
  }

  std::string name() const override { return "replay"; }
  std::vector<std::string> device_names() const override {
    std::vector<std::string> names;
    for (std::size_t d = 0; d < clock_.size(); ++d)
      names.push_back("replay of " + costs_.measured_backend + " device " + std::to_string(d) +
                      (costs_.cpu_time ? " (thread CPU time, dedicated core)" : " (measured spans)"));
    return names;
  }
  void begin_step() override {}
  bool virtual_time() const override { return true; }

  Span compute(const Action& a) override {
    const int d = a.stage;
    settle(d);
    const Span span{clock_[d], clock_[d] + cost(costs_.compute_us, a)};
    clock_[d] = span.end_us;
    return span;
  }

  Transfer send(const Action& a) override {
    const int d = a.stage;
    settle(d);
    double& link_free = link_free_[d][a.kind == ActionKind::SendActivation ? 0 : 1];
    Transfer t;
    t.send = a;
    t.span.start_us = std::max(clock_[d], link_free);
    t.span.end_us = t.span.start_us + cost(costs_.transfer_us, a);
    link_free = t.span.end_us;
    if (costs_.sender_busy) clock_[d] = t.span.end_us;  // the sender's thread did the copy
    return t;
  }

  Span receive(const Action& a, Transfer& t) override {
    settle(a.stage);
    clock_[a.stage] = std::max(clock_[a.stage], t.span.end_us);
    return t.span;
  }

  Transfer all_reduce(const Action& a, Rendezvous& together) override {
    // As the sim's (sim_backend.cpp): it starts when the last device got there, read
    // between two meetings; each device takes its own measured span of the collective,
    // its end applied at the device's next action (settle).
    Transfer t;
    t.send = a;
    if (!together.arrive_and_wait()) return t;
    t.span.start_us = *std::max_element(clock_.begin(), clock_.end());
    if (!together.arrive_and_wait()) return t;
    t.span.end_us = t.span.start_us + cost(costs_.transfer_us, a);
    settle_at_[a.stage] = t.span.end_us;
    return t;
  }

  DeviceMemory& memory(int device) override { return *memory_.at(device); }
  std::optional<StepNumerics> numerics() const override { return std::nullopt; }

 private:
  // The device's clock catches up with its all-reduce's end (all_reduce).
  void settle(int d) {
    if (settle_at_[d] >= 0) {
      clock_[d] = std::max(clock_[d], settle_at_[d]);
      settle_at_[d] = -1.0;
    }
  }

  static double cost(const std::unordered_map<std::uint64_t, double>& table, const Action& a) {
    const auto it = table.find(action_key(a));
    if (it == table.end())
      PIPELAB_THROW("replay: no measured cost for " + to_string(a),
                    "replay the schedule whose trace gave the costs");
    return it->second;
  }

  MeasuredCosts costs_;
  std::vector<double> clock_;                     // per device virtual time, µs
  // Per device: the end of its all-reduce part, applied at its next action; -1: none.
  std::vector<double> settle_at_;
  std::vector<std::array<double, 2>> link_free_;  // per sender: [down, up] link free time
  std::vector<std::unique_ptr<DeviceMemory>> memory_;
};

}  // namespace

std::unique_ptr<Backend> make_replay_backend(MeasuredCosts costs, int devices) {
  if (devices < 1) PIPELAB_THROW("replay needs at least one device", "replay a measured step");
  return std::make_unique<ReplayBackend>(std::move(costs), devices);
}

}  // namespace pipelab
