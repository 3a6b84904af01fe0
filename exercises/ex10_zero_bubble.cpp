// ex10_zero_bubble.cpp — ex10 (bonus): the ZB-H1 zero-bubble schedule (lab 08).
//
// Contract: core/include/pipelab/exercise.h, ex10. Hints: labs/08_beyond_gpipe/README.md,
// Part 2. Check your work: scripts/grade ex10
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule zb_h1_schedule(int devices, int microbatches) {
  // TODO(ex10): zb_h1_schedule, as exercise.h (ex10) states it.
  //   Example: zb_h1_schedule(2, 3), compute actions only:
  //     stage 0: F0 F1 I0 W0 F2 I1 W1 I2 W2 Opt
  //     stage 1: F0 I0 F1 I1 W0 F2 I2 W1 W2 Opt
  (void)devices, (void)microbatches;
  throw NotImplemented("ex10: zb_h1_schedule");
}

}  // namespace pipelab
