// pipelab/trace/trace_reader.h — read a Trace back from Chrome Trace Event JSON written
// by write_chrome_trace (layout in trace_format.h, rules in docs/trace-format.md).
//
// The reader streams the file (memory ~ the Trace, not the JSON text) and validates
// everything: any defect is a pipelab::Error naming the source, the field or
// traceEvents[index], and a hint.
#pragma once

#include <iosfwd>
#include <string>

#include "pipelab/trace/trace.h"
#include "pipelab/trace/trace_format.h"

namespace pipelab {

/// Read a trace written by write_chrome_trace. `source_name` (a path, "<stdin>", ...)
/// prefixes every error message. Events with a ph other than X, C and M are skipped;
/// C events are read only when named "memory"; M events are skipped (the row names are
/// rebuilt from pipelab.device_names on write). TraceMeta::config_json comes back in
/// nlohmann's compact form (keys sorted); an empty config object reads back as "".
/// A trace older than pipelab.schedule_kind / pipelab.remat gets both from its
/// pipelab.schedule name ("gpipe+remat" → Gpipe, remat).
Trace read_chrome_trace(std::istream& in, const std::string& source_name);
/// Same, from a file. Throws pipelab::Error naming `path` if it cannot be opened.
Trace read_chrome_trace_file(const std::string& path);

}  // namespace pipelab
