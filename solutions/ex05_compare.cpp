// ex05_compare.cpp — ex05 reference: naive MP once, GPipe for each M, one row per run.
//
// Each row's numbers come from its own trace (ex04's measure_utilization), so the table
// can be checked against the traces; the theory column is M / (M + K - 1), which is
// 1 / K for naive (M = 1).
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

std::vector<UtilizationRow> utilization_table(const RunConfig& config,
                                              const std::vector<int>& microbatch_counts) {
  // Naive first: it is every row's speedup baseline.
  std::vector<RunConfig> runs;
  RunConfig naive = config;
  naive.schedule = ScheduleKind::Naive;
  naive.microbatches = 1;
  runs.push_back(naive);
  for (int m : microbatch_counts) {
    RunConfig gpipe = config;
    gpipe.schedule = ScheduleKind::Gpipe;
    gpipe.microbatches = m;
    validate_config(gpipe);  // a bad M fails before anything runs
    runs.push_back(gpipe);
  }

  std::vector<UtilizationRow> rows;
  for (const RunConfig& c : runs) {
    RunResult r = run_step(c);
    const TraceUtilization u = measure_utilization(r.trace);
    UtilizationRow row;
    row.schedule = r.schedule.name();
    row.devices = r.schedule.stages;
    row.microbatches = r.schedule.microbatches;
    row.step_ms = u.makespan_us * 1e-3;
    row.utilization = u.mean_utilization;
    row.bubble_fraction = u.bubble_fraction;
    row.theory_utilization = static_cast<double>(row.microbatches) / (row.microbatches + row.devices - 1);
    row.speedup = rows.empty() ? 1.0 : (row.step_ms > 0 ? rows.front().step_ms / row.step_ms : 0.0);
    row.trace = std::move(r.trace);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pipelab
