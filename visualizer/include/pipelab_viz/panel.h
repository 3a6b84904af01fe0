// pipelab_viz/panel.h — one timeline panel: a trace and the numbers measured from it.
//
// A Panel comes from a live run (RunResult) or a trace file; either way every box,
// bubble and number shown is computed from `trace` with core's metrics.h formulas.
// Times inside a panel are relative to its first event (the step's origin).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipelab/exercise.h"
#include "pipelab/report/gap.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/run.h"
#include "pipelab/trace/trace.h"

namespace pipelab::viz {

/// One run to draw: its trace, measured metrics and theory.
struct Panel {
  std::string title;     ///< "Naive model parallelism", "GPipe", "GPipe + remat", ...
  std::string source;    ///< "live sim" or the file path
  Trace trace;           ///< the spans and memory samples drawn
  StepMetrics metrics;   ///< compute_metrics(trace)
  Theory theory;         ///< the trace's theory (meta.theory_*, from the schedule registry)
  /// Where the step went (report/gap.h, docs/metrics.md "The gap explained"), measured
  /// from the trace with the schedule's programs: the live run's, or for a trace file the
  /// registry's schedule rebuilt from its metadata. Empty when that cannot be done.
  std::optional<StepGap> gap;
  std::string gap_unavailable;  ///< why `gap` is empty ("" when it is set)
  double origin_us = 0;  ///< min start over all events (time 0 of the panel)
  double step_us = 0;    ///< makespan: max end - min start, µs
  /// Indices into trace.events of each lane, sorted by start: lanes[device · kLaneCount + lane].
  /// Built once by make_panel, so a layout or a bubble search reads only its own lane.
  std::vector<std::vector<std::uint32_t>> lanes;
  /// Indices into trace.memory of each device's samples, in time order (ties: file order).
  std::vector<std::vector<std::uint32_t>> memory_by_device;

  /// The events of one device's lane, sorted by start (empty for a device out of range).
  const std::vector<std::uint32_t>& lane_events(int device, Lane lane) const;

  int devices() const { return trace.meta.devices; }            ///< K
  int microbatches() const { return trace.meta.microbatches; }  ///< M
  /// Naive model parallelism, with or without remat.
  bool is_naive() const { return trace.meta.schedule_kind == ScheduleKind::Naive; }
};

/// Human title of a schedule: Naive → "Naive model parallelism", Gpipe with remat →
/// "GPipe + remat", OneFOneB → "1F1B", ZbH1 → "ZB-H1 (zero bubble)", ZbH1 with --w-batch
/// → "ZB-H1 (zero bubble) + w-batch", Custom → "custom".
std::string schedule_title(ScheduleKind kind, bool remat, bool w_batch = false);

/// Build a panel from a trace (computes metrics, origin and makespan; theory is the trace's;
/// the gap from the registry schedule its metadata names, or n/a for a custom one).
Panel make_panel(Trace trace, std::string source);
/// Same from a live run.
Panel make_panel(const RunResult& run);
/// Read a trace file into a panel. Throws pipelab::Error naming the path and the
/// field at fault (from read_chrome_trace_file), or that the trace has no devices.
Panel load_panel(const std::string& path);

/// The most runs the timeline stacks on one time axis (pipelab-viz a.json ... f.json): six,
/// so the five pipelines of `compare --schedules gpipe,1f1b,interleaved-1f1b,zb-h1,zb-h2`
/// fit with a baseline beside them.
constexpr std::size_t kMaxStackedPanels = 6;

/// Keep the first kMaxStackedPanels panels (top to bottom) and return how many were
/// dropped (0 when all fit). The app shows stacked_runs_note() for the dropped ones.
std::size_t keep_stackable(std::vector<Panel>& panels);
/// "6 runs loaded: showing the first 4 (pipelab-viz stacks at most 4 on one time axis)";
/// "" when `not_shown` is 0.
std::string stacked_runs_note(std::size_t shown, std::size_t not_shown);

/// Put a naive panel on top when exactly one of two panels is naive (so
/// `pipelab-viz x-gpipe.json x-naive.json`, the shell's glob order, still shows naive above).
void order_naive_first(std::vector<Panel>& panels);

/// Idle intervals of `device` inside the step, relative to the panel origin: the
/// complement of the union of its compute spans (F, B, R) within [0, step_us].
/// This is what utilization leaves out: busy + bubble = step_us on every device.
std::vector<Interval> bubble_intervals(const Panel& panel, int device);

/// Title band text: "GPipe · K=4, M=4 · sim · step 284.4 µs".
std::string panel_heading(const Panel& panel);
/// Right side of the title band: "mean util 57.1% · bubble 42.9% (theory 42.9%)", and
/// " · 2.28x vs naive" when a `baseline` (the top panel) is given.
std::string panel_summary(const Panel& panel, const Panel* baseline = nullptr);
/// "57.1%".
std::string format_percent(double fraction);

/// The compare table's theory bubble: the trace's value (meta.theory_bubble_fraction, the
/// run's own theory) and which formula it is: "42.9% = 3/7" for fill-drain (naive: M = 1,
/// and 1F1B, which has fill-drain's bubble), "36.0% (remat)" with remat, where the
/// fill-drain fraction would be another number, "11.1% (ZB-H1)" for a row with a formula
/// of its own (the zero-bubble rows: their fraction is not (K-1)/(M+K-1)).
std::string theory_bubble_label(const Panel& panel);
/// The formula behind theory_bubble_label, for its tooltip: "(K-1)/(M+K-1)", "(K-1)/K", or
/// with remat "1 - M(F+B+R)/(M(F+B+R)+(K-1)(F+B))" (docs/gpipe.md utilization_remat); for
/// another registry row "1 - " its utilization formula (schedule_registry()).
std::string theory_bubble_formula(const Panel& panel);

/// What the controls column shows, read-only, for a run loaded from a trace file: its own
/// K, M, schedule and backend (trace.meta), not the live demo's settings.
struct LoadedRunSummary {
  std::string source;    ///< the file path
  std::string schedule;  ///< trace.meta.schedule_name(): "naive", "gpipe", "1f1b+remat", "custom"
  std::string backend;   ///< trace.meta.backend: "sim", "cpu", "cuda"
  int devices = 0;       ///< K
  int microbatches = 0;  ///< M as scheduled (1 for naive)
};

/// One summary per panel, in panel order (top first).
std::vector<LoadedRunSummary> loaded_run_summaries(const std::vector<Panel>& panels);

/// Speedup of `panel` over `baseline` (baseline step / panel step), 0 if unknown.
double speedup(const Panel& baseline, const Panel& panel);

}  // namespace pipelab::viz
