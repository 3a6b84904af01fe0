// spmd_run.h — what the runner (run.cpp) calls in a multi-process run (internal to
// core/src/runtime/). Implemented by spmd/*.cpp with MPI, and by spmd_unavailable.cpp
// in a build without it (where spmd_rank() is null and none of these is ever called).
//
// Every function here is collective: every rank calls it, in the same order, with the
// same config, as run_step() does on every rank in lockstep.
#pragma once

#include "pipelab/backends/backend.h"
#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab::detail {

/// Before a run builds anything: the backend is cpu (UsageError("--backend") otherwise),
/// the ranks are K (UsageError("--devices") with the mpirun line that fits), and every
/// rank was started with the same configuration (a hash compared across ranks;
/// UsageError naming the first flag that differs, and its value on both ranks).
void spmd_check_run(const RunConfig& config);

/// This rank's backend: the cpu backend of the stage this rank runs, alone.
std::unique_ptr<Backend> spmd_make_backend(const RunConfig& config, const Partition& partition,
                                           int microbatches);

/// One step: this rank runs its stage's program on `backend`, the transfers over MPI;
/// the clocks are aligned before and after it (ping-pong); returns the merged trace of
/// every rank (rank 0's timebase), the same on every rank.
Trace spmd_execute(const Schedule& schedule, Backend& backend, const ExecutorOptions& options);

/// The step's numerics of every rank's stages put together in the model's layer order
/// (`partition`'s virtual stages; the loss from the last one), the same on every rank:
/// what one backend holding every stage would return.
StepNumerics spmd_numerics(const Backend& backend, const RunConfig& config, const Partition& partition);

}  // namespace pipelab::detail
