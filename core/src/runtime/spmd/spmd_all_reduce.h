// spmd_all_reduce.h — AllReduceGrads of one data-parallel rank over MPI (internal to
// core/src/runtime/spmd/; spmd_all_reduce.cpp says how it is summed and timed).
#pragma once

#include <functional>
#include <string>

#include "pipelab/backends/backend.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab::spmd {

/// AllReduceGrads `action` of this rank (replica action.stage of `replicas`): every
/// replica's gradients summed in place on `backend`'s device (Backend::gradient_wire),
/// the same sum on every rank. Returns the collective's Transfer: its span on this rank's
/// clock (`now_us`), from every rank having arrived to this rank having the sum, and the
/// bytes a ring all-reduce sends per device. Each wait is bounded by `seconds`
/// (pipelab::Error "watchdog: <who> ..." past it).
Transfer all_reduce_grads(Backend& backend, const Action& action, int replicas, double seconds,
                          const std::function<double()>& now_us, const std::string& who);

}  // namespace pipelab::spmd
