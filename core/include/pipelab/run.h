// pipelab/run.h — one step from a RunConfig, and the naive-vs-GPipe comparison.
//
// RunConfig → Partition → Schedule (→ remat) → validate → Backend → execute →
// Trace → StepMetrics. This is what the CLI, the visualizer and the tests call.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "pipelab/config.h"
#include "pipelab/metrics.h"
#include "pipelab/model.h"
#include "pipelab/partition.h"
#include "pipelab/schedule.h"
#include "pipelab/trace.h"

namespace pipelab {

/// Whether each backend can run here, and why not.
struct BackendAvailability {
  bool sim = true;    ///< always available
  bool cpu = true;    ///< always available
  bool cuda = false;  ///< a cuda backend is built and a GPU is usable
  std::string cuda_reason;  ///< why cuda is unavailable ("" when available)
};
/// What `pipelab devices` prints: which backends can run here.
BackendAvailability backend_availability();

/// auto → cuda if a GPU is usable, else cpu. Throws UsageError("--backend") when
/// cuda is requested and unavailable.
BackendKind resolve_backend(BackendKind requested);

/// The partition the config asks for (even, or balanced on per-layer parameter counts).
Partition build_partition(const RunConfig& config);
/// The schedule the config asks for (naive forces M = 1), with Recompute if remat.
Schedule build_schedule(const RunConfig& config);

/// Everything one step produced.
struct RunResult {
  RunConfig config;  ///< as run: backend resolved, microbatches as scheduled
  Partition partition;   ///< layers of each stage
  Schedule schedule;     ///< the validated schedule that ran
  Trace trace;           ///< every span and memory sample
  StepMetrics metrics;   ///< computed from `trace`
  Theory theory;         ///< fill-drain theory for this K and M
  std::optional<StepNumerics> numerics;  ///< cpu/cuda only
};

/// Validate the config, build everything, run one step.
RunResult run_step(const RunConfig& config);

/// Naive MP and GPipe on the same model, devices and backend.
struct Comparison {
  RunResult naive;  ///< M = 1
  RunResult gpipe;  ///< config.microbatches
  double speedup = 0;  ///< naive step time / gpipe step time (measured)
  /// Transparency: both runs vs the single-device reference step (cpu/cuda only).
  std::optional<double> max_rel_diff;
  bool transparency_ok = false;  ///< max_rel_diff <= kTransparencyTolerance
};

/// Normwise tolerance of the transparency check (fp32).
constexpr double kTransparencyTolerance = 1e-5;

/// Runs naive (M = 1) then GPipe (config.microbatches), and on backends with
/// numerics checks both against reference_step(). `progress` (may be empty) is
/// called with a short message before each phase.
Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress = {});

}  // namespace pipelab
