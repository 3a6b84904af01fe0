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
/// For a schedule file (ScheduleKind::Custom) its chunks and placement are the file's:
/// `schedule`'s when the caller has read it already, else the file is read.
Partition build_partition(const RunConfig& config, const Schedule* schedule = nullptr);
/// The schedule the config asks for (naive forces M = 1), with Recompute if remat; for
/// ScheduleKind::Custom the one in config.schedule_file (read_schedule_file), whose K, M
/// and remat must be the config's (else pipelab::Error). With config.w_batch, through
/// with_batched_weight (schedule/batched_weight.h).
Schedule build_schedule(const RunConfig& config);

/// Throws UsageError naming --w-batch when config.w_batch and `backend` is cuda, which has
/// no whole-batch W (its split backward, --cuda-split-backward, runs one W per micro-batch):
/// before a GPU is looked for (the CLI), and once auto has chosen.
void refuse_w_batch_on(const RunConfig& config, BackendKind backend);

/// How many steps a run takes: untimed warm-up steps, then timed ones.
struct StepPlan {
  int warmup = 0;  ///< untimed steps first (one-time costs: caches, lazy loading, allocators)
  int timed = 1;   ///< timed steps; the run reports the median one
};
/// The M `config` runs with: 1 for a schedule that is one micro-batch by definition
/// (naive), whatever M the config carries (the CLI refuses a typed -M != 1 for it);
/// else config.microbatches.
int scheduled_microbatches(const RunConfig& config);

/// The plan for `config` as run (backend resolved): --warmup / --repeat where given
/// (>= 0 / >= 1), else the backend's default — sim 0 + 1 (virtual time: every step is
/// the same step), cpu 1 + 5, cuda 1 + 3.
StepPlan step_plan(const RunConfig& config);

/// The same step replayed from its measured per-action costs on dedicated devices
/// (backends/replay.h): labelled "replayed from measured costs" wherever shown.
struct ReplayResult {
  Trace trace;          ///< the replayed spans (virtual time, no memory samples)
  StepMetrics metrics;  ///< computed from `trace`
  bool cpu_time = false;  ///< costs were thread CPU times (cpu) rather than spans
  int steps = 1;          ///< measured steps the costs are the per-action median of
};
/// Replay `measured` (a step of `schedule`) through the event engine.
ReplayResult replay_step(const Schedule& schedule, const Trace& measured);
/// Replay `schedule` with each action at the median of its costs over `steps` (measured
/// steps of that schedule; backends/replay.h, measured_costs).
ReplayResult replay_steps(const Schedule& schedule, const std::vector<const Trace*>& steps);

/// The machine while the run ran: what bounds a cpu run's wall-clock speedup.
struct HostLoad {
  unsigned hardware_threads = 0;  ///< std::thread::hardware_concurrency()
  double load_average = -1;       ///< 1-minute load average after the run (-1: unknown)
};

/// Everything one run produced.
struct RunResult {
  RunConfig config;  ///< as run: backend resolved, microbatches as scheduled
  Partition partition;   ///< layers of each stage
  Schedule schedule;     ///< the validated schedule that ran
  Trace trace;           ///< every span and memory sample of the median timed step
  StepMetrics metrics;   ///< computed from `trace`
  Theory theory;         ///< the schedule's theory (registry) for this K and M
  std::optional<StepNumerics> numerics;  ///< cpu/cuda only: a first step's (see run_step)
  StepPlan plan;                 ///< warm-up and timed steps, as run
  std::vector<double> step_ms;   ///< makespan of every timed step, in order
  std::size_t median_step = 0;   ///< index in step_ms of the step `trace` is from
  std::optional<ReplayResult> replay;  ///< cpu/cuda: replayed at each action's median cost
  HostLoad host;                 ///< the machine's load when the run ended
};

/// Validate the config, build everything, run step_plan(config): the warm-up steps,
/// then the timed steps, and keep the median one (by makespan; the lower middle for
/// an even count). Every step starts from the initial parameters and zero gradients:
/// all but the last timed step run as warm-up steps (SGD with learning rate 0, the
/// same work), so the numerics are a first step's whatever the plan. On cpu and cuda
/// the step is also replayed from its measured costs (each action's median over the
/// timed steps).
RunResult run_step(const RunConfig& config);

/// The runs of a sweep, each validated (UsageError naming the flag at fault) before
/// anything runs: naive model parallelism (M = 1) first, then GPipe once per M in
/// `microbatch_counts`, in order, all on `config`'s model, devices and backend.
std::vector<RunConfig> sweep_configs(const RunConfig& config, const std::vector<int>& microbatch_counts);

/// Called before each step of a sweep: the step's number, the number of steps, the run.
using SweepProgress = std::function<void(std::size_t step, std::size_t total, const RunConfig& run)>;

/// Every run of sweep_configs(config, microbatch_counts), paired: all runs are built
/// and warmed up first, then their timed steps alternate (naive, M1, M2, …, naive,
/// M1, …), so a slow period of the machine hits every run alike (paired_speedup()).
std::vector<RunResult> run_sweep(const RunConfig& config, const std::vector<int>& microbatch_counts,
                                 const SweepProgress& progress = {});

/// The runs `configs` ask for, paired like run_sweep(): all are prepared (validated,
/// built) and warmed up first, then timed step i of every run before step i + 1 of any,
/// so a slow period of the machine hits every run alike. Results in the order given.
std::vector<RunResult> run_paired(const std::vector<RunConfig>& configs, const SweepProgress& progress = {});

/// A speedup measured step by step: the ratios of paired steps (naive step i over
/// this run's step i), their median and spread.
struct PairedSpeedup {
  std::vector<double> ratios;  ///< one per pair of timed steps
  double median = 0;           ///< the speedup reported
  double min = 0;              ///< spread: smallest ratio
  double max = 0;              ///< spread: largest ratio
};
/// The paired speedup of `run` over `naive` (both from one run_sweep()).
PairedSpeedup paired_speedup(const RunResult& naive, const RunResult& run);


/// Several timed steps on one backend, for benchmarks.
struct RepeatedRun {
  std::vector<double> step_ms;  ///< makespan of each timed step, in order
  RunResult median;             ///< the run, with the median step's trace and metrics
};

/// run_step() with `timed_steps` timed steps (1..kMaxTimedSteps; else UsageError
/// naming --steps).
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
  double speedup = 0;  ///< median of the paired step-time ratios naive / gpipe (measured)
  PairedSpeedup paired;  ///< every paired ratio, and their spread
  /// naive / gpipe makespan of the replays (cpu, cuda): "replayed from measured costs".
  std::optional<double> replayed_speedup;
  /// Transparency: both runs vs the single-device reference step (cpu/cuda only).
  std::optional<double> max_rel_diff;
  bool transparency_ok = false;  ///< max_rel_diff <= kTransparencyTolerance
  ReferenceKind reference = ReferenceKind::Cpu;  ///< what max_rel_diff compares with
};


/// run_sweep() of naive (M = 1) and GPipe (config.microbatches), paired step by step,
/// and on backends with numerics checks both against the transparency reference. `progress` (may be empty) is
/// called with a short message before each phase.
Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress = {});

}  // namespace pipelab
