// step_trace.cpp — the end of a step, shared by both engines (see step_trace.h).
#include "step_trace.h"

#include "pipelab/runtime/memory.h"
#include "pipelab/schedule/registry.h"

namespace pipelab::detail {

TraceEvent make_event(int device, Lane lane, const Action& a, Span span, std::uint64_t bytes) {
  TraceEvent e;
  e.device = device;
  e.lane = lane;
  e.action = a;
  e.start_us = span.start_us;
  e.dur_us = span.end_us - span.start_us;
  e.bytes = bytes;
  e.cpu_us = static_cast<float>(span.cpu_us);
  return e;
}

Lane lane_of(ActionKind kind) {
  switch (kind) {
    case ActionKind::SendActivation:
    case ActionKind::SendGrad:
    case ActionKind::AllReduceGrads:  // a collective's bytes are communication
      return Lane::Send;
    case ActionKind::RecvActivation:
    case ActionKind::RecvGrad:
      return Lane::Recv;
    default:
      return Lane::Compute;
  }
}

LaneSlots lane_slots(const Schedule& schedule) {
  LaneSlots slots;
  slots.first.resize(schedule.per_stage.size());
  for (std::size_t d = 0; d < schedule.per_stage.size(); ++d) {
    std::array<std::size_t, kLaneCount> count{};
    for (const Action& a : schedule.per_stage[d]) ++count[static_cast<int>(lane_of(a.kind))];
    for (int lane = 0; lane < kLaneCount; ++lane) {
      slots.first[d][lane] = slots.total;
      slots.total += count[lane];
    }
  }
  return slots;
}

void fill_step_meta(const Schedule& schedule, const std::string& backend, std::vector<std::string> device_names,
                    Trace& trace) {
  trace.meta.schedule_kind = schedule.kind;
  trace.meta.remat = schedule.remat;
  trace.meta.w_batch = schedule.w_batch;
  trace.meta.backend = backend;
  trace.meta.devices = static_cast<int>(schedule.per_stage.size());
  trace.meta.microbatches = schedule.microbatches;
  trace.meta.device_names = std::move(device_names);
  const Theory theory = schedule_theory(schedule);
  trace.meta.theory_utilization = theory.utilization;
  trace.meta.theory_bubble_fraction = theory.bubble_fraction;
}

namespace {

// Metadata, memory samples and peaks, the canonical order: the end of every step.
void finish_trace(const Schedule& schedule, Backend& backend, Trace& trace) {
  const int devices = static_cast<int>(schedule.per_stage.size());
  fill_step_meta(schedule, backend.name(), backend.device_names(), trace);
  for (int d = 0; d < devices; ++d) {
    DeviceMemory& mem = backend.memory(d);
    mem.check_consistent();
    std::vector<MemorySample> samples = mem.take_samples();
    trace.memory.insert(trace.memory.end(), samples.begin(), samples.end());
    trace.peak_memory.push_back(mem.peak());
  }
  trace.sort();
}

}  // namespace

Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<std::vector<TraceEvent>>& events) {
  Trace trace;
  std::size_t total = 0;
  for (const auto& per_device : events) total += per_device.size();
  trace.events.reserve(total);
  // Each device's list is copied lane by lane (the canonical order's layout, so the
  // sort only sorts each lane's run), then freed.
  for (auto& per_device : events) {
    for (int lane = 0; lane < kLaneCount; ++lane)
      for (const TraceEvent& e : per_device)
        if (static_cast<int>(e.lane) == lane) trace.events.push_back(e);
    std::vector<TraceEvent>().swap(per_device);
  }
  finish_trace(schedule, backend, trace);
  return trace;
}

Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<TraceEvent>&& events) {
  Trace trace;
  trace.events = std::move(events);
  finish_trace(schedule, backend, trace);
  return trace;
}

}  // namespace pipelab::detail
