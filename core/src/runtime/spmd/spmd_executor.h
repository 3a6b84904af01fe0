// spmd_executor.h — this rank's stage program, its transfers over MPI (internal to
// core/src/runtime/spmd/; spmd_executor.cpp says how a send and a receive are timed).
#pragma once

#include <vector>

#include "pipelab/backends/backend.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab::spmd {

/// Runs device rank()'s program of `schedule` (its stage, or its replica of the whole
/// model for data parallelism) on `backend` (begin_step() already called),
/// each wait bounded by options.watchdog_seconds; returns its spans on its own clock
/// (µs since the backend's time origin), in program order.
std::vector<TraceEvent> run_stage_program(const Schedule& schedule, Backend& backend,
                                          const ExecutorOptions& options);

}  // namespace pipelab::spmd
