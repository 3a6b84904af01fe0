// pipelab/trace/trace.h — the timed record of one training step.
//
// Every backend (sim, cpu, cuda) produces the same Trace: one span per executed
// action, on a lane of its device, plus memory samples from the allocator. All
// numbers the kit shows (utilization, bubble, comm time, memory) are computed
// from a Trace (see metrics.h). Serialized as Chrome Trace Event JSON (trace_writer.h,
// trace_reader.h; the format in trace_format.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Which row of a device an event is drawn on (Chrome trace `tid`).
enum class Lane : std::uint8_t { Compute = 0, Send = 1, Recv = 2 };
constexpr int kLaneCount = 3;  ///< number of Lane values
/// "compute", "send" or "recv" (one name table, in trace.cpp).
const char* to_string(Lane lane);

/// One executed action: a span [start_us, start_us + dur_us) on a device's lane.
struct TraceEvent {
  // Field order packs the event into 48 bytes: a million-action step keeps millions.
  Action action;              ///< what ran
  int device = 0;             ///< Chrome trace `pid`
  Lane lane = Lane::Compute;  ///< Chrome trace `tid`
  /// Thread CPU time of the action in µs (CLOCK_THREAD_CPUTIME_ID of the worker that
  /// ran it), or -1 where the backend does not measure it (sim, cuda, transfers).
  /// Below dur_us when the worker was off a core for part of the span. A float: a
  /// CPU time needs no more than 24 bits of precision (0.06 µs at one second).
  float cpu_us = -1;
  double start_us = 0;  ///< µs since the step's time origin
  double dur_us = 0;    ///< duration, >= 0
  std::uint64_t bytes = 0;  ///< bytes moved (communication) or 0

  /// start_us + dur_us.
  double end_us() const { return start_us + dur_us; }
};

/// What allocator bytes are for.
enum class MemoryCategory { Params = 0, Grads = 1, Stash = 2, Buffers = 3 };
constexpr int kMemoryCategoryCount = 4;  ///< number of MemoryCategory values
/// "params", "grads", "stash" or "buffers" (one name table, in trace.cpp).
const char* to_string(MemoryCategory category);

/// Bytes per category.
using MemoryBytes = std::array<std::uint64_t, kMemoryCategoryCount>;

/// A device's allocator state right after a change, at time_us.
struct MemorySample {
  int device = 0;        ///< whose allocator
  double time_us = 0;    ///< µs since the step's time origin
  MemoryBytes current{};  ///< current bytes per category
};

/// One rank of a multi-process run (runtime/spmd.h): where it ran, and how its clock was
/// put on rank 0's, whose timebase the merged trace is in.
struct RankClock {
  int rank = 0;         ///< the rank, which ran the stage (and device) of the same number
  std::string host;     ///< the host it ran on
  double offset_us = 0;  ///< its steady clock minus rank 0's, estimated by ping-pong (min round trip)
  /// Bound on the error of offset_us anywhere in the step: half the shortest round trip,
  /// plus the most the clocks can drift apart (100 ppm) over the step (docs/distributed.md).
  double alignment_error_us = 0;
};

/// Static facts of the run, stored in the trace's `pipelab` metadata object.
/// The schedule's identity is typed (schedule_kind, remat), like Schedule's; its display
/// name is derived from them and never stored, so there is one source of truth.
struct TraceMeta {
  ScheduleKind schedule_kind = ScheduleKind::Custom;  ///< which schedule ran (Schedule::kind)
  bool remat = false;         ///< re-materialization applied (Schedule::remat)
  bool w_batch = false;       ///< --w-batch applied: one whole-batch W per (device, chunk) (Schedule::w_batch)
  std::string backend;        ///< "sim", "cpu", "cuda"
  int devices = 0;       ///< K
  int microbatches = 0;  ///< M as scheduled (1 for naive)
  std::vector<std::string> device_names;  ///< one per device
  std::string config_json;    ///< the RunConfig as a JSON object (text), for reproduction
  /// The schedule's theory (schedule_theory(), from the registry), e.g. M / (M + K - 1);
  /// filled once by the runtime, read by everything that shows "theory".
  double theory_utilization = 0;
  double theory_bubble_fraction = 0;  ///< e.g. (K - 1) / (M + K - 1), labelled "theory"
  /// One per rank when the stages ran as processes (mpirun); empty when they ran as
  /// threads of one process.
  std::vector<RankClock> ranks;

  /// Display name, as Schedule::name() spells it: "gpipe", "1f1b+remat", "zb-h1+w-batch", "custom".
  std::string schedule_name() const;
};

/// All spans and memory samples of one step, plus metadata.
struct Trace {
  TraceMeta meta;                    ///< static facts of the run
  std::vector<TraceEvent> events;    ///< one span per executed action
  std::vector<MemorySample> memory;  ///< allocator samples, one per change
  /// Peak bytes per device and category as the allocator saw them (kept even when
  /// memory samples are thinned out).
  std::vector<MemoryBytes> peak_memory;

  /// The canonical order, a stable, backend-independent order for writing and comparing:
  /// events by (device, lane, start), then by every other field (canonical_event_less);
  /// memory samples by (device, time), same-time samples of a device kept in the order
  /// they were recorded. Each lane of each device is then one run in time order.
  void sort();
};

/// The events' canonical order (Trace::sort): device, lane, start (a NaN start last),
/// then kind, stage, micro-batch, bytes, duration, CPU time.
bool canonical_event_less(const TraceEvent& a, const TraceEvent& b);

}  // namespace pipelab
