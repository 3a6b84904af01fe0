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
  e.cpu_us = span.cpu_us;
  return e;
}

Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<std::vector<TraceEvent>>& events) {
  const int devices = static_cast<int>(schedule.per_stage.size());
  Trace trace;
  trace.meta.schedule_kind = schedule.kind;
  trace.meta.remat = schedule.remat;
  trace.meta.backend = backend.name();
  trace.meta.devices = devices;
  trace.meta.microbatches = schedule.microbatches;
  trace.meta.device_names = backend.device_names();
  const Theory theory = schedule_theory(schedule);
  trace.meta.theory_utilization = theory.utilization;
  trace.meta.theory_bubble_fraction = theory.bubble_fraction;
  std::size_t total = 0;
  for (const auto& per_device : events) total += per_device.size();
  trace.events.reserve(total);
  for (auto& per_device : events) trace.events.insert(trace.events.end(), per_device.begin(), per_device.end());
  for (int d = 0; d < devices; ++d) {
    DeviceMemory& mem = backend.memory(d);
    mem.check_consistent();
    const auto samples = mem.samples();
    trace.memory.insert(trace.memory.end(), samples.begin(), samples.end());
    trace.peak_memory.push_back(mem.peak());
  }
  trace.sort();
  return trace;
}

}  // namespace pipelab::detail
