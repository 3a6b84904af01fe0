// trace.cpp — names of lanes and memory categories, the schedule's display name, and the
// canonical order of a Trace.
#include "pipelab/trace/trace.h"

#include <algorithm>
#include <cmath>
#include <tuple>

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

void Trace::sort() {
  // Events: by (start, device, lane) as documented, then by every other field, so
  // the order is a function of the events alone and not of the order the backend's
  // threads happened to append them (two traces with the same events sort the same).
  // Events the comparator calls equal are equal in every field, so an unstable,
  // in-place sort gives the one order too, without stable_sort's n/2-element buffer.
  std::sort(events.begin(), events.end(), [](const TraceEvent& a, const TraceEvent& b) {
    if (int c = time_compare(a.start_us, b.start_us)) return c < 0;
    const auto key = [](const TraceEvent& e) {
      return std::make_tuple(e.device, static_cast<int>(e.lane), static_cast<int>(e.action.kind),
                             e.action.stage, e.action.microbatch, e.bytes);
    };
    if (key(a) != key(b)) return key(a) < key(b);
    if (int c = time_compare(a.dur_us, b.dur_us)) return c < 0;
    return time_less(a.cpu_us, b.cpu_us);
  });
  // Memory samples: by (time, device). Stable, because two samples of one device at
  // the same timestamp are successive allocator states and must keep their order.
  std::stable_sort(memory.begin(), memory.end(), [](const MemorySample& a, const MemorySample& b) {
    if (int c = time_compare(a.time_us, b.time_us)) return c < 0;
    return a.device < b.device;
  });
}

}  // namespace pipelab
