// trace_sax.h — internal to core/src/trace: the streaming pass over a trace file.
//
// The top-level object is walked with nlohmann's SAX interface: "pipelab" is built into
// one json value and handed over; each element of "traceEvents" is built, handed over
// and dropped, so the JSON text is never held in memory as a whole; other members are
// skipped. What a member means is the caller's business (trace_reader.cpp); this pass
// knows only the file's structure.
//
// Fast path: when on_event_tokens is set, an element is first recorded as its flat list
// of SAX tokens (reused buffers, no json value) and offered to on_event_tokens; only
// when that declines is the same element built as json, from the tokens, for on_event.
// A 1.8 M-event trace then builds no std::map per event (3x less time beyond the lexer).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "trace_json_shared.h"

namespace pipelab::trace_detail {

/// One SAX token of a recorded traceEvents element (see the fast path above).
struct EventToken {
  enum class Kind : std::uint8_t { Null, Boolean, Integer, Unsigned, Float, String, Key, BeginObject, BeginArray, End };
  Kind kind = Kind::Null;
  bool boolean = false;                ///< Boolean
  std::int64_t integer = 0;            ///< Integer (nlohmann: a number with a minus sign)
  std::uint64_t unsigned_integer = 0;  ///< Unsigned (nlohmann: an integer without one)
  double number = 0;                   ///< Float
  std::string text;                    ///< String and Key

  /// A value that is not a container (nor a key or an end).
  bool scalar() const {
    return kind != Kind::Key && kind != Kind::BeginObject && kind != Kind::BeginArray && kind != Kind::End;
  }
};

// Typed reads of a value token with trace_fields.h's rules (false where Fields would
// fail; a null token is an absent field). They mirror Fields::integer, finite, byte_count.

/// An integer token (never a float) in [lo, hi].
inline bool integer_in(const EventToken* v, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  using Kind = EventToken::Kind;
  if (!v || (v->kind != Kind::Unsigned && v->kind != Kind::Integer)) return false;
  if (v->kind == Kind::Unsigned && v->unsigned_integer > static_cast<std::uint64_t>(hi)) return false;
  out = v->kind == Kind::Unsigned ? static_cast<std::int64_t>(v->unsigned_integer) : v->integer;
  return out >= lo && out <= hi;
}

/// Any number, converted as json's get<double>() converts it, and finite.
inline bool finite_number(const EventToken* v, double& out) {
  using Kind = EventToken::Kind;
  if (!v || (v->kind != Kind::Integer && v->kind != Kind::Unsigned && v->kind != Kind::Float)) return false;
  out = v->kind == Kind::Float      ? v->number
        : v->kind == Kind::Unsigned ? static_cast<double>(v->unsigned_integer)
                                    : static_cast<double>(v->integer);
  return std::isfinite(out);
}

/// Puts `value` in the slot of `key` among `keys` (none: ignored, true); false when that
/// slot is taken already (a duplicate key: json keeps the last, leave it to the json path).
template <std::size_t N>
bool take_member(std::string_view key, const EventToken* value, const std::array<std::string_view, N>& keys,
                 std::array<const EventToken*, N>& slots) {
  for (std::size_t k = 0; k < N; ++k) {
    if (key != keys[k]) continue;  // string_view: sizes first, then bytes
    if (slots[k]) return false;
    slots[k] = value;
    return true;
  }
  return true;
}

/// A non-negative integer (nlohmann's unsigned).
inline bool byte_count(const EventToken* v, std::uint64_t& out) {
  if (!v || v->kind != EventToken::Kind::Unsigned) return false;
  out = v->unsigned_integer;
  return true;
}

/// What to do with the two members a pipelab trace is made of.
struct TraceStreamHandlers {
  std::function<void(const json& pipelab)> on_pipelab;                  ///< the metadata object
  std::function<void(std::size_t index, const json& event)> on_event;  ///< traceEvents[index], an object
  /// Optional fast path: traceEvents[index] as tokens[0, count) (BeginObject ... End).
  /// Return true when the element was read; false to receive it as json in on_event.
  std::function<bool(std::size_t index, const EventToken* tokens, std::size_t count)> on_event_tokens;
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
