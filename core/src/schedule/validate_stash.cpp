// validate_stash.cpp — the declared stash bound (validate_stash.h).
#include "validate_stash.h"

#include <algorithm>
#include <string>

#include "pipelab/error.h"

namespace pipelab::detail {

namespace {
// The end of a micro-batch's backward on its stage: B, or W of the split pair.
bool ends_backward(ActionKind kind) { return kind == ActionKind::Backward || kind == ActionKind::BackwardWeight; }
}  // namespace

int program_peak_in_flight(const Schedule& schedule, int device) {
  int now = 0, peak = 0;
  for (const Action& a : schedule.per_stage[device]) {
    if (a.kind == ActionKind::Forward) peak = std::max(peak, ++now);
    if (ends_backward(a.kind)) --now;
  }
  return peak;
}

void check_stash_bound(const Schedule& schedule, double bound) {
  for (int d = 0; d < schedule.stages; ++d) {
    int now = 0;
    const std::vector<Action>& program = schedule.per_stage[d];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      if (ends_backward(a.kind)) --now;
      if (a.kind != ActionKind::Forward || ++now <= bound) continue;
      PIPELAB_THROW(schedule.name() + " holds " + std::to_string(now) + " micro-batches at once on stage " +
                        std::to_string(d) + " at " + to_string(a) + " (action #" + std::to_string(i) +
                        ", 0-based), above its declared bound of " + std::to_string(static_cast<int>(bound)) +
                        " (the registry's theory: peak stash in micro-batches)",
                    "run each micro-batch's backward sooner, as the schedule's generator does; or build it as "
                    "ScheduleKind::Custom, which declares no bound");
    }
  }
}

}  // namespace pipelab::detail
