// pipelab/report/metrics.h — the numbers of one step, computed from a Trace.
//
// Definitions (docs/metrics.md, used everywhere, tests included):
//   makespan T      = max(end) - min(start) over all events of the step
//   busy_d          = length of the union of compute spans (F, B, R, I, W) on device d
//   utilization_d   = busy_d / T
//   bubble_fraction = 1 - mean_d utilization_d
//   theory (balanced stages, fill-drain): utilization M / (M + K - 1),
//   bubble (K - 1) / (M + K - 1) — the GPipe paper's share of total time.
//   bubble_over_busy = Σ_d (T - busy_d) / Σ_d busy_d: the bubble relative to busy time,
//   Megatron's convention ((p - 1) / m for balanced fill-drain); = bubble / (1 - bubble).
// Communication time is reported on its own; it never counts as busy.
#pragma once

#include <cstdint>
#include <vector>

#include "pipelab/schedule/registry.h"  // Theory, fill_drain_theory
#include "pipelab/trace/trace.h"

namespace pipelab {

/// Measured numbers of one step. All times in milliseconds.
struct StepMetrics {
  double makespan_ms = 0;            ///< T = max(end) - min(start)
  std::vector<double> busy_ms;        ///< per device: union of compute spans
  std::vector<double> utilization;    ///< per device: busy / makespan
  double mean_utilization = 0;       ///< mean over devices of utilization
  double bubble_fraction = 0;         ///< 1 - mean utilization
  /// Idle device-time over busy device-time, summed over devices: Σ(T - busy_d) / Σ busy_d
  /// (Megatron's convention; 0 when nothing was busy).
  double bubble_over_busy = 0;
  std::vector<double> comm_ms;        ///< per device: union of its send and recv spans
  double comm_time_ms = 0;            ///< sum of all transfer durations (send spans), each once
  std::uint64_t comm_bytes = 0;       ///< bytes over all transfers
  std::vector<std::uint64_t> peak_memory_bytes;  ///< per device: peak of the total over categories
  std::vector<MemoryBytes> peak_memory_by_category;  ///< per device, per category
  /// Per device: on-core fraction = Σ thread CPU time / Σ wall time over its compute
  /// spans (docs/metrics.md). 1 = the worker ran on a core all through its actions;
  /// 0.5 = half of the time it waited for one. Empty when the trace has no CPU times
  /// (sim, cuda); NaN for a device that has none of them.
  std::vector<double> on_core_fraction;
};

/// Compute the metrics of a trace with `devices` devices.
/// Utilization and bubble come from exercise.h's measure_utilization() (ex04).
StepMetrics compute_metrics(const Trace& trace);

}  // namespace pipelab
