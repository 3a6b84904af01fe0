// validate_replicas.h — validate()'s check of a data-parallel schedule (replicas > 1),
// internal to schedule/. validate.cpp checks the shape first (ids in range, one program
// per device, AllReduceGrads and OptimizerStep with micro-batch -1).
#pragma once

#include "pipelab/schedule/schedule.h"

namespace pipelab::detail {

/// Throws pipelab::Error naming the first offending action unless every device d of the
/// data-parallel `schedule` (replicas == stages == microbatches == K) runs exactly its own
/// share: F(d, d), its backward as one B(d, d) or I(d, d) then W(d, d), at most one
/// Recompute(d, d) between F and B (or I), no sends or receives, then exactly one
/// AllReduceGrads after the last B or W and one OptimizerStep after it. Every device runs
/// the one collective, so none waits forever.
void validate_replicas(const Schedule& schedule);

}  // namespace pipelab::detail
