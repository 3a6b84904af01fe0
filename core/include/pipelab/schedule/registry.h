// pipelab/schedule/registry.h — every schedule the kit knows, one row each.
//
// A row says what a schedule is (kind, CLI name, title), how it is built (the
// generator, from exercise.h) and what theory predicts for it (the formula, its
// source, and a function that evaluates it). The CLI parser, JSON, the trace
// reader, the report and the visualizer all read this table, and the schedule
// contract test iterates it: adding a schedule is one generator plus one row
// (docs/add-schedule.md).
#pragma once

#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Theory for balanced stages and free links (labelled "theory" wherever shown).
struct Theory {
  double utilization = 0;      ///< e.g. M / (M + K - 1) for fill-drain
  double bubble_fraction = 0;  ///< 1 - utilization, e.g. (K - 1) / (M + K - 1)
};

/// Theory of fill-drain (GPipe) with `devices` = K balanced stages and `microbatches` = M:
/// utilization M / (M + K - 1), bubble (K - 1) / (M + K - 1) (the GPipe paper's share of
/// total time; naive model parallelism is M = 1: 1 / K). Throws pipelab::Error unless
/// K >= 1 and M >= 1.
Theory fill_drain_theory(int devices, int microbatches);

/// One schedule the kit can build.
struct ScheduleInfo {
  ScheduleKind kind;  ///< typed identity (Schedule::kind)
  const char* name;   ///< CLI name (--schedule), JSON and trace name
  const char* title;  ///< for people: "GPipe (fill-drain)"
  /// True when the schedule is one batch by definition (naive: M = 1).
  bool single_microbatch;
  /// Builds the schedule for K devices and M micro-batches (M is 1 when single_microbatch).
  Schedule (*generate)(int devices, int microbatches);
  /// Evaluates the row's theory for K and M (as scheduled).
  Theory (*theory)(int devices, int microbatches);
  const char* theory_formula;  ///< the utilization formula, as printed: "M/(M+K-1)"
  const char* theory_source;   ///< where the formula comes from
};

/// Every schedule, in the order the CLI lists them (Custom is not a row).
const std::vector<ScheduleInfo>& schedule_registry();

/// The row of `kind`. Throws pipelab::Error for ScheduleKind::Custom (no generator).
const ScheduleInfo& schedule_info(ScheduleKind kind);

/// The kind named `name` ("naive", "gpipe", "1f1b"); UsageError naming --schedule otherwise.
ScheduleKind schedule_from_string(const std::string& name);

/// "naive, gpipe, 1f1b": the CLI names in registry order, joined by `separator`
/// (", " for hints, "|" for help texts).
std::string schedule_names(const char* separator = ", ");

/// The schedule of `kind` for K devices and M micro-batches (M forced to 1 for a
/// single-micro-batch schedule), with re-materialization (with_recompute) if `remat`.
Schedule generate_schedule(ScheduleKind kind, int devices, int microbatches, bool remat);

/// The theory of a schedule as built: its row's formula for its K and M.
Theory schedule_theory(const Schedule& schedule);

}  // namespace pipelab
