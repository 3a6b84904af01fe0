// remat.cpp — ex07: re-materialization (lab 04).
//
// Contracts: core/include/pipelab/exercise.h. Check your work: scripts/grade ex07
#include <algorithm>
#include <map>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule with_recompute(const Schedule& schedule) {
  // TODO(ex07): copy `schedule`, append "+remat" to its name, and rewrite each stage's
  //   program: in front of every Backward(s, m) insert {ActionKind::Recompute, s, m} —
  //   but when the action right before that B is its RecvGrad(s, m), insert the
  //   Recompute before the RecvGrad instead (recompute while the gradient is on its way).
  //   Every other action keeps its place and order.
  //   Stage 1 of 3, gpipe M=1:  RecvAct F SendAct RecvGrad B SendGrad Opt
  //   becomes:                  RecvAct F SendAct R RecvGrad B SendGrad Opt
  (void)schedule;
  throw NotImplemented("ex07: with_recompute");
}

StashPeak stash_peak(const Schedule& schedule, int stage) {
  // TODO(ex07): walk schedule.per_stage[stage] in order and count, after each action:
  //   inputs:      +1 at F(m), -1 at B(m)
  //   activations: +1 at F(m) if the program has no Recompute for m, else +1 at R(m);
  //                -1 at B(m)
  //   Return the largest value each count reached.
  //   Unless 0 <= stage < schedule.stages, throw a pipelab::Error (PIPELAB_THROW).
  (void)schedule, (void)stage;
  throw NotImplemented("ex07: stash_peak");
}

}  // namespace pipelab
