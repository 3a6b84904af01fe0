// trace_json_shared.h — internal to core/src/trace: the JSON text helpers the trace
// writer (trace_writer.cpp) and reader (trace_reader.cpp, trace_sax.cpp) both use.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipelab/schedule/registry.h"

namespace pipelab::trace_detail {

using nlohmann::json;

/// Compact JSON text; invalid UTF-8 in a string becomes U+FFFD instead of throwing.
inline std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Shortest decimal that reads back as the same double (std::to_chars' guarantee).
inline std::string shortest(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

/// ": <strerror(errno)>", or "" when errno is 0; for "cannot open ..." messages.
inline std::string errno_text() { return errno != 0 ? std::string(": ") + std::strerror(errno) : std::string(); }

/// Every ScheduleKind a trace may name in pipelab.schedule_kind: the registry's rows,
/// then Custom (a hand-built schedule). The writer refuses any other value, the reader
/// any other name.
inline std::vector<ScheduleKind> trace_schedule_kinds() {
  std::vector<ScheduleKind> kinds;
  for (const ScheduleInfo& row : schedule_registry()) kinds.push_back(row.kind);
  kinds.push_back(ScheduleKind::Custom);
  return kinds;
}

}  // namespace pipelab::trace_detail
