// step_trace.h — turning one executed step into a Trace (internal to core/src/runtime/).
//
// Both engines — the threaded executor (cpu, cuda) and the single-threaded event
// engine (sim, replay) — end a step the same way: metadata from the schedule and the
// backend, the spans each device recorded, every device's memory samples and peaks,
// the canonical sort.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "pipelab/backends/backend.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab::detail {

/// A span as the executor records it: `action` ran on `device`'s `lane` during `span`.
TraceEvent make_event(int device, Lane lane, const Action& action, Span span, std::uint64_t bytes);

/// The lane a span of `kind` is drawn on: Send for the sends, Recv for the receives,
/// Compute for everything else.
Lane lane_of(ActionKind kind);

/// Where each (device, lane)'s spans go in one list of the step's spans: the index of
/// the first, `first[d][lane]`, laid out in (device, lane) order, each run as long as
/// the schedule has actions on that lane — the canonical order's layout (Trace::sort).
/// `total` is the list's length, schedule.size().
struct LaneSlots {
  std::vector<std::array<std::size_t, kLaneCount>> first;  ///< [device][lane]
  std::size_t total = 0;                                   ///< every action
};
/// The slots of `schedule`'s actions (the event engine fills them as it runs).
LaneSlots lane_slots(const Schedule& schedule);

/// The metadata every step's trace carries: from the schedule (kind, remat, K, M, the
/// registry's theory) and from the backend that ran it (`backend`, `device_names`).
void fill_step_meta(const Schedule& schedule, const std::string& backend, std::vector<std::string> device_names,
                    Trace& trace);

/// The Trace of a finished step: `events[d]` are device d's spans in program order
/// (the threaded executor: one list per worker). Each device's spans are laid out
/// lane by lane, so the canonical sort at the end sorts each lane's run alone.
Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<std::vector<TraceEvent>>& events);
/// The same from one list of every device's spans (the event engine), moved in: laid
/// out as lane_slots() says, or in any order (then the sort at the end is a full one).
Trace assemble_trace(const Schedule& schedule, Backend& backend, std::vector<TraceEvent>&& events);

}  // namespace pipelab::detail
