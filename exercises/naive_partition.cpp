// naive_partition.cpp — ex01: naive model parallelism (lab 01).
//
// Contracts: core/include/pipelab/exercise.h. Check your work: scripts/grade ex01
#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Partition even_partition(int layers, int devices) {
  // TODO(ex01): split `layers` layers into `devices` contiguous stages.
  //   - Unless 1 <= devices <= layers, throw a pipelab::Error, e.g.
  //       PIPELAB_THROW("cannot split ...", "use 1 <= devices <= layers");
  //   - Return a Partition whose boundaries hold devices + 1 numbers: 0, ..., layers.
  //     Stage s owns layers / devices layers, plus one more if s < layers % devices
  //     (10 layers over 4 devices: boundaries {0, 3, 6, 8, 10}).
  (void)layers, (void)devices;
  throw NotImplemented("ex01: even_partition");
}

Schedule naive_schedule(int devices) {
  // TODO(ex01): one batch (micro-batch 0) goes forward through stage 0..K-1, then
  //   backward through K-1..0.
  //   - Unless devices >= 1, throw a pipelab::Error (PIPELAB_THROW).
  //   - Set name = "naive", stages = devices, microbatches = 1, per_stage.resize(devices).
  //   - For each stage s: append_forward(program, s, 0, devices), then
  //     append_backward(program, s, 0, devices) (schedule.h: they add the receive
  //     before and the send after each F and B), then {ActionKind::OptimizerStep, s, -1}.
  (void)devices;
  throw NotImplemented("ex01: naive_schedule");
}

}  // namespace pipelab
