// validate_stash.cpp — the declared stash bound (validate_stash.h).
#include "validate_stash.h"

#include <algorithm>
#include <string>
#include <vector>

#include "pipelab/error.h"

namespace pipelab::detail {

namespace {

// Micro-batches a device holds in program order, per model chunk: +1 at each F, -1 at the
// end of its backward (B, or W of the split pair); a whole-batch W (--w-batch) ends every
// micro-batch its chunk holds.
struct InFlight {
  std::vector<int> per_chunk;
  int now = 0;
  // Applies `a`; true when it is an F (the count just went up).
  bool apply(const Action& a) {
    if (per_chunk.size() <= a.chunk) per_chunk.resize(a.chunk + 1u, 0);
    int& chunk = per_chunk[a.chunk];
    if (a.kind == ActionKind::Forward) {
      ++chunk;
      ++now;
      return true;
    }
    const int ended = is_batched_weight(a) ? chunk
                      : a.kind == ActionKind::Backward || a.kind == ActionKind::BackwardWeight ? 1
                                                                                               : 0;
    chunk -= ended;
    now -= ended;
    return false;
  }
};

}  // namespace

int program_peak_in_flight(const Schedule& schedule, int device) {
  InFlight held;
  int peak = 0;
  for (const Action& a : schedule.per_stage[device])
    if (held.apply(a)) peak = std::max(peak, held.now);
  return peak;
}

void check_stash_bound(const Schedule& schedule, double bound) {
  for (int d = 0; d < schedule.stages; ++d) {
    InFlight held;
    const std::vector<Action>& program = schedule.per_stage[d];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      if (!held.apply(a) || held.now <= bound) continue;
      const int now = held.now;
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
