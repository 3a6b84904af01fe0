// ex07_remat.cpp — ex07: re-materialization: with_recompute, stash_peak (lab 04).
//
// Contracts: core/include/pipelab/exercise.h, ex07. Hints: labs/04_remat_memory/README.md,
// Parts 2 and 3. Check your work: scripts/grade ex07
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule with_recompute(const Schedule& schedule) {
  // TODO(ex07): with_recompute, as exercise.h (ex07) states it.
  //   Example, stage 1 of gpipe_schedule(3, 1):
  //     RecvAct0 F0 SendAct0 RecvGrad0 B0 SendGrad0 Opt
  //   becomes
  //     RecvAct0 F0 SendAct0 R0 RecvGrad0 B0 SendGrad0 Opt
  (void)schedule;
  throw NotImplemented("ex07: with_recompute");
}

StashPeak stash_peak(const Schedule& schedule, int stage) {
  // TODO(ex07): stash_peak, as exercise.h (ex07) states it.
  //   Example: any stage of gpipe_schedule(K, 4) gives {4, 4}; of with_recompute(it), {4, 1}.
  (void)schedule, (void)stage;
  throw NotImplemented("ex07: stash_peak");
}

}  // namespace pipelab
