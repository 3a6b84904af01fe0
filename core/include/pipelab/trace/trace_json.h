// pipelab/trace/trace_json.h — a Trace as Chrome Trace Event JSON (opens in Perfetto,
// chrome://tracing and pipelab-viz), and as CSV.
//
// File layout (one trace event per line; members of each object are written in
// alphabetical order, shown here in reading order):
//   {"displayTimeUnit":"ms",
//    "pipelab":{"format":"pipelab-trace","version":1,"schedule":..,"backend":..,
//               "devices":K,"microbatches":M,"device_names":[..K names..],
//               "config":{..RunConfig..},
//               "theory":{"utilization":..,"bubble_fraction":..},
//               "peak_memory":[[params,grads,stash,buffers], ..one per device..]},
//    "traceEvents":[
//      {"ph":"M","name":"process_name","pid":d,"args":{"name":"GPU d (<device name>)"}}, ...
//      {"ph":"M","name":"process_sort_index","pid":d,"args":{"sort_index":d}}, ...
//      {"ph":"M","name":"thread_name","pid":d,"tid":0|1|2,"args":{"name":"compute|send|recv"}}, ...
//      {"ph":"X","name":"F3 s1","cat":"Forward","ts":µs,"dur":µs,"pid":device,"tid":lane,
//       "args":{"stage":1,"microbatch":3,"kind":"Forward","bytes":0}}, ...
//      {"ph":"C","name":"memory","pid":device,"ts":µs,
//       "args":{"params":B,"grads":B,"stash":B,"buffers":B}}, ...]}
//
// Times are µs doubles written in the shortest form that reads back to the same
// double, so write -> read reproduces a Trace exactly. The reader streams the file
// (memory ~ the Trace, not the JSON text) and validates everything: any defect is a
// pipelab::Error naming the source, the field or traceEvents[index], and a hint.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "pipelab/trace/trace.h"

namespace pipelab {

/// Value of pipelab.format, and the version this build writes and reads.
constexpr const char* kTraceFormatName = "pipelab-trace";
constexpr int kTraceFormatVersion = 1;  ///< pipelab.version written and read
/// Largest number of traceEvents entries (of any ph) the reader accepts.
constexpr std::size_t kMaxTraceEvents = 20'000'000;
/// Largest pipelab.devices the reader and writer accept.
constexpr int kMaxTraceDevices = 4096;

/// Write `trace` as Chrome Trace Event JSON. Throws pipelab::Error if the trace is not
/// writable as a readable file (devices outside [1, kMaxTraceDevices], an event on a
/// device out of range, a non-finite time, a negative duration, config_json that is
/// not a JSON object, ...) or the stream fails.
void write_chrome_trace(const Trace& trace, std::ostream& out);
/// Same, to a file (created or truncated). Throws pipelab::Error naming `path`.
void write_chrome_trace_file(const Trace& trace, const std::string& path);

/// Read a trace written by write_chrome_trace. `source_name` (a path, "<stdin>", ...)
/// prefixes every error message. Events with a ph other than X, C and M are skipped;
/// C events are read only when named "memory"; M events are skipped (the row names are
/// rebuilt from pipelab.device_names on write). TraceMeta::config_json comes back in
/// nlohmann's compact form (keys sorted); an empty config object reads back as "".
Trace read_chrome_trace(std::istream& in, const std::string& source_name);
/// Same, from a file. Throws pipelab::Error naming `path` if it cannot be opened.
Trace read_chrome_trace_file(const std::string& path);

/// One row per span, with a header row:
///   device,lane,kind,stage,microbatch,start_us,dur_us,bytes
/// lane is "compute"/"send"/"recv", kind the full ActionKind name, times shortest
/// round-trip decimal. Memory samples are not included.
void write_trace_csv(const Trace& trace, std::ostream& out);
/// Same, to a file. Throws pipelab::Error naming `path`.
void write_trace_csv_file(const Trace& trace, const std::string& path);

}  // namespace pipelab
