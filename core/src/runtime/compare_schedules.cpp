// compare_schedules.cpp — several schedules, paired step by step (compare_schedules.h).
#include "pipelab/runtime/compare_schedules.h"

#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/report/in_flight.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {

bool ScheduleComparison::transparency_ok() const {
  return std::all_of(rows.begin(), rows.end(),
                     [](const ScheduleRow& row) { return !row.max_rel_diff || row.transparency_ok; });
}

std::vector<RunConfig> schedule_comparison_configs(const RunConfig& config, const std::vector<ScheduleKind>& kinds) {
  if (kinds.size() < 2)
    PIPELAB_USAGE_ERROR("--schedules", "needs at least 2 schedules to compare, got " + std::to_string(kinds.size()),
                        "list two or more of " + schedule_names() + ", e.g. --schedules naive,gpipe,1f1b");
  std::vector<RunConfig> configs;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    // A schedule from a file is the last row, and only with the file in the config.
    if (kinds[i] == ScheduleKind::Custom && (config.schedule_file.empty() || i + 1 != kinds.size()))
      PIPELAB_USAGE_ERROR("--schedules", "a custom schedule is compared only as the --schedule-file row",
                          "list registry schedules (" + schedule_names() + ") and give the file with --schedule-file");
    if (std::find(kinds.begin(), kinds.begin() + static_cast<std::ptrdiff_t>(i), kinds[i]) !=
        kinds.begin() + static_cast<std::ptrdiff_t>(i))
      PIPELAB_USAGE_ERROR("--schedules", std::string("lists ") + to_string(kinds[i]) + " twice",
                          "name each schedule once; the first one listed is the baseline of the speedups");
    RunConfig c = config;
    c.schedule = kinds[i];
    if (kinds[i] != ScheduleKind::Custom) c.schedule_file.clear();
    c.microbatches = scheduled_microbatches(c);  // naive: M = 1 by definition
    configs.push_back(c);
  }
  // Every setting is checked before the first step runs (M > batch, ...).
  for (const RunConfig& c : configs) validate_config(c);
  return configs;
}

ScheduleComparison compare_schedules(const RunConfig& config, const std::vector<ScheduleKind>& kinds,
                                     const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  ScheduleComparison out;
  // --device-memory-mib: a schedule over the cap is refused, the others still compare —
  // the point of the cap is to show which ones fit (issue: why split a model at all).
  std::vector<RunConfig> configs;
  std::optional<UsageError> first_refusal;
  for (const RunConfig& c : schedule_comparison_configs(config, kinds)) {
    try {
      check_memory_cap(c);
      configs.push_back(c);
    } catch (const UsageError& e) {
      out.refused.push_back({c.schedule, e.message()});
      if (!first_refusal) first_refusal = e;
    }
  }
  if (configs.empty()) throw *first_refusal;
  const std::size_t count = configs.size();
  std::vector<RunResult> runs = run_paired(configs, [&](std::size_t step, std::size_t total, const RunConfig& next) {
    const std::string which = std::string(to_string(next.schedule)) + " (K=" + std::to_string(next.devices) +
                              ", M=" + std::to_string(next.microbatches) + ")";
    // One line per run when each runs once (sim); the round number when they alternate.
    say(total <= count ? which
                       : which + ", step " + std::to_string(step / count + 1) + "/" + std::to_string(total / count));
  });

  const RunResult& first = runs.front();
  out.tolerance = transparency_tolerance(first.config);
  out.reference = reference_kind(first.config);
  std::optional<StepNumerics> reference;
  if (first.numerics) {
    // One reference for all rows: the same model on one device, whatever the schedule.
    say(describe(out.reference) + " (transparency check)");
    reference = transparency_reference(first.config);
  }
  for (const RunResult& run : runs) {
    ScheduleRow row;
    row.paired = paired_speedup(first, run);
    if (first.replay && run.replay && run.replay->metrics.makespan_ms > 0)
      row.replayed_speedup = first.replay->metrics.makespan_ms / run.replay->metrics.makespan_ms;
    row.peak_in_flight = peak_in_flight_microbatches(run.trace);
    if (reference && run.numerics) {
      row.max_rel_diff = max_relative_difference(*run.numerics, *reference);
      row.transparency_ok = *row.max_rel_diff <= out.tolerance;
    }
    out.rows.push_back(std::move(row));
  }
  // The runs last: every row above was computed against the first one.
  for (std::size_t i = 0; i < count; ++i) out.rows[i].run = std::move(runs[i]);
  return out;
}

}  // namespace pipelab
