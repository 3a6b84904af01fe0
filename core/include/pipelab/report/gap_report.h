// pipelab/report/gap_report.h — the gap decomposition (report/gap.h) of a run as report
// lines and JSON: what `pipelab run` and `pipelab compare` print (docs/metrics.md).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "pipelab/report/gap.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

/// The gap of one run: its median step decomposed, its compute split against
/// `reference` (the naive run; nullptr: none measured; a naive run is its own).
struct RunGap {
  StepGap step;        ///< the median step, decomposed
  ComputeSplit split;  ///< its compute against the work at B rows
};
/// decompose_step() of `run`'s trace and schedule, split against `reference`.
RunGap run_gap(const RunResult& run, const RunResult* reference);

/// Two lines: "# gap, gpipe (...): compute 57.7 + bubble 38.9 (theory 27.3) + ..." and
/// "#   gpipe compute 57.7 = work at B rows ... + micro-batch inefficiency ... + waiting for a core ...".
std::string gap_lines(const RunResult& run, const RunGap& gap);
/// "# speedup chain (x): ideal 2.91 (theory), naive's own gaps +0.05, ...: measured 1.48x ...";
/// with no chain, the line says why.
std::string speedup_chain_line(const std::optional<SpeedupChain>& chain);

/// {"label", "step_ms", the five terms, "compute_split", "per_device"} (docs/metrics.md).
nlohmann::json gap_json(const RunGap& gap);
/// {"label", "ideal", "naive_gaps", ..., "measured"}, or null without a chain.
nlohmann::json speedup_chain_json(const std::optional<SpeedupChain>& chain);

}  // namespace pipelab
