// step_trace.h — turning one executed step into a Trace (internal to core/src/runtime/).
//
// Both engines — the threaded executor (cpu, cuda) and the single-threaded event
// engine (sim, replay) — end a step the same way: metadata from the schedule and the
// backend, the spans each device recorded, every device's memory samples and peaks,
// the canonical sort.
#pragma once

#include <vector>

#include "pipelab/backends/backend.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab::detail {

/// A span as the executor records it: `action` ran on `device`'s `lane` during `span`.
TraceEvent make_event(int device, Lane lane, const Action& action, Span span, std::uint64_t bytes);

/// The Trace of a finished step: `events[d]` are device d's spans in program order
/// (the threaded executor: one list per worker).
Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<std::vector<TraceEvent>>& events);
/// The same from one list of every device's spans (the event engine), moved in.
Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<TraceEvent>&& events);

}  // namespace pipelab::detail
