// ex01_naive.cpp — ex01: naive model parallelism: even_partition, naive_schedule (lab 01).
//
// Contracts: core/include/pipelab/exercise.h, ex01. Hints: labs/01_naive_mp/README.md,
// Part 2. Check your work: scripts/grade ex01
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Partition even_partition(int layers, int devices) {
  // TODO(ex01): even_partition, as exercise.h (ex01) states it.
  //   Example: even_partition(10, 4).boundaries == {0, 3, 6, 8, 10}.
  (void)layers, (void)devices;
  throw NotImplemented("ex01: even_partition");
}

Schedule naive_schedule(int devices) {
  // TODO(ex01): naive_schedule, as exercise.h (ex01) states it.
  //   Example: naive_schedule(2) is
  //     stage 0: F0 SendAct0 RecvGrad0 B0 Opt
  //     stage 1: RecvAct0 F0 B0 SendGrad0 Opt
  (void)devices;
  throw NotImplemented("ex01: naive_schedule");
}

}  // namespace pipelab
