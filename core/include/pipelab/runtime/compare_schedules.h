// pipelab/runtime/compare_schedules.h — several registry schedules on the same model,
// devices and backend, paired step by step (`pipelab compare --schedules a,b,c`).
//
//   RunConfig + [kinds] → one RunConfig per kind (M as scheduled) → run_paired() →
//   RunResults → speedups over the first, peak in-flight micro-batches, transparency
//
// compare() (run.h) is the two-schedule case the labs read (naive vs GPipe); this is the
// general one, for any schedules of the registry, in the order listed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipelab/runtime/run.h"

namespace pipelab {

/// One schedule's row of a schedule comparison.
struct ScheduleRow {
  RunResult run;         ///< the run (its trace is the median timed step)
  PairedSpeedup paired;  ///< over the first listed schedule: the first row's ratios are all 1
  /// first's replayed makespan / this one's (cpu, cuda): "replayed from measured costs".
  std::optional<double> replayed_speedup;
  /// Peak micro-batches in flight per device, measured from the trace (in_flight.h).
  std::vector<int> peak_in_flight;
  /// Transparency of this run vs the reference step (cpu, cuda; nullopt on sim).
  std::optional<double> max_rel_diff;
  bool transparency_ok = false;  ///< max_rel_diff <= the tolerance
};

/// A listed schedule that did not run: its predicted per-device peak is over
/// --device-memory-mib (runtime/memory_cap.h).
struct RefusedSchedule {
  ScheduleKind schedule = ScheduleKind::Gpipe;  ///< which one
  std::string reason;  ///< check_memory_cap's message: the device, its bytes by category, the cap
};

/// Every listed schedule's row; the first is the baseline of every speedup.
struct ScheduleComparison {
  std::vector<ScheduleRow> rows;  ///< one per schedule that ran, in the order listed
  /// The listed schedules over the memory cap, refused before anything ran (the rows
  /// compare the others; the first of those is the baseline).
  std::vector<RefusedSchedule> refused;
  ReferenceKind reference = ReferenceKind::Cpu;  ///< what max_rel_diff compares with
  double tolerance = kTransparencyTolerance;     ///< transparency_tolerance() of the runs
  /// Every row with numerics passed (true on sim, where none is checked).
  bool transparency_ok() const;
};

/// One config per kind: `config` with that schedule and M = scheduled_microbatches (1 for
/// naive), each validated before anything runs. UsageError naming --schedules for fewer
/// than 2 kinds, a kind listed twice, or ScheduleKind::Custom anywhere but last or without
/// config.schedule_file (the file's row: compare --schedules ... --schedule-file FILE).
std::vector<RunConfig> schedule_comparison_configs(const RunConfig& config, const std::vector<ScheduleKind>& kinds);

/// Runs every schedule of `kinds` on `config`'s model, devices and backend, paired step
/// by step (run_paired), and on backends with numerics checks each run against the
/// transparency reference. `progress` (may be empty) gets a short message per phase.
/// A backend that cannot run a schedule's actions throws its pipelab::Error. With
/// --device-memory-mib, a schedule whose predicted peak is over the cap is refused (kept
/// in `refused`) and the others run; if none fits, the first refusal is thrown.
ScheduleComparison compare_schedules(const RunConfig& config, const std::vector<ScheduleKind>& kinds,
                                     const std::function<void(const std::string&)>& progress = {});

}  // namespace pipelab
