// pipelab/runtime/run.h — one step from a RunConfig, and the naive-vs-GPipe comparison.
//
// RunConfig → Partition → Schedule (→ remat) → validate → Backend → execute →
// Trace → StepMetrics. This is what the CLI, the visualizer and the tests call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipelab/backends/backends.h"  // backend_availability, resolve_backend
#include "pipelab/model/config.h"
#include "pipelab/report/metrics.h"
#include "pipelab/model/model.h"
#include "pipelab/model/partition.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

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

/// Validate the config, build everything, run one step. On cuda the backend first
/// runs config.cuda.warmup_steps untimed steps (parameters left as initialised), so
/// the measured step pays no one-time costs and its numerics are a first step's.
RunResult run_step(const RunConfig& config);

/// The runs of a sweep, each validated (UsageError naming the flag at fault) before
/// anything runs: naive model parallelism (M = 1) first, then GPipe once per M in
/// `microbatch_counts`, in order, all on `config`'s model, devices and backend.
std::vector<RunConfig> sweep_configs(const RunConfig& config, const std::vector<int>& microbatch_counts);

/// Called before each run of a sweep: its index (0 = naive), the number of runs, its config.
using SweepProgress = std::function<void(std::size_t index, std::size_t total, const RunConfig& next)>;

/// run_step() for each of sweep_configs(config, microbatch_counts), in order.
std::vector<RunResult> run_sweep(const RunConfig& config, const std::vector<int>& microbatch_counts,
                                 const SweepProgress& progress = {});

/// Most timed steps of run_repeated().
constexpr int kMaxTimedSteps = 1000;

/// Several timed steps on one backend, for benchmarks.
struct RepeatedRun {
  std::vector<double> step_ms;  ///< makespan of each timed step, in order
  /// The median step (by makespan; the lower middle for an even count): its trace
  /// and metrics. No numerics: the parameters moved on with every step.
  RunResult median;
};

/// Like run_step(), then `timed_steps` measured steps (1..kMaxTimedSteps; else
/// UsageError naming --steps) on the same backend, each from zero gradients.
RepeatedRun run_repeated(const RunConfig& config, int timed_steps);

/// Normwise tolerance of the transparency check (fp32).
constexpr double kTransparencyTolerance = 1e-5;

/// Normwise tolerance of the transparency check when cuBLAS may use TF32: inputs
/// are rounded to a 10-bit mantissa (unit roundoff 2^-11 ≈ 4.9e-4) in every GEMM of
/// the forward and the backward pass, so gradients agree to about 1e-3, not 1e-6.
constexpr double kTf32TransparencyTolerance = 1e-2;

/// The transparency tolerance for `config` as run (backend resolved):
/// kTf32TransparencyTolerance for the cuda backend with --tf32, else the fp32
/// kTransparencyTolerance.
double transparency_tolerance(const RunConfig& config);

/// The single-device step the transparency check compares a pipelined step with.
enum class ReferenceKind {
  Cpu,   ///< reference_step(): the model on one CPU thread (model.cpp)
  Cuda,  ///< the same step on the cuda backend with K = 1, M = 1 (one GPU, no pipeline)
};
/// Most GEMM FLOPs per step (12·L·B·d·h) for which a cuda run is checked against
/// the CPU reference: 200 GFLOP take a few seconds on one core. Bigger cuda models are
/// checked against a single-device step on the GPU, whose kernels the GPU tests check
/// against the CPU reference (tests/gpu), so the check stays about pipelining.
constexpr double kCpuReferenceMaxFlops = 2e11;
/// Which reference `config` (as run: backend resolved) is checked against.
ReferenceKind reference_kind(const RunConfig& config);
/// "the single-device cpu reference step" or "a single-device step on the GPU (K=1, M=1)".
std::string describe(ReferenceKind kind);
/// The reference numerics for `config` (as run): reference_step(config.model), or a
/// K = 1, M = 1 naive step on the cuda backend.
StepNumerics transparency_reference(const RunConfig& config);

/// Naive MP and GPipe on the same model, devices and backend.
struct Comparison {
  RunResult naive;  ///< M = 1
  RunResult gpipe;  ///< config.microbatches
  double speedup = 0;  ///< naive step time / gpipe step time (measured)
  /// Transparency: both runs vs the single-device reference step (cpu/cuda only).
  std::optional<double> max_rel_diff;
  bool transparency_ok = false;  ///< max_rel_diff <= kTransparencyTolerance
  ReferenceKind reference = ReferenceKind::Cpu;  ///< what max_rel_diff compares with
};


/// Runs naive (M = 1) then GPipe (config.microbatches), and on backends with
/// numerics checks both against reference_step(). `progress` (may be empty) is
/// called with a short message before each phase.
Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress = {});

}  // namespace pipelab
