// pipelab/trace/trace_format.h — the trace file format: its layout, name, version and
// limits, shared by the writer (trace_writer.h) and the reader (trace_reader.h).
//
// A Trace is written as Chrome Trace Event JSON (opens in Perfetto, chrome://tracing and
// pipelab-viz). File layout (one trace event per line; members of each object are
// written in alphabetical order, shown here in reading order):
//   {"displayTimeUnit":"ms",
//    "pipelab":{"format":"pipelab-trace","version":1,
//               "schedule_kind":"naive|gpipe|1f1b|custom","remat":false,
//               "schedule":"gpipe+remat",   <- display name, derived from the two above
//               "backend":..,"devices":K,"microbatches":M,"device_names":[..K names..],
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
// Traces written before schedule_kind and remat existed carry only "schedule"; the
// reader derives the two from it (docs/trace-format.md), so they still load.
//
// Times are µs doubles written in the shortest form that reads back to the same
// double, so write -> read reproduces a Trace exactly.
#pragma once

#include <cstddef>

namespace pipelab {

/// Value of pipelab.format, and the version this build writes and reads.
constexpr const char* kTraceFormatName = "pipelab-trace";
/// pipelab.version written and read. schedule_kind and remat were added within version 1:
/// files without them are still version 1 and still read.
constexpr int kTraceFormatVersion = 1;
/// Largest number of traceEvents entries (of any ph) the reader accepts.
constexpr std::size_t kMaxTraceEvents = 20'000'000;
/// Largest pipelab.devices the reader and writer accept.
constexpr int kMaxTraceDevices = 4096;

}  // namespace pipelab
