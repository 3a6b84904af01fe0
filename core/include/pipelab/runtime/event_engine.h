// pipelab/runtime/event_engine.h — one step on a backend with virtual time, one thread.
//
// The sim and the replay keep their own clocks: a span is a pure function of the
// schedule and the costs, never of when an OS thread happened to run. So they need no
// worker per device: this engine walks the K programs on the calling thread, running
// each stage until it reaches a receive whose send has not happened yet, then the next
// runnable stage (sends are asynchronous, as in validate()'s model). Every backend call
// is the one the threaded executor would make, in an order consistent with the
// schedule's dependencies, so the trace is the same — at a cost of nanoseconds per
// action instead of a thread switch.
#pragma once

#include "pipelab/backends/backend.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

/// validate(schedule), then run it on `backend` (which must keep virtual time: sim,
/// replay) on this thread. Returns the trace, as execute() does. Throws the backend's
/// errors unchanged.
Trace execute_event_driven(const Schedule& schedule, Backend& backend);

}  // namespace pipelab
