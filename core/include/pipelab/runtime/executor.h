// pipelab/runtime/executor.h — run a validated schedule on a backend, one worker per device.
//
// Each worker walks its stage's action list in order: compute actions run on
// the backend; a send posts a Transfer to a mailbox; a receive blocks until the
// matching transfer is there. A watchdog turns any hang into a pipelab::Error
// that names, for every unfinished device, the action it is stuck on and what
// it waits for. An exception in one worker stops the others and is rethrown.
#pragma once

#include "pipelab/backends/backend.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

/// How the executor runs a step.
struct ExecutorOptions {
  /// Abort when no action has finished for this long (wall clock).
  double watchdog_seconds = 60.0;
};

/// validate(schedule), then run it. Returns the trace (events + memory samples,
/// peak memory; meta.devices/microbatches/schedule/backend/device_names filled).
Trace execute(const Schedule& schedule, Backend& backend, const ExecutorOptions& options = {});

/// Run without validating first — only for tests of the watchdog itself.
Trace execute_unchecked(const Schedule& schedule, Backend& backend,
                        const ExecutorOptions& options = {});

}  // namespace pipelab
