// pipelab/report/report.h — human tables, JSON and CSV for runs, comparisons and sweeps.
//
// Human tables follow the nccl-tests style: `#` header lines, a units row,
// fixed-width columns; every value computed from a formula instead of measured
// says "(theory)". JSON follows the schema documented in docs/cli.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipelab/runtime/run.h"

namespace pipelab {

/// One run as a JSON object (the elements of "runs"). speedup is null when unknown.
/// `reference`: the naive run its "gap" splits compute against (nullptr: none; a naive
/// run is its own).
nlohmann::json run_json(const RunResult& run, std::optional<double> speedup_vs_naive,
                        const RunResult* reference = nullptr);

/// A registry theory as JSON: utilization, bubble_fraction, bubble_over_busy, ideal_speedup,
/// peak_in_flight_microbatches (the bound), name, formula — every "theory" object of run,
/// compare and sweep.
nlohmann::json theory_json(const Theory& theory);

/// {"reference","max_rel_diff","ok","tolerance"} of one transparency check (all but
/// the tolerance null when `max_rel_diff` is: no numerics).
nlohmann::json transparency_json(std::optional<double> max_rel_diff, const RunConfig& config, double tolerance);

/// {"runs":[naive, gpipe], "transparency":{"max_rel_diff","ok"}}.
nlohmann::json comparison_json(const Comparison& c);

/// {"runs":[...], "transparency":{...}} for one run (transparency null without numerics
/// or when `reference` was not computed).
nlohmann::json single_run_json(const RunResult& run, std::optional<double> max_rel_diff);

/// Human report of a comparison (header, table, per-device table, transparency line).
std::string format_comparison(const Comparison& c);

/// Human report of one run.
std::string format_run(const RunResult& run, std::optional<double> max_rel_diff);

/// One row per run of a sweep over M (first row: the naive baseline).
std::string format_sweep(const std::vector<RunResult>& runs);
/// The same rows as CSV, with a header row (columns: docs/cli.md).
std::string sweep_csv(const std::vector<RunResult>& runs);
/// {"runs":[...]}: one run_json() per row, speedup over the first row.
nlohmann::json sweep_json(const std::vector<RunResult>& runs);

/// `value` printed with one printf conversion ("%.2f" → "3.14").
std::string format_number(const char* printf_format, double value);

/// "L=16 d=256 h=1024 B=128" and the rest of the header line.
std::string describe_config(const RunConfig& c);

}  // namespace pipelab
