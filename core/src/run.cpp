// run.cpp — RunConfig → one measured step; naive vs GPipe comparison.
#include "pipelab/run.h"

#include <algorithm>

#include "pipelab/backends.h"
#include "pipelab/cuda_backend.h"
#include "pipelab/error.h"
#include "pipelab/executor.h"
#include "pipelab/exercise.h"
#include "pipelab/validate.h"

namespace pipelab {

BackendAvailability backend_availability() {
  BackendAvailability a;
#if PIPELAB_HAVE_CUDA
  // Asks the CUDA runtime (cudaGetDeviceCount): safe without a GPU or driver.
  const CudaEnvironment env = probe_cuda();
  a.cuda = env.usable;
  a.cuda_reason = env.reason;
#else
  a.cuda = false;
  a.cuda_reason = std::string("this build of pipelab has no cuda backend (CUDA at configure time: ") +
                  PIPELAB_CUDA_STATUS + ")";
#endif
  return a;
}

BackendKind resolve_backend(BackendKind requested) {
  const BackendAvailability a = backend_availability();
  switch (requested) {
    case BackendKind::Auto: return a.cuda ? BackendKind::Cuda : BackendKind::Cpu;
    case BackendKind::Cuda:
      if (!a.cuda)
        PIPELAB_USAGE_ERROR("--backend", "cuda requested but no GPU is usable: " + a.cuda_reason,
                            "use --backend cpu or sim (or auto); `pipelab devices` explains");
      return BackendKind::Cuda;
    default: return requested;
  }
}

Partition build_partition(const RunConfig& c) {
  Partition p;
  if (c.partition == PartitionMethod::Even) {
    p = even_partition(c.model.layers, c.devices);
  } else {
    // Per-layer cost = parameter count (all blocks are the same shape today;
    // measured per-layer times can replace this later).
    const double params = 2.0 * c.model.width * c.model.hidden + c.model.width + c.model.hidden;
    p = balanced_partition(std::vector<double>(c.model.layers, params), c.devices);
  }
  check_partition(p, c.model.layers, c.devices);
  return p;
}

Schedule build_schedule(const RunConfig& c) {
  Schedule s;
  switch (c.schedule) {
    case ScheduleKind::Naive: s = naive_schedule(c.devices); break;
    case ScheduleKind::Gpipe: s = gpipe_schedule(c.devices, c.microbatches); break;
    case ScheduleKind::OneFOneB: s = one_f_one_b_schedule(c.devices, c.microbatches); break;
  }
  if (c.remat) s = with_recompute(s);
  return s;
}

RunResult run_step(const RunConfig& requested) {
  validate_config(requested);
  RunResult r;
  r.config = requested;
  r.config.backend = resolve_backend(requested.backend);
  if (r.config.schedule == ScheduleKind::Naive) r.config.microbatches = 1;
  r.partition = build_partition(r.config);
  r.schedule = build_schedule(r.config);
  validate(r.schedule);

  std::unique_ptr<Backend> backend;
  switch (r.config.backend) {
    case BackendKind::Sim: backend = make_sim_backend(r.config, r.partition, r.schedule.microbatches); break;
    case BackendKind::Cpu: backend = make_cpu_backend(r.config, r.partition, r.schedule.microbatches); break;
#if PIPELAB_HAVE_CUDA
    case BackendKind::Cuda: backend = make_cuda_backend(r.config, r.partition, r.schedule.microbatches); break;
#endif
    default:
      PIPELAB_THROW(std::string("backend ") + to_string(r.config.backend) + " is not available",
                    "use --backend sim or cpu");
  }
  ExecutorOptions options;
  options.watchdog_seconds = r.config.watchdog_seconds;
  r.trace = execute(r.schedule, *backend, options);
  r.trace.meta.config_json = to_json(r.config);
  r.metrics = compute_metrics(r.trace);
  r.theory = fill_drain_theory(r.config.devices, r.schedule.microbatches);
  r.numerics = backend->numerics();
  return r;
}

Comparison compare(const RunConfig& config, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  Comparison c;
  RunConfig naive = config;
  naive.schedule = ScheduleKind::Naive;
  naive.microbatches = 1;
  RunConfig gpipe = config;
  gpipe.schedule = ScheduleKind::Gpipe;
  validate_config(gpipe);  // report M > batch etc. before running anything
  say("naive model parallelism (K=" + std::to_string(config.devices) + ", M=1)");
  c.naive = run_step(naive);
  say("GPipe (K=" + std::to_string(config.devices) + ", M=" + std::to_string(config.microbatches) + ")");
  c.gpipe = run_step(gpipe);
  c.speedup = c.gpipe.metrics.makespan_ms > 0 ? c.naive.metrics.makespan_ms / c.gpipe.metrics.makespan_ms : 0;
  if (c.naive.numerics && c.gpipe.numerics) {
    say("single-device reference step (transparency check)");
    const StepNumerics reference = reference_step(config.model);
    c.max_rel_diff = std::max(max_relative_difference(*c.naive.numerics, reference),
                              max_relative_difference(*c.gpipe.numerics, reference));
    c.transparency_ok = *c.max_rel_diff <= transparency_tolerance(c.gpipe.config);
  }
  return c;
}

}  // namespace pipelab
