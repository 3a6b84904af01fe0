// memory_cap.cpp — the per-device memory cap, checked before a run (memory_cap.h).
#include "pipelab/runtime/memory_cap.h"

#include <cmath>
#include <string>

#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/event_engine.h"
#include "pipelab/runtime/memory.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

std::uint64_t device_memory_cap_bytes(const RunConfig& config) {
  if (!(config.device_memory_mib > 0)) return 0;
  // validate_config bounds it to 1 PiB, far inside 64 bits.
  return static_cast<std::uint64_t>(std::floor(config.device_memory_mib * 1024.0 * 1024.0));
}

MemoryPrediction predict_peak_memory(const RunConfig& config, const Partition& partition, const Schedule& schedule) {
  RunConfig sim = config;
  sim.backend = BackendKind::Sim;
  sim.trace_path.clear();
  auto backend = make_sim_backend(sim, partition, schedule.microbatches);
  const Trace trace = execute_event_driven(schedule, *backend);
  const StepMetrics metrics = compute_metrics(trace);
  return {metrics.peak_memory_by_category, metrics.peak_memory_bytes};
}

namespace {

// What lowers a device's peak, from what dominates it: params and grads only shrink
// with fewer layers per device; the stash with remat or smaller micro-batches.
std::string how_to_fit(const RunConfig& config, const MemoryBytes& peak, std::uint64_t cap) {
  const std::uint64_t resident = peak[static_cast<int>(MemoryCategory::Params)] +
                                 peak[static_cast<int>(MemoryCategory::Grads)];
  // Data parallelism holds every layer on every device: more devices do not help.
  if (config.schedule == ScheduleKind::DataParallel)
    return "every replica holds the whole model: split its layers over the devices instead (--schedule gpipe "
           "or 1f1b: each device holds about L/K of them; docs/parallelism.md)";
  std::string hint = "split the model over more devices (-K, up to --layers)";
  if (resident > cap) return hint + ": the parameters and gradients alone need more than the cap";
  if (!config.remat) hint += ", recompute activations (--remat)";
  hint += ", or use more, smaller micro-batches (-M); `pipelab sweep` shows the stash at each M";
  return hint;
}

}  // namespace

void check_memory_cap(const RunConfig& config, const Partition& partition, const Schedule& schedule) {
  const std::uint64_t cap = device_memory_cap_bytes(config);
  if (cap == 0) return;
  const MemoryPrediction predicted = predict_peak_memory(config, partition, schedule);
  for (std::size_t d = 0; d < predicted.peak_total.size(); ++d) {
    if (predicted.peak_total[d] <= cap) continue;
    const MemoryBytes& by = predicted.peak_by_category[d];
    std::string categories;
    for (int c = 0; c < kMemoryCategoryCount; ++c)
      categories += std::string(c ? ", " : "") + to_string(static_cast<MemoryCategory>(c)) + " " + format_mib(by[c]);
    PIPELAB_USAGE_ERROR("--device-memory-mib",
                        "device " + std::to_string(d) + " needs " + format_mib(predicted.peak_total[d]) +
                            " at its peak (predicted: " + categories + ") for " + schedule.name() + " with K=" +
                            std::to_string(schedule.stages) + ", M=" + std::to_string(schedule.microbatches) +
                            ", over the cap of " + format_mib(cap) + " per device",
                        how_to_fit(config, by, cap));
  }
}

void check_memory_cap(const RunConfig& config) {
  if (device_memory_cap_bytes(config) == 0) return;
  RunConfig as_run = config;
  as_run.microbatches = scheduled_microbatches(as_run);
  const Schedule schedule = build_schedule(as_run);
  check_memory_cap(as_run, build_partition(as_run, &schedule), schedule);
}

}  // namespace pipelab
