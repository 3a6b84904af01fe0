// data_parallel.cpp — the data-parallel baseline (schedule/data_parallel.h).
#include "pipelab/schedule/data_parallel.h"

#include "pipelab/error.h"

namespace pipelab {

Schedule data_parallel_schedule(int devices) {
  // M = K: one share of the batch per replica, as start_schedule checks it.
  Schedule s = start_schedule(ScheduleKind::DataParallel, "data_parallel_schedule", devices, devices);
  s.replicas = devices;
  for (int d = 0; d < devices; ++d) {
    // Every device is the first and the last stage of its replica: no sends, no receives.
    std::vector<Action>& program = s.per_stage[d];
    program.push_back({ActionKind::Forward, d, d});
    program.push_back({ActionKind::Backward, d, d});
    // One replica (K = 1) is one device: nothing to all-reduce with.
    if (devices > 1) program.push_back({ActionKind::AllReduceGrads, d, -1});
    program.push_back({ActionKind::OptimizerStep, d, -1});
  }
  return s;
}

Theory data_parallel_theory(int devices) {
  if (devices < 1)
    PIPELAB_THROW("data_parallel_theory needs devices >= 1, got " + std::to_string(devices),
                  "pass the K of the run");
  Theory theory;
  // No device waits for another until the all-reduce, and with free links that takes no
  // time: every device is busy the whole step.
  theory.utilization = 1.0;
  theory.bubble_fraction = 0.0;
  // Naive runs the batch's whole work W one stage at a time: T_naive = W. Each replica
  // does W / K (1/K of the rows through every layer; the cost model is linear in rows).
  theory.ideal_speedup = devices;
  // Each device holds the activations of its one share from F to B.
  theory.peak_stash_microbatches = 1.0;
  theory.schedule = "data parallelism";
  theory.formula = "1";
  return theory;
}

double ring_all_reduce_bytes(int devices, double gradient_bytes) {
  // Reduce-scatter, then all-gather, each K - 1 steps of gradient_bytes / K per device.
  return devices > 1 ? 2.0 * (devices - 1) / devices * gradient_bytes : 0.0;
}

}  // namespace pipelab
