// trace_fields.h — internal to core/src/trace: reading errors that name their place,
// and typed access to one JSON object's fields (used by trace_reader.cpp, trace_sax.cpp).
//
// Every reading error is "<source>: <where>: <problem>" plus a hint, e.g.
//   trace.json: traceEvents[12] (ph 'X'): 'args.kind' is 'Fwd', not an action kind
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "pipelab/error.h"
#include "pipelab/trace/trace.h"
#include "trace_json_shared.h"

namespace pipelab::trace_detail {

inline const char* const kRewriteHint =
    "a pipelab trace is written by pipelab (write_chrome_trace); re-create it, or fix the named "
    "field by hand";

/// A value shown inside an error message, cut short so a huge object stays readable.
inline std::string excerpt(const json& value) {
  std::string text = dump(value);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

/// Every reading error goes through here: "<source>: <where>: <problem>" plus a hint.
[[noreturn]] inline void read_error(const std::string& source, const std::string& where,
                                    const std::string& problem, const std::string& hint = kRewriteHint) {
  PIPELAB_THROW(source + ": " + where + ": " + problem, hint);
}

/// Typed access to one JSON object's fields; errors name the source, the object
/// ("pipelab", "traceEvents[12] (ph 'X')") and the field ("args.kind").
class Fields {
 public:
  Fields(const std::string& source, std::string where) : source_(source), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& problem, const std::string& hint = kRewriteHint) const {
    read_error(source_, where_, problem, hint);
  }

  /// The member `key` of `object`; `field` is its dotted name for messages.
  const json& require(const json& object, const char* key, const std::string& field) const {
    const auto it = object.find(key);
    if (it == object.end()) fail("missing '" + field + "'");
    return *it;
  }
  const json* optional(const json& object, const char* key) const {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  /// An integer in [lo, hi]. Floats are refused even when integral (1.0): the writer
  /// never writes them, so one is a sign of a hand-edit gone wrong.
  std::int64_t integer(const json& value, const std::string& field, std::int64_t lo, std::int64_t hi) const {
    if (!value.is_number_integer())
      fail("'" + field + "' must be an integer, got " + std::string(value.type_name()) + " " +
           excerpt(value));
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      fail("'" + field + "' is " + excerpt(value) + ", outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    const std::int64_t v = value.get<std::int64_t>();
    if (v < lo || v > hi)
      fail("'" + field + "' is " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    return v;
  }

  std::uint64_t byte_count(const json& value, const std::string& field) const {
    if (!value.is_number_integer())
      fail("'" + field + "' must be a byte count (integer >= 0), got " + std::string(value.type_name()) +
           " " + excerpt(value));
    if (!value.is_number_unsigned())
      fail("'" + field + "' is " + excerpt(value) + ", a byte count cannot be negative");
    return value.get<std::uint64_t>();
  }

  double finite(const json& value, const std::string& field) const {
    if (!value.is_number())
      fail("'" + field + "' must be a number, got " + std::string(value.type_name()) + " " + excerpt(value));
    const double v = value.get<double>();
    if (!std::isfinite(v)) fail("'" + field + "' is not a finite number");
    return v;
  }

  /// true or false; 0 and 1 are refused (the writer writes JSON booleans).
  bool boolean(const json& value, const std::string& field) const {
    if (!value.is_boolean())
      fail("'" + field + "' must be true or false, got " + std::string(value.type_name()) + " " + excerpt(value));
    return value.get<bool>();
  }

  const std::string& text(const json& value, const std::string& field) const {
    if (!value.is_string())
      fail("'" + field + "' must be a string, got " + std::string(value.type_name()) + " " + excerpt(value));
    return value.get_ref<const std::string&>();
  }

  const json& object(const json& value, const std::string& field) const {
    if (!value.is_object())
      fail("'" + field + "' must be an object, got " + std::string(value.type_name()) + " " + excerpt(value));
    return value;
  }

  const json& array(const json& value, const std::string& field) const {
    if (!value.is_array())
      fail("'" + field + "' must be an array, got " + std::string(value.type_name()) + " " + excerpt(value));
    return value;
  }

  /// The four byte counts of a memory sample, keyed by the MemoryCategory names
  /// ("params", ...); `prefix` is the object's dotted name ("args.").
  MemoryBytes memory_bytes(const json& args, const std::string& prefix) const {
    MemoryBytes bytes{};
    for (int c = 0; c < kMemoryCategoryCount; ++c) {
      const char* key = to_string(static_cast<MemoryCategory>(c));
      bytes[c] = byte_count(require(args, key, prefix + key), prefix + key);
    }
    return bytes;
  }

 private:
  const std::string& source_;
  std::string where_;
};

}  // namespace pipelab::trace_detail
