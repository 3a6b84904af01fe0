// validate_deadlock.h — validate()'s deadlock pass, internal to schedule/ (validate.cpp
// runs it after shape, completeness and order, so every send and receive has a partner).
#pragma once

#include "pipelab/schedule/schedule.h"

namespace pipelab::detail {

/// Throws pipelab::Error naming every stuck stage, the receive it waits at and the send
/// it waits for, unless every stage of `schedule` reaches the end of its program when
/// sends never block and a receive blocks until its matching send has run. Each stage
/// runs until it blocks; a send wakes the one stage waiting for it (a worklist, so every
/// action is executed once).
void check_deadlock(const Schedule& schedule);

}  // namespace pipelab::detail
