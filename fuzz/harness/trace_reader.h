// fuzz/harness/trace_reader.h — read_chrome_trace on arbitrary bytes.
//
// Properties, for any input:
//   1. read_chrome_trace returns a Trace or throws pipelab::Error with a message;
//      nothing else (no crash, no other exception, no sanitizer report).
//   2. A trace it accepts, write_chrome_trace accepts too, and reading that back
//      gives the same Trace, bit for bit.
//   3. compute_metrics and write_trace_csv work on every accepted trace, and when
//      its times are of sane magnitude every utilization lies in [0, 1].
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "check.h"
#include "pipelab/error.h"
#include "pipelab/report/metrics.h"
#include "pipelab/trace/trace_reader.h"
#include "pipelab/trace/trace_writer.h"

namespace pipelab::fuzz {

inline bool same_meta(const TraceMeta& a, const TraceMeta& b) {
  return a.schedule_kind == b.schedule_kind && a.remat == b.remat && a.backend == b.backend && a.devices == b.devices &&
         a.microbatches == b.microbatches && a.device_names == b.device_names &&
         a.config_json == b.config_json && a.theory_utilization == b.theory_utilization &&
         a.theory_bubble_fraction == b.theory_bubble_fraction;
}

/// Field-by-field equality of two traces; "" when equal, else what differs.
inline std::string trace_difference(const Trace& a, const Trace& b) {
  if (!same_meta(a.meta, b.meta)) return "meta";
  if (a.events.size() != b.events.size()) return "number of events";
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TraceEvent &x = a.events[i], &y = b.events[i];
    if (x.device != y.device || x.lane != y.lane || x.action != y.action || x.start_us != y.start_us ||
        x.dur_us != y.dur_us || x.bytes != y.bytes || x.cpu_us != y.cpu_us)
      return "events[" + std::to_string(i) + "]";
  }
  if (a.memory.size() != b.memory.size()) return "number of memory samples";
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    const MemorySample &x = a.memory[i], &y = b.memory[i];
    if (x.device != y.device || x.time_us != y.time_us || x.current != y.current)
      return "memory[" + std::to_string(i) + "]";
  }
  if (a.peak_memory != b.peak_memory) return "peak_memory";
  return "";
}

inline void fuzz_trace_reader(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  Trace trace;
  try {
    trace = read_chrome_trace(in, "<fuzz input>");
  } catch (const Error& e) {
    PIPELAB_FUZZ_CHECK(!e.message().empty(), "a reader error without a message");
    return;  // bad input, reported properly
  }

  // 2. Accepted → writable → reads back identical.
  std::ostringstream out;
  try {
    write_chrome_trace(trace, out);
  } catch (const Error& e) {
    PIPELAB_FUZZ_CHECK(false, std::string("the writer refuses a trace the reader accepted: ") + e.what());
  }
  std::istringstream again(out.str());
  Trace back;
  try {
    back = read_chrome_trace(again, "<rewritten>");
  } catch (const Error& e) {
    PIPELAB_FUZZ_CHECK(false, std::string("the reader refuses what the writer wrote: ") + e.what());
  }
  const std::string difference = trace_difference(trace, back);
  PIPELAB_FUZZ_CHECK(difference.empty(), "write then read changed " + difference);

  // 3. Metrics and CSV of any accepted trace.
  std::ostringstream csv;
  write_trace_csv(trace, csv);
  const StepMetrics metrics = compute_metrics(trace);
  PIPELAB_FUZZ_CHECK(static_cast<int>(metrics.utilization.size()) == trace.meta.devices,
                     "one utilization per device");
  bool sane = true;  // |times| small enough that rounding cannot matter
  for (const TraceEvent& e : trace.events) sane = sane && std::fabs(e.start_us) < 1e12 && e.dur_us < 1e12;
  if (sane) {
    for (double u : metrics.utilization)
      PIPELAB_FUZZ_CHECK(u >= 0 && u <= 1 + 1e-9, "utilization " + std::to_string(u) + " outside [0, 1]");
    PIPELAB_FUZZ_CHECK(metrics.bubble_fraction >= -1e-9 && metrics.bubble_fraction <= 1,
                       "bubble " + std::to_string(metrics.bubble_fraction) + " outside [0, 1]");
  }
}

}  // namespace pipelab::fuzz
