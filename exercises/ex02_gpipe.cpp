// ex02_gpipe.cpp — ex02: the GPipe fill-drain schedule (lab 02).
//
// Contract: core/include/pipelab/exercise.h, ex02. Hints: labs/02_gpipe/README.md,
// Part 2. Check your work: scripts/grade ex02
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule gpipe_schedule(int devices, int microbatches) {
  // TODO(ex02): gpipe_schedule, as exercise.h (ex02) states it.
  //   Example: gpipe_schedule(2, 2) is
  //     stage 0: F0 SendAct0 F1 SendAct1 RecvGrad1 B1 RecvGrad0 B0 Opt
  //     stage 1: RecvAct0 F0 RecvAct1 F1 B1 SendGrad1 B0 SendGrad0 Opt
  (void)devices, (void)microbatches;
  throw NotImplemented("ex02: gpipe_schedule");
}

}  // namespace pipelab
