// cli/finite_checks.h — every number a subcommand prints is finite, or it prints nothing.
//
//   run_step / compare / run_sweep → check_printable(...) → format_* / *_json / CSV
//
// validate_config keeps every setting in a range whose extremes still give finite,
// non-zero durations (model/ranges.h reasons it out). This is the second line: a table
// of `inf` and `-nan` (or JSON nulls) would teach a wrong lesson, so a non-finite number
// is a failed run (pipelab::Error, exit 1) naming the number, before any output.
#pragma once

#include <optional>
#include <vector>

#include "pipelab/runtime/advise.h"             // Advice
#include "pipelab/runtime/compare_schedules.h"  // ScheduleComparison
#include "pipelab/runtime/run.h"                // RunResult, Comparison

namespace pipelab::cli {

/// One run as printed: its metrics, theory, timed steps, replay and loss.
void check_printable(const RunResult& r);

/// Every run of a sweep; the speedups over the first (naive) row are ratios of two
/// positive finite step times, so finite too.
void check_printable(const std::vector<RunResult>& runs);

/// Both runs of a comparison, the speedups and the transparency difference.
void check_printable(const Comparison& c);

/// Every candidate the advisor ran: its step time, bubble and theory.
void check_printable(const Advice& advice);

/// Every row of `compare --schedules`: its run, speedups and transparency difference.
void check_printable(const ScheduleComparison& c);

/// A run's transparency difference (run): NaN would read as "not checked".
void check_printable(const RunResult& r, const std::optional<double>& max_rel_diff);

}  // namespace pipelab::cli
