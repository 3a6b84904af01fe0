// pipelab/report/schedule_table.h — the table and JSON of `pipelab compare --schedules`.
//
//   ScheduleComparison (runtime/compare_schedules.h) → one row per schedule: M, median
//   step time, paired speedup over the first, bubble and bubble/busy measured vs theory,
//   peak in-flight micro-batches, peak stash → then transparency and replay per row.
//
// Measured values come from each run's trace and allocator (docs/metrics.md); theory
// values from the registry (schedule_theory) and say "theory" wherever shown.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pipelab/runtime/compare_schedules.h"

namespace pipelab {

/// The human report: header, one row per schedule, the notes, transparency and replay.
std::string format_schedule_comparison(const ScheduleComparison& c);

/// {"baseline", "backend", "devices", "schedules":[...], "transparency":{...}} (docs/cli.md).
nlohmann::json schedule_comparison_json(const ScheduleComparison& c);

/// The largest peak stash bytes over the run's devices (the allocator's, metrics.h).
std::uint64_t max_peak_stash_bytes(const RunResult& run);

}  // namespace pipelab
