// trace.cpp — names of lanes and memory categories, the schedule's display name, and the
// canonical order of a Trace.
#include "pipelab/trace/trace.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "pipelab/name_table.h"

namespace pipelab {

namespace {

// One name table per enum (pipelab/name_table.h): to_string below, and through it the
// trace writer (thread names, memory counter keys) and reader (memory counter keys).
constexpr EnumName<Lane> kLaneNames[kLaneCount] = {
    {Lane::Compute, "compute"},
    {Lane::Send, "send"},
    {Lane::Recv, "recv"},
};
constexpr EnumName<MemoryCategory> kMemoryCategoryNames[kMemoryCategoryCount] = {
    {MemoryCategory::Params, "params"},
    {MemoryCategory::Grads, "grads"},
    {MemoryCategory::Stash, "stash"},
    {MemoryCategory::Buffers, "buffers"},
};

}  // namespace

const char* to_string(Lane lane) { return name_of(kLaneNames, lane); }

const char* to_string(MemoryCategory category) { return name_of(kMemoryCategoryNames, category); }

std::string TraceMeta::schedule_name() const {
  // Schedule::name() holds the one spelling ("+remat"); borrow it rather than repeat it.
  Schedule identity;
  identity.kind = schedule_kind;
  identity.remat = remat;
  identity.w_batch = w_batch;
  return identity.name();
}

namespace {

// `a < b` for doubles, made a strict weak order even when a NaN slips in (NaN sorts
// last, all NaNs equivalent). std::sort with plain `<` on NaN is undefined behaviour,
// and sort() must never crash on a malformed hand-built trace.
bool time_less(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

// Returns -1, 0, 1: the three-way version of time_less.
int time_compare(double a, double b) {
  if (time_less(a, b)) return -1;
  if (time_less(b, a)) return 1;
  return 0;
}

}  // namespace

bool canonical_event_less(const TraceEvent& a, const TraceEvent& b) {
  // (device, lane) first: every lane is then one contiguous run, in time order. The
  // engines record each device's spans in program order, so the step's trace is
  // nearly in this order already and sort() costs a check instead of an O(n log n)
  // sort of millions of 48-byte events (issue 11's engine rate).
  if (a.device != b.device) return a.device < b.device;
  if (a.lane != b.lane) return a.lane < b.lane;
  // Fast path: distinct, non-NaN starts (NaN compares false both ways and falls through).
  if (a.start_us < b.start_us) return true;
  if (b.start_us < a.start_us) return false;
  if (int c = time_compare(a.start_us, b.start_us)) return c < 0;  // one of them is NaN
  if (a.action.kind != b.action.kind) return a.action.kind < b.action.kind;
  if (a.action.stage != b.action.stage) return a.action.stage < b.action.stage;
  if (a.action.microbatch != b.action.microbatch) return a.action.microbatch < b.action.microbatch;
  if (a.action.chunk != b.action.chunk) return a.action.chunk < b.action.chunk;
  if (a.bytes != b.bytes) return a.bytes < b.bytes;
  if (int c = time_compare(a.dur_us, b.dur_us)) return c < 0;
  return time_less(a.cpu_us, b.cpu_us);
}

void Trace::sort() {
  // Events: by (device, lane, start), then by every other field, so the order is a
  // function of the events alone and not of the order the backend's threads happened
  // to append them (two traces with the same events sort the same). Events the
  // comparator calls equal are equal in every field, so an unstable, in-place sort
  // gives the one order too, without stable_sort's n/2-element buffer. The lambdas
  // (not function pointers) let the comparators inline.
  const auto event_less = [](const TraceEvent& a, const TraceEvent& b) { return canonical_event_less(a, b); };
  if (!std::is_sorted(events.begin(), events.end(), event_less)) {
    // The engines hand over each (device, lane) as one contiguous run, the runs in
    // (device, lane) order (step_trace.cpp): then sorting each run alone, in cache, is
    // the whole sort. Any other layout (a hand-built or read trace) gets the full sort.
    const auto lane_of = [](const TraceEvent& e) { return std::make_pair(e.device, e.lane); };
    bool grouped = true;
    for (std::size_t i = 1; i < events.size() && grouped; ++i) grouped = !(lane_of(events[i]) < lane_of(events[i - 1]));
    if (grouped) {
      for (std::size_t begin = 0; begin < events.size();) {
        std::size_t end = begin + 1;
        while (end < events.size() && lane_of(events[end]) == lane_of(events[begin])) ++end;
        const auto first = events.begin() + static_cast<std::ptrdiff_t>(begin);
        const auto last = events.begin() + static_cast<std::ptrdiff_t>(end);
        if (!std::is_sorted(first, last, event_less)) std::sort(first, last, event_less);
        begin = end;
      }
    } else {
      std::sort(events.begin(), events.end(), event_less);
    }
  }
  // Memory samples: by (device, time). Stable, because two samples of one device at
  // the same timestamp are successive allocator states and must keep their order.
  // Each device's allocator records them in time order, so the check usually suffices.
  const auto sample_less = [](const MemorySample& a, const MemorySample& b) {
    if (a.device != b.device) return a.device < b.device;
    return time_less(a.time_us, b.time_us);
  };
  if (!std::is_sorted(memory.begin(), memory.end(), sample_less))
    std::stable_sort(memory.begin(), memory.end(), sample_less);
}

}  // namespace pipelab
