// pipelab/runtime/memory_cap.h — does a run fit in each device's memory?
//
// Why a cap: models are split across devices because they do not fit in one device's
// memory. --device-memory-mib X gives every device X MiB; a run whose per-device peak
// would exceed it is refused before it starts, naming the device, its bytes by category
// and what to change. The prediction is the sim's step of the same schedule: the sim
// charges the same StageMemoryPlan (params, grads, the stash of each micro-batch in
// flight) as the cpu and cuda backends (model/memory_plan.h), but not their transfer
// buffers and scratch (category "buffers"), so it is a lower bound there; while the
// step runs, each device's allocator refuses a charge past the cap (DeviceMemory::set_cap).
#pragma once

#include <cstdint>
#include <vector>

#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

/// The cap of `config` in bytes (device_memory_mib · 2^20, rounded down); 0 = no cap.
std::uint64_t device_memory_cap_bytes(const RunConfig& config);

/// Each device's peak memory by category, predicted by one sim step of `schedule` on
/// `partition` with `config`'s model and remat (labelled "predicted" wherever shown).
struct MemoryPrediction {
  std::vector<MemoryBytes> peak_by_category;  ///< per device, each category's own peak
  std::vector<std::uint64_t> peak_total;      ///< per device, the peak of the sum
};
/// One sim step of `schedule` (event engine, no trace file): each device's predicted peaks.
MemoryPrediction predict_peak_memory(const RunConfig& config, const Partition& partition, const Schedule& schedule);

/// When `config` has a cap: throws UsageError("--device-memory-mib") if any device's
/// predicted peak exceeds it, naming the first such device, its bytes by category, the
/// cap and the changes that lower the peak. Returns normally without a cap.
void check_memory_cap(const RunConfig& config, const Partition& partition, const Schedule& schedule);
/// The same for `config` as it will run (its partition and schedule, naive at M = 1):
/// what the CLI calls before it prints or runs anything.
void check_memory_cap(const RunConfig& config);

}  // namespace pipelab
