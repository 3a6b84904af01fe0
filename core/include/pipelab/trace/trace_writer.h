// pipelab/trace/trace_writer.h — write a Trace as Chrome Trace Event JSON (layout in
// trace_format.h, docs/trace-format.md), or its spans as CSV.
#pragma once

#include <iosfwd>
#include <string>

#include "pipelab/trace/trace.h"
#include "pipelab/trace/trace_format.h"

namespace pipelab {

/// Write `trace` as Chrome Trace Event JSON. Throws pipelab::Error if the trace is not
/// writable as a readable file (devices outside [1, kMaxTraceDevices], an event on a
/// device out of range, a non-finite time, a negative duration, config_json that is
/// not a JSON object, ...) or the stream fails.
void write_chrome_trace(const Trace& trace, std::ostream& out);
/// Same, to a file (created or truncated). Throws pipelab::Error naming `path`.
void write_chrome_trace_file(const Trace& trace, const std::string& path);

/// One row per span, with a header row:
///   device,lane,kind,stage,microbatch,start_us,dur_us,bytes
/// lane is "compute"/"send"/"recv", kind the full ActionKind name, times shortest
/// round-trip decimal. Memory samples are not included.
void write_trace_csv(const Trace& trace, std::ostream& out);

}  // namespace pipelab
