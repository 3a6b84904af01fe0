// run.cpp — RunConfig → one measured step; naive vs GPipe comparison.
#include "pipelab/runtime/run.h"

#include <algorithm>
#include <memory>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/validate.h"

namespace pipelab {

Partition build_partition(const RunConfig& c) {
  Partition p;
  if (c.partition == PartitionMethod::Even) {
    p = even_partition(c.model.layers, c.devices);
  } else {
    // Per-layer cost = parameter count (all blocks are the same shape today;
    // measured per-layer times can replace this later).
    const double params = static_cast<double>(block_param_count(c.model));
    p = balanced_partition(std::vector<double>(c.model.layers, params), c.devices);
  }
  check_partition(p, c.model.layers, c.devices);
  return p;
}

Schedule build_schedule(const RunConfig& c) {
  return generate_schedule(c.schedule, c.devices, c.microbatches, c.remat);
}

namespace {

// What run_step() and run_repeated() share: the validated config, partition and
// schedule, and the backend built for them.
struct PreparedRun {
  RunResult result;  // config, partition, schedule, theory filled in
  std::unique_ptr<Backend> backend;
  ExecutorOptions options;
};

PreparedRun prepare(const RunConfig& requested) {
  validate_config(requested);
  PreparedRun p;
  RunResult& r = p.result;
  r.config = requested;
  r.config.backend = resolve_backend(requested.backend);
  if (schedule_info(r.config.schedule).single_microbatch) r.config.microbatches = 1;
  r.partition = build_partition(r.config);
  r.schedule = build_schedule(r.config);
  validate(r.schedule);
  p.backend = make_backend(r.config, r.partition, r.schedule.microbatches);
  p.options.watchdog_seconds = r.config.watchdog_seconds;
  r.theory = schedule_theory(r.schedule);
  return p;
}

// The config's untimed warm-up steps (parameters left as initialised), on a backend
// that has one-time costs to pay before the measured step (cuda).
void warm_up(PreparedRun& p) {
  if (!p.backend->supports_warm_up()) return;
  p.backend->set_warm_up(true);
  for (int i = 0; i < p.result.config.cuda.warmup_steps; ++i) execute(p.result.schedule, *p.backend, p.options);
  p.backend->set_warm_up(false);
}

// One measured step into p.result (trace, metrics).
void measure(PreparedRun& p) {
  RunResult& r = p.result;
  r.trace = execute(r.schedule, *p.backend, p.options);
  r.trace.meta.config_json = to_json(r.config);
  r.metrics = compute_metrics(r.trace);
}

}  // namespace

RunResult run_step(const RunConfig& requested) {
  PreparedRun p = prepare(requested);
  warm_up(p);
  measure(p);
  p.result.numerics = p.backend->numerics();
  return std::move(p.result);
}

RepeatedRun run_repeated(const RunConfig& requested, int timed_steps) {
  if (timed_steps < 1 || timed_steps > kMaxTimedSteps)
    PIPELAB_USAGE_ERROR("--steps", "must be between 1 and " + std::to_string(kMaxTimedSteps) + ", got " +
                                       std::to_string(timed_steps),
                        "3 to 10 timed steps give a stable median");
  // Only the cuda backend starts each step afresh (zero gradients, new books, new
  // origin); the sim's clocks and the cpu's gradients carry over from step to step.
  if (resolve_backend(requested.backend) != BackendKind::Cuda)
    PIPELAB_USAGE_ERROR("--backend", "repeated timed steps run on the cuda backend only",
                        "use `pipelab run` or `pipelab sweep` for one step on sim or cpu");
  PreparedRun p = prepare(requested);
  warm_up(p);
  RepeatedRun out;
  std::vector<RunResult> steps;
  for (int i = 0; i < timed_steps; ++i) {
    measure(p);
    out.step_ms.push_back(p.result.metrics.makespan_ms);
    steps.push_back(p.result);
  }
  // The median step (the lower middle one for an even count): its trace and metrics.
  std::vector<std::size_t> order(steps.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return out.step_ms[a] < out.step_ms[b]; });
  out.median = std::move(steps[order[(order.size() - 1) / 2]]);
  return out;
}

double transparency_tolerance(const RunConfig& config) {
  return config.backend == BackendKind::Cuda && config.cuda.tf32 ? kTf32TransparencyTolerance
                                                                 : kTransparencyTolerance;
}

std::vector<RunConfig> sweep_configs(const RunConfig& config, const std::vector<int>& microbatch_counts) {
  std::vector<RunConfig> configs;
  RunConfig naive = config;
  naive.schedule = ScheduleKind::Naive;
  naive.microbatches = 1;
  configs.push_back(naive);
  for (int m : microbatch_counts) {
    RunConfig c = config;
    c.schedule = ScheduleKind::Gpipe;
    c.microbatches = m;
    configs.push_back(c);
  }
  // Every setting is checked before the first step runs (M > batch, ...).
  for (const RunConfig& c : configs) validate_config(c);
  return configs;
}

std::vector<RunResult> run_sweep(const RunConfig& config, const std::vector<int>& microbatch_counts,
                                 const SweepProgress& progress) {
  const std::vector<RunConfig> configs = sweep_configs(config, microbatch_counts);
  std::vector<RunResult> runs;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    if (progress) progress(i, configs.size(), configs[i]);
    runs.push_back(run_step(configs[i]));
  }
  return runs;
}

ReferenceKind reference_kind(const RunConfig& c) {
  return c.backend == BackendKind::Cuda && step_gemm_flops(c.model) > kCpuReferenceMaxFlops ? ReferenceKind::Cuda : ReferenceKind::Cpu;
}

std::string describe(ReferenceKind kind) {
  return kind == ReferenceKind::Cpu ? "the single-device cpu reference step"
                                    : "a single-device step on the GPU (K=1, M=1)";
}

StepNumerics transparency_reference(const RunConfig& config) {
  if (reference_kind(config) == ReferenceKind::Cpu) return reference_step(config.model);
  RunConfig one = config;  // the same model, precision and GEMM on one GPU, no pipeline
  one.devices = 1;
  one.microbatches = 1;
  one.schedule = ScheduleKind::Naive;
  one.remat = false;
  one.partition = PartitionMethod::Even;
  one.cuda.placement = CudaPlacement::Streams;
  one.cuda.transport = CudaTransport::Peer;
  one.trace_path.clear();
  one.sim.stage_skew.clear();
  return *run_step(one).numerics;
}

Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  Comparison c;
  std::vector<RunResult> runs =
      run_sweep(config, {config.microbatches}, [&](std::size_t, std::size_t, const RunConfig& next) {
        if (next.schedule == ScheduleKind::Naive)
          say("naive model parallelism (K=" + std::to_string(next.devices) + ", M=1)");
        else
          say("GPipe (K=" + std::to_string(next.devices) + ", M=" + std::to_string(next.microbatches) + ")");
      });
  c.naive = std::move(runs[0]);
  c.gpipe = std::move(runs[1]);
  c.speedup = c.gpipe.metrics.makespan_ms > 0 ? c.naive.metrics.makespan_ms / c.gpipe.metrics.makespan_ms : 0;
  if (c.naive.numerics && c.gpipe.numerics) {
    c.reference = reference_kind(c.gpipe.config);
    say(describe(c.reference) + " (transparency check)");
    const StepNumerics reference = transparency_reference(c.gpipe.config);
    c.max_rel_diff = std::max(max_relative_difference(*c.naive.numerics, reference),
                              max_relative_difference(*c.gpipe.numerics, reference));
    c.transparency_ok = *c.max_rel_diff <= transparency_tolerance(c.gpipe.config);
  }
  return c;
}

}  // namespace pipelab
