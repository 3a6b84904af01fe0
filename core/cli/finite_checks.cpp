// cli/finite_checks.cpp — check_printable (finite_checks.h): inf, NaN or a zero step
// time is a failed run naming the number.
#include "cli/finite_checks.h"

#include <cmath>
#include <cstddef>
#include <string>

#include "pipelab/error.h"

namespace pipelab::cli {
namespace {

/// Throws pipelab::Error naming `what` (and `run`) when `value` is inf or NaN.
void require_finite(double value, const std::string& run, const std::string& what) {
  if (std::isfinite(value)) return;
  PIPELAB_THROW(run + ": " + what + " is " + (std::isnan(value) ? "NaN" : "infinite") +
                    ", so the report would be wrong",
                "a backend bug or settings at the edge of their ranges (docs/cli.md): report the command "
                "line, or retry with values nearer the defaults");
}

/// Every element of `values` finite; `item` names one ("device" → "of device 2").
void require_finite(const std::vector<double>& values, const std::string& run, const std::string& what,
                    const char* item = "device") {
  for (std::size_t i = 0; i < values.size(); ++i)
    require_finite(values[i], run, what + " of " + item + " " + std::to_string(i));
}

/// The metrics of one step, measured or replayed.
void require_finite(const StepMetrics& m, const std::string& run) {
  require_finite(m.makespan_ms, run, "the step time");
  if (!(m.makespan_ms > 0))
    PIPELAB_THROW(run + ": the step time is 0, so utilization and speedup are undefined",
                  "a backend bug or settings at the edge of their ranges (docs/cli.md): report the command line");
  require_finite(m.busy_ms, run, "the busy time");
  require_finite(m.utilization, run, "the utilization");
  require_finite(m.mean_utilization, run, "the mean utilization");
  require_finite(m.bubble_fraction, run, "the bubble fraction");
  require_finite(m.bubble_over_busy, run, "the bubble over busy time");
  require_finite(m.comm_ms, run, "the communication time");
  require_finite(m.comm_time_ms, run, "the total communication time");
  // on_core_fraction is NaN by definition for a device without CPU times (metrics.h):
  // the report prints it as such, so it is not checked here.
}

}  // namespace

void check_printable(const RunResult& r) {
  const std::string run = r.schedule.name() + " (M=" + std::to_string(r.schedule.microbatches) + ")";
  require_finite(r.metrics, run);
  require_finite(r.theory.utilization, run, "the theory utilization");
  require_finite(r.theory.bubble_fraction, run, "the theory bubble fraction");
  require_finite(r.theory.ideal_speedup, run, "the ideal speedup");
  require_finite(r.step_ms, run, "the time", "timed step");
  if (r.replay) require_finite(r.replay->metrics, run + " replayed from measured costs");
  if (r.numerics) require_finite(r.numerics->loss, run, "the loss");
}

void check_printable(const std::vector<RunResult>& runs) {
  for (const RunResult& r : runs) check_printable(r);
}

void check_printable(const Comparison& c) {
  check_printable(c.naive);
  check_printable(c.gpipe);
  require_finite(c.speedup, "compare", "the speedup");
  require_finite(c.paired.ratios, "compare", "the step ratio", "pair");
  if (c.replayed_speedup) require_finite(*c.replayed_speedup, "compare", "the replayed speedup");
  if (c.max_rel_diff) require_finite(*c.max_rel_diff, "compare", "the transparency difference");
}

void check_printable(const ScheduleComparison& c) {
  for (const ScheduleRow& row : c.rows) {
    const std::string run = row.run.schedule.name();
    check_printable(row.run);
    require_finite(row.paired.median, run, "the speedup");
    require_finite(row.paired.ratios, run, "the step ratio", "pair");
    if (row.replayed_speedup) require_finite(*row.replayed_speedup, run, "the replayed speedup");
    if (row.max_rel_diff) require_finite(*row.max_rel_diff, run, "the transparency difference");
  }
}

void check_printable(const RunResult& r, const std::optional<double>& max_rel_diff) {
  check_printable(r);
  if (max_rel_diff) require_finite(*max_rel_diff, "run", "the transparency difference");
}

void check_printable(const Advice& advice) {
  for (const Candidate& c : advice.candidates) {
    if (!c.unavailable.empty()) continue;
    const std::string run = std::string(to_string(c.schedule)) + (c.remat ? "+remat" : "") + " M=" +
                            std::to_string(c.microbatches);
    require_finite(c.step_ms, run, "the step time");
    require_finite(c.bubble_fraction, run, "the bubble fraction");
    require_finite(c.theory.bubble_fraction, run, "the theory bubble fraction");
  }
}

}  // namespace pipelab::cli
