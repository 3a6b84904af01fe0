// trace_reader.cpp — the validating, streaming Chrome-trace reader: what each field of
// a pipelab trace must be (the walk over the file is trace_sax.cpp). Layout of the file:
// see trace_format.h; the rules in docs/trace-format.md.
//
// [SECTION] the schedule's identity: typed fields, or an old trace's name
// [SECTION] the pipelab object, X and C events
// [SECTION] the fast path: well-formed X and C events from their tokens
// [SECTION] JSON syntax errors as line:column
// [SECTION] entry points
#include "pipelab/trace/trace_reader.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipelab/error.h"
#include "trace_fields.h"
#include "trace_json_shared.h"
#include "trace_ranks.h"
#include "trace_sax.h"

namespace pipelab {

using trace_detail::byte_count;
using trace_detail::dump;
using trace_detail::errno_text;
using trace_detail::EventToken;
using trace_detail::finite_number;
using trace_detail::integer_in;
using trace_detail::Fields;
using trace_detail::read_ranks;
using trace_detail::json;
using trace_detail::read_error;
using trace_detail::shortest;
using trace_detail::stream_trace;
using trace_detail::take_member;
using trace_detail::trace_schedule_kinds;
using trace_detail::TraceStreamHandlers;
using trace_detail::TraceStreamResult;

namespace {

// ================================ [SECTION] the schedule's identity: typed fields, or an old trace's name

// Both kinds of name are matched against what the writer writes for each kind (and
// remat), so no spelling is repeated here.
std::optional<ScheduleKind> schedule_kind_named(const std::string& name) {
  for (ScheduleKind kind : trace_schedule_kinds())
    if (name == to_string(kind)) return kind;
  return std::nullopt;
}

std::string schedule_kind_names() {
  std::string out;
  for (ScheduleKind kind : trace_schedule_kinds()) out += (out.empty() ? "" : ", ") + std::string(to_string(kind));
  return out;
}

// Traces written before pipelab.schedule_kind and pipelab.remat carry only the display
// name ("gpipe+remat"): this is the one place a schedule name is parsed. A name no
// (kind, remat) produces came from a hand-named schedule of that time ("fixture-gpipe",
// a student's "") and reads as Custom without remat, so such a trace still loads.
void identity_from_name(const std::string& name, TraceMeta& meta) {
  for (ScheduleKind kind : trace_schedule_kinds()) {
    for (bool remat : {false, true}) {
      TraceMeta candidate;
      candidate.schedule_kind = kind;
      candidate.remat = remat;
      if (candidate.schedule_name() == name) {
        meta.schedule_kind = kind;
        meta.remat = remat;
        return;
      }
    }
  }
  meta.schedule_kind = ScheduleKind::Custom;
  meta.remat = false;
}

// pipelab.schedule_kind + pipelab.remat (this build writes both, and the derived
// pipelab.schedule beside them), else the pipelab.schedule of an older trace.
void read_schedule_identity(const Fields& f, const json& p, TraceMeta& meta) {
  const json* name_field = f.optional(p, "schedule");
  const std::string* name = name_field ? &f.text(*name_field, "pipelab.schedule") : nullptr;
  if (!f.optional(p, "schedule_kind") && !f.optional(p, "remat")) {
    if (!name) f.fail("missing 'pipelab.schedule_kind' (in traces older than it, 'pipelab.schedule')");
    identity_from_name(*name, meta);
    return;
  }
  const std::string& kind =
      f.text(f.require(p, "schedule_kind", "pipelab.schedule_kind"), "pipelab.schedule_kind");
  const std::optional<ScheduleKind> known = schedule_kind_named(kind);
  if (!known)
    f.fail("'pipelab.schedule_kind' is '" + kind + "', not a schedule kind",
           "use one of " + schedule_kind_names());
  meta.schedule_kind = *known;
  meta.remat = f.boolean(f.require(p, "remat", "pipelab.remat"), "pipelab.remat");
  // pipelab.w_batch is written only with --w-batch (absent: false, as in older traces).
  const json* w_batch = f.optional(p, "w_batch");
  meta.w_batch = w_batch ? f.boolean(*w_batch, "pipelab.w_batch") : false;
  if (name && *name != meta.schedule_name())
    f.fail("'pipelab.schedule' is '" + *name + "', but 'pipelab.schedule_kind', 'pipelab.remat' and "
               "'pipelab.w_batch' make it '" + meta.schedule_name() + "'",
           "the name is derived from the others: fix them, or remove 'pipelab.schedule'");
}

// ================================ [SECTION] the pipelab object, X and C events

// What the streaming pass collects. Device ids are range-checked after the whole file
// is read, because "pipelab" (which holds `devices`) may come after "traceEvents".
struct ReadState {
  Trace trace;
  std::vector<std::size_t> span_index;    // traceEvents index of trace.events[i]
  std::vector<std::size_t> sample_index;  // traceEvents index of trace.memory[i]
};

void read_meta(const std::string& source, const json& p, ReadState& state) {
  const Fields f(source, "pipelab");
  const std::string& format = f.text(f.require(p, "format", "pipelab.format"), "pipelab.format");
  if (format != kTraceFormatName)
    f.fail("'pipelab.format' is '" + format + "', expected '" + kTraceFormatName + "'");
  const std::int64_t version =
      f.integer(f.require(p, "version", "pipelab.version"), "pipelab.version",
                std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  if (version != kTraceFormatVersion)
    f.fail("trace format version " + std::to_string(version) +
               " is not supported; this build reads version " + std::to_string(kTraceFormatVersion),
           "re-create the trace with this build of pipelab");

  TraceMeta& meta = state.trace.meta;
  read_schedule_identity(f, p, meta);
  meta.backend = f.text(f.require(p, "backend", "pipelab.backend"), "pipelab.backend");
  meta.devices = static_cast<int>(
      f.integer(f.require(p, "devices", "pipelab.devices"), "pipelab.devices", 1, kMaxTraceDevices));
  meta.microbatches = static_cast<int>(f.integer(f.require(p, "microbatches", "pipelab.microbatches"),
                                                 "pipelab.microbatches", 0, std::numeric_limits<int>::max()));
  const auto devices = static_cast<std::size_t>(meta.devices);

  if (const json* names = f.optional(p, "device_names")) {
    f.array(*names, "pipelab.device_names");
    if (!names->empty() && names->size() != devices)
      f.fail("'pipelab.device_names' has " + std::to_string(names->size()) + " names for " +
             std::to_string(devices) + " devices");
    for (std::size_t d = 0; d < names->size(); ++d)
      meta.device_names.push_back(f.text((*names)[d], "pipelab.device_names[" + std::to_string(d) + "]"));
  }
  if (const json* config = f.optional(p, "config")) {
    f.object(*config, "pipelab.config");
    // Round trip: the writer turns "" into {}, so {} reads back as "".
    meta.config_json = config->empty() ? std::string() : dump(*config);
  }
  if (const json* theory = f.optional(p, "theory")) {
    f.object(*theory, "pipelab.theory");
    meta.theory_utilization = f.finite(f.require(*theory, "utilization", "pipelab.theory.utilization"),
                                       "pipelab.theory.utilization");
    meta.theory_bubble_fraction =
        f.finite(f.require(*theory, "bubble_fraction", "pipelab.theory.bubble_fraction"),
                 "pipelab.theory.bubble_fraction");
  }
  if (const json* ranks = f.optional(p, "ranks")) read_ranks(f, *ranks, meta);  // stages as processes
  if (const json* peaks = f.optional(p, "peak_memory")) {
    f.array(*peaks, "pipelab.peak_memory");
    if (!peaks->empty() && peaks->size() != devices)
      f.fail("'pipelab.peak_memory' has " + std::to_string(peaks->size()) + " rows for " +
             std::to_string(devices) + " devices");
    for (std::size_t d = 0; d < peaks->size(); ++d) {
      const std::string field = "pipelab.peak_memory[" + std::to_string(d) + "]";
      const json& row = f.array((*peaks)[d], field);
      if (row.size() != kMemoryCategoryCount) {
        std::string categories;  // "params, grads, stash, buffers", from the one name table
        for (int c = 0; c < kMemoryCategoryCount; ++c)
          categories += (c ? ", " : "") + std::string(to_string(static_cast<MemoryCategory>(c)));
        f.fail("'" + field + "' must hold " + std::to_string(kMemoryCategoryCount) + " byte counts [" +
               categories + "], has " + std::to_string(row.size()));
      }
      MemoryBytes bytes{};
      for (int c = 0; c < kMemoryCategoryCount; ++c)
        bytes[c] = f.byte_count(row[c], field + "[" + std::to_string(c) + "]");
      state.trace.peak_memory.push_back(bytes);
    }
  }
}

// One traceEvents entry. X spans and "memory" counters are validated and kept;
// M (row names, rebuilt on write), other counters and other phases are skipped.
void read_event(const std::string& source, std::size_t index, const json& e, ReadState& state) {
  const std::string at = "traceEvents[" + std::to_string(index) + "]";
  const Fields pre(source, at);
  const std::string& ph = pre.text(pre.require(e, "ph", "ph"), "ph");
  const Fields f(source, at + " (ph '" + ph + "')");
  // pid is checked against pipelab.devices once the whole file is read.
  const auto pid = [&] {
    return static_cast<int>(f.integer(f.require(e, "pid", "pid"), "pid", 0, kMaxTraceDevices - 1));
  };

  if (ph == "X") {
    TraceEvent span;
    span.device = pid();
    span.lane = static_cast<Lane>(f.integer(f.require(e, "tid", "tid"), "tid", 0, kLaneCount - 1));
    span.start_us = f.finite(f.require(e, "ts", "ts"), "ts");
    span.dur_us = f.finite(f.require(e, "dur", "dur"), "dur");
    if (span.dur_us < 0)
      f.fail("'dur' is " + shortest(span.dur_us) + ": a span cannot have a negative duration");
    const json& args = f.object(f.require(e, "args", "args"), "args");
    const std::string& kind = f.text(f.require(args, "kind", "args.kind"), "args.kind");
    try {
      span.action.kind = action_kind_from_string(kind);
    } catch (const Error& unknown) {
      f.fail("'args.kind' is '" + kind + "', not an action kind", unknown.hint());
    }
    span.action.stage = static_cast<int>(
        f.integer(f.require(args, "stage", "args.stage"), "args.stage", 0, std::numeric_limits<int>::max()));
    span.action.microbatch =
        static_cast<int>(f.integer(f.require(args, "microbatch", "args.microbatch"), "args.microbatch", -1,
                                   std::numeric_limits<int>::max()));
    span.bytes = f.byte_count(f.require(args, "bytes", "args.bytes"), "args.bytes");
    if (args.contains("chunk"))  // optional: only a schedule with model chunks writes it
      span.action.chunk = static_cast<std::uint8_t>(f.integer(args["chunk"], "args.chunk", 0, 255));
    if (args.contains("cpu_us")) {  // optional: only the cpu backend measures it
      const double cpu_us = f.finite(args["cpu_us"], "args.cpu_us");
      span.cpu_us = static_cast<float>(cpu_us);
      if (!std::isfinite(span.cpu_us)) f.fail("'args.cpu_us' is " + shortest(cpu_us) + ": too large for a CPU time");
      if (span.cpu_us < 0) f.fail("'args.cpu_us' is " + shortest(span.cpu_us) + ": a CPU time cannot be negative");
    }
    state.trace.events.push_back(span);
    state.span_index.push_back(index);
  } else if (ph == "C") {
    if (!e.contains("name") || e["name"] != "memory") return;  // another tool's counter
    MemorySample sample;
    sample.device = pid();
    sample.time_us = f.finite(f.require(e, "ts", "ts"), "ts");
    sample.current = f.memory_bytes(f.object(f.require(e, "args", "args"), "args"), "args.");
    state.trace.memory.push_back(sample);
    state.sample_index.push_back(index);
  }
}

// ================================ [SECTION] the fast path: well-formed X and C events from their tokens

// read_event's rules for an element that meets every one of them, read from its SAX
// tokens without a json value (trace_sax.h). Anything else (a missing or ill-typed field,
// a value out of range, a duplicate key, a nested container other than args) returns
// false, and the element goes through read_event, which reads it or names what is wrong:
// valid files read to the same Trace, broken ones fail with the same message.
using Token = EventToken::Kind;
enum Top { kPh, kPid, kTid, kTs, kDur, kName, kTopCount };
enum Arg { kKind, kStage, kMicrobatch, kBytes, kCpuUs, kChunk, kCategory0, kArgCount = kCategory0 + kMemoryCategoryCount };
constexpr std::array<std::string_view, kTopCount> kTopKeys = {"ph", "pid", "tid", "ts", "dur", "name"};

// The args keys: kind .. cpu_us, then the memory categories as the one name table spells them.
std::array<std::string_view, kArgCount> arg_keys() {
  std::array<std::string_view, kArgCount> keys = {"kind", "stage", "microbatch", "bytes", "cpu_us", "chunk"};
  for (int c = 0; c < kMemoryCategoryCount; ++c) keys[kCategory0 + c] = to_string(static_cast<MemoryCategory>(c));
  return keys;
}

struct FlatEvent {
  std::array<const EventToken*, kTopCount> top{};  // nullptr: absent
  std::array<const EventToken*, kArgCount> arg{};
  bool has_args = false;
};

bool flatten(const EventToken* t, std::size_t n, const std::array<std::string_view, kArgCount>& arg_names,
             FlatEvent& out) {
  // t[0] is the element's BeginObject; then Key, value pairs up to its End; args may
  // hold Key, scalar pairs of its own.
  std::size_t i = 1;
  bool in_args = false;
  while (i + 1 < n && t[i].kind == Token::Key) {
    const std::string& key = t[i].text;
    const EventToken* value = &t[i + 1];
    i += 2;
    if (!in_args && key == "args") {
      if (value->kind != Token::BeginObject || out.has_args) return false;
      out.has_args = in_args = true;
    } else if (!value->scalar() ||
               !(in_args ? take_member(key, value, arg_names, out.arg) : take_member(key, value, kTopKeys, out.top))) {
      return false;
    }
    if (in_args && i < n && t[i].kind == Token::End) {
      in_args = false;
      ++i;
    }
  }
  return !in_args && i + 1 == n && t[i].kind == Token::End;
}

bool read_event_fast(std::size_t index, const EventToken* tokens, std::size_t count,
                     const std::array<std::string_view, kArgCount>& arg_names, ReadState& state) {
  FlatEvent e;
  if (!flatten(tokens, count, arg_names, e) || !e.top[kPh] || e.top[kPh]->kind != Token::String) return false;
  const std::string& ph = e.top[kPh]->text;
  std::int64_t pid = 0, tid = 0, stage = 0, microbatch = 0, chunk = 0;
  if (ph == "X") {
    TraceEvent span;
    const EventToken* kind = e.arg[kKind];
    if (!integer_in(e.top[kPid], 0, kMaxTraceDevices - 1, pid) || !integer_in(e.top[kTid], 0, kLaneCount - 1, tid) ||
        !finite_number(e.top[kTs], span.start_us) || !finite_number(e.top[kDur], span.dur_us) || span.dur_us < 0 ||
        !e.has_args || !kind || kind->kind != Token::String ||
        !integer_in(e.arg[kStage], 0, std::numeric_limits<int>::max(), stage) ||
        !integer_in(e.arg[kMicrobatch], -1, std::numeric_limits<int>::max(), microbatch) ||
        !byte_count(e.arg[kBytes], span.bytes) || (e.arg[kChunk] && !integer_in(e.arg[kChunk], 0, 255, chunk)))
      return false;
    try {
      span.action.kind = action_kind_from_string(kind->text);
    } catch (const Error&) {
      return false;
    }
    span.device = static_cast<int>(pid);
    span.lane = static_cast<Lane>(tid);
    span.action.stage = static_cast<int>(stage);
    span.action.microbatch = static_cast<int>(microbatch);
    span.action.chunk = static_cast<std::uint8_t>(chunk);  // optional: written when > 0
    if (e.arg[kCpuUs]) {  // as read_event: finite, finite in cpu_us' type, not negative
      double cpu_us = 0;
      if (!finite_number(e.arg[kCpuUs], cpu_us)) return false;
      span.cpu_us = static_cast<decltype(span.cpu_us)>(cpu_us);
      if (!std::isfinite(span.cpu_us) || span.cpu_us < 0) return false;
    }
    state.trace.events.push_back(span);
    state.span_index.push_back(index);
  } else if (ph == "C") {
    const EventToken* name = e.top[kName];  // another tool's counter is skipped, as in read_event
    if (!name || name->kind != Token::String || name->text != "memory") return true;
    MemorySample sample;
    if (!integer_in(e.top[kPid], 0, kMaxTraceDevices - 1, pid) || !finite_number(e.top[kTs], sample.time_us) ||
        !e.has_args)
      return false;
    for (int c = 0; c < kMemoryCategoryCount; ++c)
      if (!byte_count(e.arg[kCategory0 + c], sample.current[c])) return false;
    sample.device = static_cast<int>(pid);
    state.trace.memory.push_back(sample);
    state.sample_index.push_back(index);
  }
  return true;  // M and other phases are skipped, as in read_event
}

// ================================ [SECTION] JSON syntax errors as line:column

// nlohmann reports a syntax error at `byte` = characters read, the offending one
// included. Re-read the stream from `start` up to it, counting lines: line 1 + the
// newlines before it, column = its 1-based position in its line.
std::optional<std::pair<std::size_t, std::size_t>> line_and_column(std::istream& in, std::streampos start,
                                                                   std::size_t byte) {
  if (start == std::streampos(-1)) return std::nullopt;  // not seekable (a pipe)
  in.clear();
  in.seekg(start);
  if (!in) return std::nullopt;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte; ++i) {
    const int c = in.get();
    if (c == std::char_traits<char>::eof()) break;
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::make_pair(line, column);
}

// "[json.exception.parse_error.101] parse error at line 1, column 4: syntax error ..."
// -> "syntax error ...": the part after nlohmann's own prefix and position.
std::string syntax_problem(const std::string& what) {
  std::string text = what;
  const auto bracket = text.find("] ");
  if (text.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) text = text.substr(bracket + 2);
  if (text.rfind("parse error", 0) == 0) {
    const auto colon = text.find(": ");
    if (colon != std::string::npos) text = text.substr(colon + 2);
  }
  return text;
}

}  // namespace

// ================================ [SECTION] entry points

Trace read_chrome_trace(std::istream& in, const std::string& source_name) {
  const std::string& source = source_name;
  ReadState state;
  TraceStreamHandlers handlers;
  handlers.on_pipelab = [&](const json& pipelab) { read_meta(source, pipelab, state); };
  handlers.on_event = [&](std::size_t index, const json& event) { read_event(source, index, event, state); };
  const std::array<std::string_view, kArgCount> arg_names = arg_keys();
  handlers.on_event_tokens = [&](std::size_t index, const EventToken* tokens, std::size_t count) {
    return read_event_fast(index, tokens, count, arg_names, state);
  };
  const std::streampos start = in.tellg();
  const TraceStreamResult sax = stream_trace(in, source, handlers);

  if (!sax.parsed) {
    const std::size_t byte = sax.syntax_error_byte.value_or(0);
    const auto position = line_and_column(in, start, byte);
    const std::string where = position ? "line " + std::to_string(position->first) + ", column " +
                                             std::to_string(position->second) + " (byte " +
                                             std::to_string(byte) + ")"
                                       : "byte " + std::to_string(byte);
    read_error(
        source, "not valid JSON at " + where, syntax_problem(sax.syntax_error_text),
        "the file is truncated (was the run interrupted?) or is not a JSON trace; re-create it with pipelab");
  }
  if (!sax.seen_pipelab)
    read_error(source, "top level",
               "not a pipelab trace (no 'pipelab' metadata); traces from other tools are not supported",
               "open a trace written by pipelab (write_chrome_trace / the CLI's trace option)");
  if (sax.deferred_error) std::rethrow_exception(sax.deferred_error);
  if (!sax.seen_events) read_error(source, "top level", "no 'traceEvents' array");

  // Device ids against pipelab.devices (known only now if "pipelab" came last).
  const int devices = state.trace.meta.devices;
  const auto check_pid = [&](int pid, std::size_t index, const char* ph) {
    if (pid >= devices)
      read_error(source, "traceEvents[" + std::to_string(index) + "] (ph '" + ph + "')",
                 "'pid' is " + std::to_string(pid) + ", outside [0, " + std::to_string(devices) +
                     ") of pipelab.devices");
  };
  for (std::size_t i = 0; i < state.trace.events.size(); ++i)
    check_pid(state.trace.events[i].device, state.span_index[i], "X");
  for (std::size_t i = 0; i < state.trace.memory.size(); ++i)
    check_pid(state.trace.memory[i].device, state.sample_index[i], "C");
  return std::move(state.trace);
}

Trace read_chrome_trace_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    PIPELAB_THROW("cannot read trace file '" + path + "': it is a directory",
                  "give the path of a .json trace file");
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open())
    PIPELAB_THROW("cannot open trace file '" + path + "'" + errno_text(),
                  "check the path (traces are written by pipelab as .json files)");
  return read_chrome_trace(file, path);
}

}  // namespace pipelab
