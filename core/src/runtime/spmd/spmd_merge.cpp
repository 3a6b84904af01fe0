// spmd_merge.cpp — one step of a multi-process run, and its one merged trace
// (spmd_run.h): the clocks are estimated before and after the step (spmd_clock.h), every
// rank's spans and memory samples are gathered onto every rank and put on rank 0's
// timebase, each receive is drawn from its send's start to its arrival.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "../spmd_run.h"
#include "../step_trace.h"
#include "bytes.h"
#include "mpi_comm.h"
#include "pipelab/runtime/spmd.h"
#include "spmd_clock.h"
#include "spmd_executor.h"

namespace pipelab::detail {

namespace {

// What one rank contributes to the merged trace.
struct RankStep {
  double origin_us = 0;  // its step's time origin on its steady clock
  std::vector<TraceEvent> events;
  std::vector<MemorySample> memory;
  MemoryBytes peak{};
  std::string device_name, host;
};

std::vector<char> pack(const RankStep& s) {
  spmd::ByteWriter out;
  out.value(s.origin_us);
  out.values(s.events);
  out.values(s.memory);
  out.value(s.peak);
  out.text(s.device_name);
  out.text(s.host);
  return std::move(out.bytes());
}

RankStep unpack(const std::vector<char>& bytes) {
  spmd::ByteReader in(bytes);
  RankStep s;
  s.origin_us = in.value<double>();
  s.events = in.values<TraceEvent>();
  s.memory = in.values<MemorySample>();
  s.peak = in.value<MemoryBytes>();
  s.device_name = in.text();
  s.host = in.text();
  return s;
}

// Rank r's clock against rank 0's over the step: the estimate (before or after it) with the
// shorter round trip, and the bound on its error anywhere in the step, which lies between
// the two estimates:
//     alignment_error = round_trip / 2 + kMaxClockDrift · (at_after − at_before).
// (One good round trip is enough: a round trip stretched by a rank waiting for a core
// widens only its own estimate.)
RankClock rank_clock(int rank, const std::string& host, const spmd::ClockEstimate& before,
                     const spmd::ClockEstimate& after) {
  const spmd::ClockEstimate& best = before.round_trip_us <= after.round_trip_us ? before : after;
  RankClock c;
  c.rank = rank;
  c.host = host;
  c.offset_us = best.offset_us;
  c.alignment_error_us = 0.5 * best.round_trip_us + spmd::kMaxClockDrift * std::abs(after.at_us - before.at_us);
  return c;
}

// Each receive from its send's start (the transfer's own span, as every backend draws
// it) to its arrival. Where an alignment error would put the arrival before the send's
// start, the span is left empty at the arrival (the test of the merge counts them).
void draw_receives_from_their_sends(std::vector<TraceEvent>& events, const ChunkMap& map) {
  std::unordered_map<std::uint64_t, double> send_start;
  for (const TraceEvent& e : events)
    if (e.lane == Lane::Send) send_start[action_key(e.action)] = e.start_us;
  for (TraceEvent& e : events) {
    if (e.lane != Lane::Recv) continue;
    const auto it = send_start.find(action_key(matching_send(e.action, map)));
    if (it == send_start.end()) continue;
    const double end = e.end_us();
    e.start_us = std::min(it->second, end);
    e.dur_us = end - e.start_us;
  }
}

}  // namespace

Trace spmd_execute(const Schedule& schedule, Backend& backend, const ExecutorOptions& options) {
  const int me = spmd::rank();
  const double seconds = options.watchdog_seconds;
  backend.begin_step();
  const std::vector<spmd::ClockEstimate> before = spmd::estimate_clocks(seconds);
  RankStep mine;
  mine.events = spmd::run_stage_program(schedule, backend, options);
  const std::vector<spmd::ClockEstimate> after = spmd::estimate_clocks(seconds);
  mine.origin_us = std::chrono::duration<double, std::micro>(backend.time_origin()->time_since_epoch()).count();
  DeviceMemory& memory = backend.memory(me);
  memory.check_consistent();
  mine.memory = memory.take_samples();
  mine.peak = memory.peak();
  mine.device_name = backend.device_names().at(me);
  mine.host = spmd_rank()->host;

  std::vector<RankStep> ranks;
  for (const std::vector<char>& bytes : spmd::allgather_bytes(pack(mine), seconds, "the step's trace"))
    ranks.push_back(unpack(bytes));
  Trace trace;
  std::vector<std::string> names;
  for (int r = 0; r < static_cast<int>(ranks.size()); ++r) {
    const RankStep& s = ranks[r];
    trace.meta.ranks.push_back(rank_clock(r, s.host, before[r], after[r]));
    // Rank r's local time t is origin_r + t on its clock, origin_r + t − offset_r on rank
    // 0's, and so origin_r + t − offset_r − origin_0 on rank 0's step timebase.
    const double shift = s.origin_us - trace.meta.ranks.back().offset_us - ranks[0].origin_us;
    for (TraceEvent e : s.events) {
      e.start_us += shift;
      trace.events.push_back(e);
    }
    for (MemorySample m : s.memory) {
      m.time_us += shift;
      trace.memory.push_back(m);
    }
    trace.peak_memory.push_back(s.peak);
    names.push_back(s.device_name + " on " + s.host);
  }
  draw_receives_from_their_sends(trace.events, schedule.chunk_map());
  // A rank that began a little before rank 0 has spans before 0: the step then starts at
  // its first span (times are µs since the step's origin, never negative).
  double first = 0;
  for (const TraceEvent& e : trace.events) first = std::min(first, e.start_us);
  for (const MemorySample& m : trace.memory) first = std::min(first, m.time_us);
  for (TraceEvent& e : trace.events) e.start_us -= first;
  for (MemorySample& m : trace.memory) m.time_us -= first;
  fill_step_meta(schedule, backend.name(), std::move(names), trace);
  trace.sort();
  return trace;
}

}  // namespace pipelab::detail
