// pipelab/report/gap.h — the gap between the ideal and the measured step, decomposed.
//
// Every instant of a device's step [t0, T] is given to exactly one term, the first that
// applies (docs/metrics.md, "The gap explained"):
//   compute     inside one of its F, B, R, I, W spans (busy time)
//   optimizer   inside its OptimizerStep span
//   comm        inside one of its send / recv spans (communication not hidden by compute)
//   bubble      waiting on a dependency: from the end of its previous compute to the
//               arrival of a receive (or the end of a collective) its program waits for
//               before the next compute; and after its last action, to the step's end
//   host        the rest: the device had what it needed and did not compute (executor,
//               thread wake-up, launch gaps)
// so the five add up to T on every device, exactly. The report shows their mean over
// devices (which adds up to T too): compute / T is then the mean utilization and the other
// four add up to the bubble fraction of the table. Compute splits further against the same
// work measured at B rows (the naive run): work at B rows + micro-batch inefficiency +
// waiting for a core (cpu: span minus thread CPU time).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipelab/schedule/registry.h"  // Theory
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

/// One device's step (or the mean over devices), term by term, in ms. The five terms
/// compute + optimizer + comm + bubble + host add up to the step.
struct GapTerms {
  double compute_ms = 0;    ///< union of its F, B, R, I, W spans (StepMetrics::busy_ms)
  double optimizer_ms = 0;  ///< its OptimizerStep span, outside compute
  double comm_ms = 0;       ///< its send and recv spans outside compute and optimizer: not hidden
  double bubble_ms = 0;     ///< waiting on a dependency (a receive, a collective), or done before T
  double host_ms = 0;       ///< the rest: neither computing, nor communicating, nor waiting
  /// Σ thread CPU time of its compute spans (cpu backend); nullopt where the trace has none.
  std::optional<double> on_core_ms;

  /// compute + optimizer + comm + bubble + host.
  double total_ms() const { return compute_ms + optimizer_ms + comm_ms + bubble_ms + host_ms; }
};

/// The decomposition of one step.
struct StepGap {
  double step_ms = 0;                ///< T = max(end) - min(start) (StepMetrics::makespan_ms)
  std::vector<GapTerms> per_device;  ///< each adds up to step_ms
  GapTerms mean;                     ///< mean over devices of each term; adds up to step_ms
};

/// Decompose `trace`, a step of `schedule` (each device's program gives the order in which
/// it waited for its receives). Throws pipelab::Error when the trace lacks an action of
/// the schedule or has another number of devices.
StepGap decompose_step(const Trace& trace, const Schedule& schedule);

/// The compute term, mean per device, split against the same work measured at B rows.
/// compute = full_batch + microbatch + off_core, where each is measured or n/a (nullopt
/// with its reason); a term that is n/a is inside the one before it (off core inside
/// micro-batch inefficiency on sim and cuda).
struct ComputeSplit {
  std::optional<double> full_batch_ms;  ///< the reference's compute (its thread CPU time on cpu)
  std::optional<double> microbatch_ms;  ///< this run's compute (on cpu: on a core) minus full_batch
  std::optional<double> off_core_ms;    ///< compute spans minus their thread CPU time (cpu)
  std::string reference_na;  ///< why full_batch and microbatch are n/a ("" when measured)
  std::string off_core_na;   ///< why off_core is n/a ("" when measured)
};

/// Split `run`'s compute against `reference`, the same work at B rows (the naive run of
/// the same config; nullptr: none measured). `backend` names the reason of an n/a.
ComputeSplit split_compute(const StepGap& run, const StepGap* reference, const std::string& backend);

/// The chain ideal speedup → measured speedup, in x, each loss c · (its share of the
/// step), c = T_naive / W (docs/metrics.md derives it):
///   measured = ideal + naive_gaps − bubble_above_theory − microbatch − off_core − comm − host − optimizer
/// exactly, where measured = T_naive / T of the two decomposed (median) steps.
struct SpeedupChain {
  double ideal = 0;       ///< theory: the run's ideal speedup over naive (registry)
  double naive_gaps = 0;  ///< ideal · (u_naive,theory / u_naive − 1): naive's own losses, a gain here
  double bubble_above_theory = 0;  ///< c · (bubble / T − theory bubble fraction)
  double microbatch = 0;           ///< c · micro-batch inefficiency / T
  std::optional<double> off_core;  ///< c · waiting for a core / T (nullopt where n/a)
  double comm = 0;                 ///< c · comm / T
  double host = 0;                 ///< c · host / T
  double optimizer = 0;            ///< c · optimizer / T
  double measured = 0;             ///< T_naive / T
};

/// The chain of `run` over `naive`, or nullopt when the split has no reference or either
/// step is empty.
std::optional<SpeedupChain> speedup_chain(const StepGap& naive, const StepGap& run, const ComputeSplit& split,
                                          const Theory& run_theory);

}  // namespace pipelab
