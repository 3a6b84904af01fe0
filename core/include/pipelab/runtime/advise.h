// pipelab/runtime/advise.h — "which M?": the fastest configurations that fit in memory.
//
// The question users of every pipeline library keep asking: how many micro-batches,
// which schedule, recompute or not — given each device's memory. advise() answers it
// on the sim's cost model (docs/backends.md): it runs every schedule of the registry at
// every M of a list, with and without re-materialization, on the event engine, and
// keeps each run's step time, bubble and per-device peak memory. Every number is the
// sim's (labelled "sim" where shown); the sim prices every FLOP alike, so it does not
// see that small micro-batches run real GEMMs below peak (the table says so).
//
// From measured costs (--backend cpu): every candidate runs on the cpu backend's real
// kernels instead, and its step time and bubble are the replay's (backends/replay.h):
// each action at its measured thread CPU time, one dedicated core per device, so the
// machine's load is taken out and the lower rate of small GEMMs is kept. The peaks are
// the cpu allocator's. Labelled "replayed from measured costs" where shown.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipelab/model/config.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {

/// One configuration the advisor tried.
struct Candidate {
  ScheduleKind schedule = ScheduleKind::Gpipe;  ///< which schedule
  int microbatches = 1;     ///< M as scheduled (naive: 1)
  bool remat = false;       ///< re-materialization
  bool w_batch = false;     ///< --w-batch: one whole-batch W per (device, chunk), as every candidate of the run
  int rows_per_microbatch = 0;  ///< the largest micro-batch's rows, ceil(B / M)
  std::string unavailable;  ///< why the schedule could not be built ("" = it ran)
  double step_ms = 0;       ///< sim makespan, or the replay's (from measured costs)
  double bubble_fraction = 0;  ///< measured on the sim, or on the replay
  double measured_ms = 0;      ///< from measured costs: the wall-clock median step (0 on the sim)
  Theory theory;               ///< the registry's formula for this K, M and remat
  std::uint64_t peak_bytes = 0;   ///< max over devices of the peak total (allocator)
  int peak_device = 0;            ///< the device with that peak
  std::uint64_t peak_stash_bytes = 0;  ///< max over devices of the stash peak
  bool fits = true;               ///< peak_bytes <= the cap (always true without a cap)
};

/// What advise() found: every candidate, fastest first among those that fit, then the
/// ones over the cap (fastest first), then the unavailable ones.
struct Advice {
  RunConfig base;                    ///< the model, K and sim settings of every run
  /// Where the step times come from: "sim" (the cost model) or "replay" (measured costs,
  /// --backend cpu).
  std::string cost_model = "sim";
  std::uint64_t cap_bytes = 0;       ///< 0 = no cap
  std::vector<Candidate> candidates; ///< sorted as above
  int fitting = 0;                   ///< how many of them fit
};

/// Runs every registry schedule × each M of `microbatch_counts` (those <= the batch;
/// a single-micro-batch schedule once) × remat off/on on the sim, with `config`'s model,
/// K and sim settings — or, when config.backend is BackendKind::Cpu, on the cpu backend,
/// timed by the replay of its measured costs — and ranks them. `progress` (may be empty)
/// gets (done, total). Throws UsageError for an empty list, an M < 1 or a backend other
/// than sim and cpu.
Advice advise(const RunConfig& config, const std::vector<int>& microbatch_counts,
              const std::function<void(int done, int total)>& progress = {});

}  // namespace pipelab
