// utilization_table.cpp — ex05: naive vs GPipe, one row per run (lab 03).
//
// Contract: core/include/pipelab/exercise.h. Check your work: scripts/grade ex05
// Needs ex01-ex04: it runs the real runtime (run.h), which uses your earlier functions.
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

std::vector<UtilizationRow> utilization_table(const RunConfig& config,
                                              const std::vector<int>& microbatch_counts) {
  // TODO(ex05): one naive run, then one GPipe run per M, as rows.
  //   - Copy `config` and set schedule = ScheduleKind::Naive, microbatches = 1;
  //     r = run_step(copy) (run.h) runs one measured step and returns r.trace.
  //   - Then for each m in microbatch_counts: schedule = ScheduleKind::Gpipe,
  //     microbatches = m, run_step.
  //   - Fill a UtilizationRow per run from its trace: measure_utilization (ex04) gives
  //     makespan (µs -> step_ms: * 1e-3), mean utilization and bubble; schedule name,
  //     K and M from r.schedule; theory_utilization = M / (M + K - 1);
  //     speedup = naive step_ms / this step_ms; move r.trace into row.trace.
  (void)config, (void)microbatch_counts;
  throw NotImplemented("ex05: utilization_table");
}

}  // namespace pipelab
