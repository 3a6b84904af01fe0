// trace_sax.h — internal to core/src/trace: the streaming pass over a trace file.
//
// The top-level object is walked with nlohmann's SAX interface: "pipelab" is built into
// one json value and handed over; each element of "traceEvents" is built, handed over
// and dropped, so the JSON text is never held in memory as a whole; other members are
// skipped. What a member means is the caller's business (trace_reader.cpp); this pass
// knows only the file's structure.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "trace_json_shared.h"

namespace pipelab::trace_detail {

/// What to do with the two members a pipelab trace is made of.
struct TraceStreamHandlers {
  std::function<void(const json& pipelab)> on_pipelab;                  ///< the metadata object
  std::function<void(std::size_t index, const json& event)> on_event;  ///< traceEvents[index], an object
};

/// What the pass saw, for the checks that need the whole file.
struct TraceStreamResult {
  bool parsed = false;         ///< the JSON text was valid to its end
  bool seen_pipelab = false;   ///< a "pipelab" object was read
  bool seen_events = false;    ///< a "traceEvents" array was opened
  /// The first traceEvents error seen before "pipelab": reported only if the file turns
  /// out to be a pipelab trace (otherwise "not a pipelab trace" is the better message).
  std::exception_ptr deferred_error;
  std::optional<std::size_t> syntax_error_byte;  ///< where nlohmann stopped, if it did
  std::string syntax_error_text;                 ///< nlohmann's message for it
};

/// Stream `in`, calling `handlers` in file order. Structural defects (the top level is
/// not an object, traceEvents is not an array, a duplicate member, nesting deeper than
/// 64 levels, more than kMaxTraceEvents events) and errors the handlers throw once
/// "pipelab" is known are thrown as pipelab::Error naming `source`; a JSON syntax
/// error is returned (parsed false) so the caller can place it by line and column.
TraceStreamResult stream_trace(std::istream& in, const std::string& source, const TraceStreamHandlers& handlers);

}  // namespace pipelab::trace_detail
