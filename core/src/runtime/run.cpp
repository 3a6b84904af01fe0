// run.cpp — RunConfig → one measured step; naive vs GPipe comparison.
#include "pipelab/runtime/run.h"

#include <algorithm>
#include <memory>
#include <optional>

#include <cstdlib>
#include <thread>

#include "pipelab/backends/backends.h"
#include "pipelab/backends/replay.h"
#include "pipelab/error.h"
#include "pipelab/runtime/event_engine.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/runtime/spmd.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/batched_weight.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule_file.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/statistics.h"
#include "spmd_run.h"

namespace pipelab {

Partition build_partition(const RunConfig& c, const Schedule* schedule) {
  Partition p;
  if (c.schedule == ScheduleKind::DataParallel) {
    // Data parallelism: one stage of every layer, on each of the K devices.
    p.boundaries = {0, c.model.layers};
    p.replicas = c.devices;
  } else {
    // With v chunks per device the layers go into K·v virtual stages, placed as the
    // schedule's row says (interleaved round the devices, or zbv's V), or as a schedule
    // file's header does (read here too: the file is the schedule).
    const ScheduleInfo* row = c.schedule != ScheduleKind::Custom ? &schedule_info(c.schedule) : nullptr;
    int chunks = row ? scheduled_chunks(*row, c.chunks) : 1;
    ChunkPlacement placement = row ? row->placement : ChunkPlacement::Interleaved;
    std::optional<Schedule> file;
    if (!row && !schedule && !c.schedule_file.empty()) schedule = &file.emplace(read_schedule_file(c.schedule_file));
    if (!row && schedule) {
      chunks = schedule->chunks;
      placement = schedule->placement;
    }
    const int stages = c.devices * chunks;
    if (c.partition == PartitionMethod::Even) {
      p = even_partition(c.model.layers, stages);
    } else {
      // Per-layer cost = parameter count (all blocks are the same shape today;
      // measured per-layer times can replace this later).
      const double params = static_cast<double>(block_param_count(c.model));
      p = balanced_partition(std::vector<double>(c.model.layers, params), stages);
    }
    p.chunks = chunks;
    p.placement = placement;
  }
  check_partition(p, c.model.layers, p.stages());
  return p;
}

void refuse_w_batch_on(const RunConfig& config, BackendKind backend) {
  if (config.w_batch && backend == BackendKind::Cuda)
    PIPELAB_USAGE_ERROR("--w-batch", "the whole-batch W is not supported on the cuda backend yet: its split "
                                     "backward (--cuda-split-backward, not yet run on a GPU) runs one W per "
                                     "micro-batch",
                        "run it with --backend cpu or --backend sim, or drop --w-batch");
}

Schedule build_schedule(const RunConfig& c) {
  // --w-batch rewrites the schedule as built (after remat: B's R stays before its I).
  if (c.schedule != ScheduleKind::Custom) {
    Schedule s = generate_schedule(c.schedule, c.devices, c.microbatches, c.remat, c.chunks);
    return c.w_batch ? with_batched_weight(s) : s;
  }
  if (c.schedule_file.empty())
    PIPELAB_THROW("a custom schedule has no generator: the config names no schedule file",
                  "set RunConfig::schedule_file (--schedule-file FILE), or a registry schedule");
  Schedule s = read_schedule_file(c.schedule_file);  // parsed and validated
  // The backends are built from the config (memory plans, micro-batch rows, remat):
  // it must describe the schedule that runs.
  // (Its chunks need not be: prepare() and build_partition() take them from the file.)
  if (s.stages != c.devices || s.microbatches != c.microbatches || s.remat != c.remat)
    PIPELAB_THROW("the schedule file '" + c.schedule_file + "' has K=" + std::to_string(s.stages) + " M=" +
                      std::to_string(s.microbatches) + (s.remat ? " with remat" : " without remat") +
                      ", the config K=" + std::to_string(c.devices) + " M=" + std::to_string(c.microbatches) +
                      (c.remat ? " with remat" : " without remat"),
                  "take devices, microbatches and remat from the file (the CLI does)");
  return c.w_batch && !s.w_batch ? with_batched_weight(s) : s;
}

int scheduled_microbatches(const RunConfig& c) {
  // A file's schedule (Custom) brings its own M; a registry schedule that sets its own
  // runs that (naive: M = 1, data-parallel: M = K, one share per replica).
  if (c.schedule == ScheduleKind::Custom) return c.microbatches;
  return scheduled_microbatches(schedule_info(c.schedule), c.devices, c.microbatches);
}

StepPlan step_plan(const RunConfig& c) {
  StepPlan plan;
  // Defaults: virtual time needs one step; a real device pays one-time costs in a
  // first step, and its steps vary, so several timed steps give a median and a spread.
  switch (c.backend) {
    case BackendKind::Cpu: plan = {1, 5}; break;
    case BackendKind::Cuda: plan = {1, 3}; break;
    default: plan = {0, 1}; break;
  }
  if (c.warmup_steps >= 0) plan.warmup = c.warmup_steps;
  if (c.repeat_steps >= 1) plan.timed = c.repeat_steps;
  return plan;
}

ReplayResult replay_step(const Schedule& schedule, const Trace& measured) {
  return replay_steps(schedule, {&measured});
}

ReplayResult replay_steps(const Schedule& schedule, const std::vector<const Trace*>& steps) {
  ReplayResult r;
  MeasuredCosts costs = measured_costs(steps);
  r.cpu_time = costs.cpu_time;
  r.steps = static_cast<int>(steps.size());
  std::unique_ptr<Backend> replay = make_replay_backend(std::move(costs), schedule.stages);
  r.trace = execute_event_driven(schedule, *replay);
  r.trace.meta.config_json = steps.front()->meta.config_json;
  r.metrics = compute_metrics(r.trace);
  return r;
}

namespace {

// One run of a sweep while it runs: the validated config, partition, schedule and
// plan, the backend built for them, and every timed step so far.
struct PreparedRun {
  RunResult result;  // config, partition, schedule, theory, plan filled in
  std::unique_ptr<Backend> backend;
  ExecutorOptions options;
  std::vector<Trace> traces;  // one per timed step
};

// The run's backend, each device's allocator capped at --device-memory-mib (if set).
std::unique_ptr<Backend> make_run_backend(const RunResult& r) {
  // One rank of a multi-process run holds its own stage alone (runtime/spmd.h).
  auto backend = spmd_rank() ? detail::spmd_make_backend(r.config, r.partition, r.schedule.microbatches)
                             : make_backend(r.config, r.partition, r.schedule.microbatches);
  if (const std::uint64_t cap = device_memory_cap_bytes(r.config))
    for (int d = 0; d < r.partition.devices(); ++d) backend->memory(d).set_cap(cap);
  return backend;
}

PreparedRun prepare(const RunConfig& requested) {
  PreparedRun p;
  RunResult& r = p.result;
  r.config = requested;
  // Check the config it will run with: naive is M = 1 whatever M the config carries.
  r.config.microbatches = scheduled_microbatches(r.config);
  // Chunks only for a schedule that takes them (interleaved-1f1b) or fixes them (zbv: 2):
  // 1 for every other; a schedule file's are its own, so the file is read first.
  std::optional<Schedule> from_file;
  if (r.config.schedule == ScheduleKind::Custom) {
    from_file = build_schedule(r.config);
    r.config.chunks = from_file->chunks;
  } else {
    r.config.chunks = scheduled_chunks(schedule_info(r.config.schedule), r.config.chunks);
  }
  validate_config(r.config);
  // The flag that set the chunks: --chunks, or zbv's own two, or a schedule file's header.
  const bool fixed_chunks =
      r.config.schedule != ScheduleKind::Custom && schedule_info(r.config.schedule).fixed_chunks > 0;
  const char* chunk_flag = fixed_chunks                                ? "--schedule"
                           : r.config.schedule == ScheduleKind::Custom ? "--schedule-file"
                                                                       : "--chunks";
  if (static_cast<long long>(r.config.devices) * r.config.chunks > r.config.model.layers)
    PIPELAB_USAGE_ERROR(fixed_chunks ? "--layers" : chunk_flag,
                        "K·v = " + std::to_string(r.config.devices) + "·" + std::to_string(r.config.chunks) +
                            " virtual stages but only " + std::to_string(r.config.model.layers) +
                            " layers: every chunk needs a layer",
                        "use fewer --chunks or devices, or more --layers");
  // The cuda backend has no gradient all-reduce yet (NCCL's is the plan): said before the
  // backend is looked for (whether or not a GPU is here), and again if auto picks cuda.
  const auto refuse_on_cuda = [&](BackendKind backend) {
    if (backend == BackendKind::Cuda && r.config.schedule == ScheduleKind::DataParallel)
      PIPELAB_USAGE_ERROR("--schedule", "data-parallel is not supported on the cuda backend yet",
                          "run it with --backend cpu (a real all-reduce between the device threads) or --backend sim");
    refuse_w_batch_on(r.config, backend);  // nor --w-batch: no whole-batch W on cuda yet
  };
  refuse_on_cuda(requested.backend);
  r.config.backend = resolve_backend(requested.backend);
  refuse_on_cuda(r.config.backend);
  // --w-batch: data parallelism runs one micro-batch per replica: nothing to batch.
  if (r.config.w_batch && r.config.schedule == ScheduleKind::DataParallel)
    PIPELAB_USAGE_ERROR("--w-batch", "data-parallel has no W's to batch: each replica runs one micro-batch",
                        "drop --w-batch, or pick a pipeline schedule (gpipe, 1f1b, zb-h1, ...)");
  // Nor model chunks (interleaved 1F1B): its devices hold one stage each.
  if (r.config.backend == BackendKind::Cuda && r.config.chunks > 1)
    PIPELAB_USAGE_ERROR(chunk_flag,
                        "model chunks (" + std::string(to_string(r.config.schedule)) +
                            ") are not supported on the cuda backend yet",
                        "run it with --backend cpu or --backend sim" +
                            std::string(r.config.schedule == ScheduleKind::Interleaved1F1B ? ", or use --chunks 1"
                                                                                           : ""));
  // Processes (mpirun): one config on every rank, K ranks, the cpu backend. Their
  // transport (MPI_Isend / MPI_Irecv) is async p2p, what validate() proves below.
  if (spmd_rank()) detail::spmd_check_run(r.config);
  r.partition = build_partition(r.config, from_file ? &*from_file : nullptr);
  r.schedule = from_file ? std::move(*from_file) : build_schedule(r.config);
  validate(r.schedule);
  // --p2p: the schedule must also be deadlock-free under the p2p model the user will
  // port it to; invalid input (exit 2) naming the flag, before anything runs. (async is
  // what validate() just proved: no second pass over a large sim schedule.)
  if (r.config.p2p != P2pModel::Async) {
    try {
      validate(r.schedule, r.config.p2p);
    } catch (const Error& e) {
      PIPELAB_USAGE_ERROR("--p2p", e.message(), e.hint());
    }
  }
  // --device-memory-mib: refused before any backend allocates, from the sim's prediction.
  check_memory_cap(r.config, r.partition, r.schedule);
  p.backend = make_run_backend(r);
  p.options.watchdog_seconds = r.config.watchdog_seconds;
  r.theory = schedule_theory(r.schedule);
  r.plan = step_plan(r.config);
  return p;
}

// One step on the run's backend. `warm_up`: SGD with learning rate 0, so the
// parameters stay as initialised and the next step computes what a first step would.
Trace one_step(PreparedRun& p, bool warm_up) {
  RunResult& r = p.result;
  if (!p.backend->supports_warm_up()) {
    // No restart in place: every step after the first gets a fresh backend.
    if (!p.traces.empty()) p.backend = make_run_backend(r);
  } else {
    p.backend->set_warm_up(warm_up);
  }
  Trace trace = p.backend->virtual_time() ? execute_event_driven(r.schedule, *p.backend)
                : spmd_rank()               ? detail::spmd_execute(r.schedule, *p.backend, p.options)
                                            : execute(r.schedule, *p.backend, p.options);
  if (p.backend->supports_warm_up()) p.backend->set_warm_up(false);
  return trace;
}

void warm_up(PreparedRun& p) {
  // Warm-up steps on a backend without them would only be thrown away: skip them.
  if (!p.backend->supports_warm_up()) return;
  for (int i = 0; i < p.result.plan.warmup; ++i) one_step(p, /*warm_up=*/true);
}

// Timed step `index` of the plan: all but the last leave the parameters as they were.
void timed_step(PreparedRun& p, int index) {
  const bool last = index + 1 == p.result.plan.timed;
  Trace trace = one_step(p, /*warm_up=*/!last);
  // The makespan T = max(end) − min(start) (docs/metrics.md); the full metrics are
  // computed once, for the median step.
  double first = 0, last_end = 0;
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& e = trace.events[i];
    first = i == 0 ? e.start_us : std::min(first, e.start_us);
    last_end = i == 0 ? e.end_us() : std::max(last_end, e.end_us());
  }
  p.result.step_ms.push_back((last_end - first) * 1e-3);
  p.traces.push_back(std::move(trace));
}

// The median step's trace and metrics, the last step's numerics, the replay.
RunResult finish(PreparedRun& p) {
  RunResult& r = p.result;
  std::vector<std::size_t> order(r.step_ms.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // The median (the lower middle for an even count); ties go to the earlier step.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return r.step_ms[a] < r.step_ms[b]; });
  r.median_step = order[(order.size() - 1) / 2];
  // Virtual time replays to itself (tested); a real device's measurement is replayed,
  // each action at the median of its costs over the timed steps.
  if (r.config.backend == BackendKind::Cpu || r.config.backend == BackendKind::Cuda) {
    std::vector<const Trace*> steps;
    for (const Trace& t : p.traces) steps.push_back(&t);
    r.replay = replay_steps(r.schedule, steps);
    r.replay->trace.meta.config_json = to_json(r.config);
  }
  r.trace = std::move(p.traces[r.median_step]);
  r.trace.meta.config_json = to_json(r.config);
  r.metrics = compute_metrics(r.trace);
  r.numerics = spmd_rank() ? detail::spmd_numerics(*p.backend, r.config, r.partition) : p.backend->numerics();
  r.host.hardware_threads = std::thread::hardware_concurrency();
  double load[1];
  if (getloadavg(load, 1) == 1) r.host.load_average = load[0];
  return std::move(r);
}

// Runs the prepared runs paired: warm-ups first, then timed step i of every run
// before step i + 1 of any.
std::vector<RunResult> alternate_steps(std::vector<PreparedRun>& runs, const SweepProgress& progress) {
  std::size_t total = 0;
  int rounds = 0;
  for (const PreparedRun& p : runs) {
    total += static_cast<std::size_t>(p.result.plan.timed);
    rounds = std::max(rounds, p.result.plan.timed);
  }
  for (PreparedRun& p : runs) warm_up(p);
  std::size_t done = 0;
  for (int i = 0; i < rounds; ++i)
    for (PreparedRun& p : runs) {
      if (i >= p.result.plan.timed) continue;
      if (progress) progress(done, total, p.result.config);
      timed_step(p, i);
      ++done;
    }
  std::vector<RunResult> out;
  for (PreparedRun& p : runs) out.push_back(finish(p));
  return out;
}

}  // namespace

RunResult run_step(const RunConfig& requested) {
  std::vector<PreparedRun> runs;
  runs.push_back(prepare(requested));
  return std::move(alternate_steps(runs, {}).front());
}

RepeatedRun run_repeated(const RunConfig& requested, int timed_steps) {
  if (timed_steps < 1 || timed_steps > kMaxTimedSteps)
    PIPELAB_USAGE_ERROR("--steps", "must be between 1 and " + std::to_string(kMaxTimedSteps) + ", got " +
                                       std::to_string(timed_steps),
                        "3 to 10 timed steps give a stable median");
  RunConfig c = requested;
  c.repeat_steps = timed_steps;
  RepeatedRun out;
  out.median = run_step(c);
  out.step_ms = out.median.step_ms;
  return out;
}

PairedSpeedup paired_speedup(const RunResult& naive, const RunResult& run) {
  PairedSpeedup s;
  const std::size_t n = std::min(naive.step_ms.size(), run.step_ms.size());
  for (std::size_t i = 0; i < n; ++i)
    if (run.step_ms[i] > 0) s.ratios.push_back(naive.step_ms[i] / run.step_ms[i]);
  if (s.ratios.empty()) return s;
  s.median = median_of(s.ratios);
  s.min = *std::min_element(s.ratios.begin(), s.ratios.end());
  s.max = *std::max_element(s.ratios.begin(), s.ratios.end());
  return s;
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

std::vector<RunResult> run_paired(const std::vector<RunConfig>& configs, const SweepProgress& progress) {
  // Every run is built (and so checked) before the first step of any.
  std::vector<PreparedRun> runs;
  for (const RunConfig& c : configs) runs.push_back(prepare(c));
  return alternate_steps(runs, progress);
}

std::vector<RunResult> run_sweep(const RunConfig& config, const std::vector<int>& microbatch_counts,
                                 const SweepProgress& progress) {
  return run_paired(sweep_configs(config, microbatch_counts), progress);
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
  one.repeat_steps = 1;  // numerics only: one step is enough
  return *run_step(one).numerics;
}

Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  Comparison c;
  std::vector<RunResult> runs =
      run_sweep(config, {config.microbatches}, [&](std::size_t step, std::size_t total, const RunConfig& next) {
        const std::string which = next.schedule == ScheduleKind::Naive
                                      ? "naive model parallelism (K=" + std::to_string(next.devices) + ", M=1)"
                                      : "GPipe (K=" + std::to_string(next.devices) + ", M=" +
                                            std::to_string(next.microbatches) + ")";
        // One line per run when each runs once (sim); the step number when they alternate.
        say(total <= 2 ? which : which + ", step " + std::to_string(step / 2 + 1) + "/" + std::to_string(total / 2));
      });
  c.naive = std::move(runs[0]);
  c.gpipe = std::move(runs[1]);
  c.paired = paired_speedup(c.naive, c.gpipe);
  c.speedup = c.paired.median;
  if (c.naive.replay && c.gpipe.replay && c.gpipe.replay->metrics.makespan_ms > 0)
    c.replayed_speedup = c.naive.replay->metrics.makespan_ms / c.gpipe.replay->metrics.makespan_ms;
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
