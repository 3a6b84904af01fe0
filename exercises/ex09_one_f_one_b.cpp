// ex09_one_f_one_b.cpp — ex09 (bonus): the 1F1B schedule (lab 07).
//
// Contract: core/include/pipelab/exercise.h, ex09. Hints: labs/07_1f1b/README.md,
// Part 2. Check your work: scripts/grade ex09
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule one_f_one_b_schedule(int devices, int microbatches) {
  // TODO(ex09): one_f_one_b_schedule, as exercise.h (ex09) states it.
  //   Example: one_f_one_b_schedule(2, 3), compute actions only:
  //     stage 0: F0 F1 B0 F2 B1 B2 Opt
  //     stage 1: F0 B0 F1 B1 F2 B2 Opt
  (void)devices, (void)microbatches;
  throw NotImplemented("ex09: one_f_one_b_schedule");
}

}  // namespace pipelab
