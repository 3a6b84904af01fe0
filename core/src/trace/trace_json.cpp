// trace_json.cpp — Chrome Trace Event JSON writer and validating streaming reader,
// and the CSV writer. Layout of the file: see trace_json.h.
//
// [SECTION] shared helpers
// [SECTION] writing: validation, metadata, events, CSV
// [SECTION] reading: typed field access with located errors
// [SECTION] reading: the pipelab object, X and C events
// [SECTION] reading: SAX handler (streams traceEvents one event at a time)
// [SECTION] reading: entry points, JSON syntax errors as line:column
#include "pipelab/trace/trace_json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "pipelab/error.h"

namespace pipelab {

using nlohmann::json;

namespace {

// ============================================================ [SECTION] shared helpers

constexpr int kLaneCount = 3;
// Deeper nesting than this is never a pipelab trace; refusing it bounds the reader's
// memory on adversarial input like "[[[[[[...".
constexpr int kMaxNesting = 64;
const char* const kCategoryKeys[kMemoryCategoryCount] = {"params", "grads", "stash", "buffers"};

const char* const kRewriteHint =
    "a pipelab trace is written by pipelab (write_chrome_trace); re-create it, or fix the named "
    "field by hand";

// Compact JSON text; invalid UTF-8 in a string becomes U+FFFD instead of throwing.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// A value shown inside an error message, cut short so a huge object stays readable.
std::string excerpt(const json& value) {
  std::string text = dump(value);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

std::string errno_text() { return errno != 0 ? std::string(": ") + std::strerror(errno) : std::string(); }

// ============================================== [SECTION] writing: validation, metadata, events, CSV

// Refuse to write what read_chrome_trace would refuse to read (and what would be
// undefined behaviour to name, e.g. a Lane or ActionKind outside its enum).
void check_writable(const Trace& trace) {
  const auto fail = [](const std::string& problem, const std::string& hint) {
    PIPELAB_THROW("cannot write trace: " + problem, hint);
  };
  const TraceMeta& meta = trace.meta;
  if (meta.devices < 1 || meta.devices > kMaxTraceDevices)
    fail("meta.devices is " + std::to_string(meta.devices) + ", must be in [1, " +
             std::to_string(kMaxTraceDevices) + "]",
         "set trace.meta.devices to the number of devices the step ran on");
  const auto devices = static_cast<std::size_t>(meta.devices);
  if (meta.microbatches < 0)
    fail("meta.microbatches is " + std::to_string(meta.microbatches) + ", must be >= 0",
         "set trace.meta.microbatches to the run's M");
  if (!meta.device_names.empty() && meta.device_names.size() != devices)
    fail("meta.device_names has " + std::to_string(meta.device_names.size()) + " names for " +
             std::to_string(devices) + " devices",
         "give one name per device, or none");
  if (!trace.peak_memory.empty() && trace.peak_memory.size() != devices)
    fail("peak_memory has " + std::to_string(trace.peak_memory.size()) + " entries for " +
             std::to_string(devices) + " devices",
         "give one MemoryBytes per device, or none");
  if (!std::isfinite(meta.theory_utilization) || !std::isfinite(meta.theory_bubble_fraction))
    fail("meta.theory_* is not a finite number", "fill it from fill_drain_theory(K, M)");
  if (!meta.config_json.empty()) {
    const json config = json::parse(meta.config_json, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object())
      fail("meta.config_json is not a JSON object: '" + meta.config_json.substr(0, 60) + "'",
           "store the RunConfig as JSON object text, or leave it empty");
  }
  // Row-name events (process name + sort index + 3 thread names = 5 per device) count too.
  const std::size_t total = trace.events.size() + trace.memory.size() + devices * 5;
  if (total > kMaxTraceEvents)
    fail(std::to_string(total) + " trace events, more than the limit of " + std::to_string(kMaxTraceEvents),
         "trace fewer steps or fewer micro-batches per file");
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& e = trace.events[i];
    const std::string where = "events[" + std::to_string(i) + "]: ";
    const int lane = static_cast<int>(e.lane);
    const int kind = static_cast<int>(e.action.kind);
    if (e.device < 0 || e.device >= meta.devices)
      fail(where + "device " + std::to_string(e.device) + " is outside [0, " + std::to_string(meta.devices) +
               ")",
           "set trace.meta.devices to the number of devices the step ran on");
    if (lane < 0 || lane >= kLaneCount)
      fail(where + "lane " + std::to_string(lane) + " is not a Lane", "use Lane::");
    if (kind < 0 || kind >= kActionKindCount)
      fail(where + "action kind " + std::to_string(kind) + " is not an ActionKind", "use ActionKind::");
    if (e.action.stage < 0 || e.action.microbatch < -1)
      fail(where + "stage " + std::to_string(e.action.stage) + " / microbatch " +
               std::to_string(e.action.microbatch) + " out of range",
           "stage >= 0, microbatch >= 0 (-1 for OptimizerStep)");
    if (!std::isfinite(e.start_us) || !std::isfinite(e.dur_us) || e.dur_us < 0)
      fail(where + "start " + std::to_string(e.start_us) + " us, duration " + std::to_string(e.dur_us) +
               " us: times must be finite and durations >= 0",
           "a backend timing bug: check the clock the span was measured with");
  }
  for (std::size_t i = 0; i < trace.memory.size(); ++i) {
    const MemorySample& s = trace.memory[i];
    if (s.device < 0 || s.device >= meta.devices)
      fail("memory[" + std::to_string(i) + "]: device " + std::to_string(s.device) + " is outside [0, " +
               std::to_string(meta.devices) + ")",
           "set trace.meta.devices to the number of devices the step ran on");
    if (!std::isfinite(s.time_us))
      fail("memory[" + std::to_string(i) + "]: time is not finite", "check the allocator's clock");
  }
}

json memory_bytes_json(const MemoryBytes& bytes) {
  json row = json::array();
  for (std::uint64_t b : bytes) row.push_back(b);
  return row;
}

json meta_json(const Trace& trace) {
  const TraceMeta& meta = trace.meta;
  json p = json::object();
  p["format"] = kTraceFormatName;
  p["version"] = kTraceFormatVersion;
  p["schedule"] = meta.schedule;
  p["backend"] = meta.backend;
  p["devices"] = meta.devices;
  p["microbatches"] = meta.microbatches;
  p["device_names"] = meta.device_names;
  // Stored as a real object (not a string) so the file is readable and jq-able.
  p["config"] = meta.config_json.empty() ? json::object() : json::parse(meta.config_json);
  p["theory"] = {{"utilization", meta.theory_utilization}, {"bubble_fraction", meta.theory_bubble_fraction}};
  json peaks = json::array();
  for (const MemoryBytes& peak : trace.peak_memory) peaks.push_back(memory_bytes_json(peak));
  p["peak_memory"] = std::move(peaks);
  return p;
}

// The "M" events that make Perfetto / chrome://tracing label and order the rows:
// one process per device ("GPU d (name)"), one thread per lane.
template <typename Emit>
void write_row_names(const Trace& trace, const Emit& emit) {
  for (int d = 0; d < trace.meta.devices; ++d) {
    std::string label = "GPU " + std::to_string(d);
    if (!trace.meta.device_names.empty()) label += " (" + trace.meta.device_names[d] + ")";
    emit({{"ph", "M"}, {"name", "process_name"}, {"pid", d}, {"args", {{"name", label}}}});
    emit({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", d}, {"args", {{"sort_index", d}}}});
    for (int lane = 0; lane < kLaneCount; ++lane) {
      emit({{"ph", "M"},
            {"name", "thread_name"},
            {"pid", d},
            {"tid", lane},
            {"args", {{"name", to_string(static_cast<Lane>(lane))}}}});
    }
  }
}

json span_json(const TraceEvent& e) {
  return {{"ph", "X"},
          {"name", to_string(e.action)},
          {"cat", to_string(e.action.kind)},
          {"ts", e.start_us},
          {"dur", e.dur_us},
          {"pid", e.device},
          {"tid", static_cast<int>(e.lane)},
          {"args",
           {{"stage", e.action.stage},
            {"microbatch", e.action.microbatch},
            {"kind", to_string(e.action.kind)},
            {"bytes", e.bytes}}}};
}

json memory_json(const MemorySample& s) {
  json args = json::object();
  for (int c = 0; c < kMemoryCategoryCount; ++c) args[kCategoryKeys[c]] = s.current[c];
  return {{"ph", "C"}, {"name", "memory"}, {"pid", s.device}, {"ts", s.time_us}, {"args", std::move(args)}};
}

// Writes a trace that check_writable() accepted. Events are written one per line, each
// dumped on its own, so memory stays ~ one event whatever the trace size. "pipelab"
// comes before "traceEvents" so a streaming reader knows the devices first.
void write_checked(const Trace& trace, std::ostream& out) {
  out << "{\"displayTimeUnit\":\"ms\",\n\"pipelab\":" << dump(meta_json(trace)) << ",\n\"traceEvents\":[";
  bool first = true;
  const auto emit = [&](const json& event) {
    out << (first ? "\n" : ",\n") << dump(event);
    first = false;
  };
  write_row_names(trace, emit);
  for (const TraceEvent& e : trace.events) emit(span_json(e));
  for (const MemorySample& s : trace.memory) emit(memory_json(s));
  out << "\n]}\n";
}

std::ofstream open_for_writing(const std::string& path, const char* what) {
  errno = 0;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file.is_open())
    PIPELAB_THROW("cannot open " + std::string(what) + " '" + path + "' for writing" + errno_text(),
                  "check that the folder exists and that you may write there");
  return file;
}

void finish_file(std::ofstream& file, const std::string& path, const char* what) {
  file.close();
  if (file.fail())
    PIPELAB_THROW("writing " + std::string(what) + " '" + path + "' failed" + errno_text(),
                  "check free disk space and permissions of the folder");
}

// Shortest decimal that reads back as the same double (std::to_chars' guarantee).
std::string shortest(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// ============================================ [SECTION] reading: typed field access with located errors

// Every reading error goes through here: "<source>: <where>: <problem>" plus a hint.
[[noreturn]] void read_error(const std::string& source, const std::string& where, const std::string& problem,
                             const std::string& hint = kRewriteHint) {
  PIPELAB_THROW(source + ": " + where + ": " + problem, hint);
}

// Typed access to one JSON object's fields; errors name the source, the object
// ("pipelab", "traceEvents[12] (ph 'X')") and the field ("args.kind").
class Fields {
 public:
  Fields(const std::string& source, std::string where) : source_(source), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& problem, const std::string& hint = kRewriteHint) const {
    read_error(source_, where_, problem, hint);
  }

  // The member `key` of `object`; `field` is its dotted name for messages.
  const json& require(const json& object, const char* key, const std::string& field) const {
    const auto it = object.find(key);
    if (it == object.end()) fail("missing '" + field + "'");
    return *it;
  }
  const json* optional(const json& object, const char* key) const {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  // An integer in [lo, hi]. Floats are refused even when integral (1.0): the writer
  // never writes them, so one is a sign of a hand-edit gone wrong.
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

  MemoryBytes memory_bytes(const json& args, const std::string& prefix) const {
    MemoryBytes bytes{};
    for (int c = 0; c < kMemoryCategoryCount; ++c)
      bytes[c] =
          byte_count(require(args, kCategoryKeys[c], prefix + kCategoryKeys[c]), prefix + kCategoryKeys[c]);
    return bytes;
  }

 private:
  const std::string& source_;
  std::string where_;
};

// ================================================= [SECTION] reading: the pipelab object, X and C events

// What the streaming pass collects. Device ids are range-checked after the whole file
// is read, because "pipelab" (which holds `devices`) may come after "traceEvents".
struct ReadState {
  Trace trace;
  bool have_meta = false;
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
  meta.schedule = f.text(f.require(p, "schedule", "pipelab.schedule"), "pipelab.schedule");
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
  if (const json* peaks = f.optional(p, "peak_memory")) {
    f.array(*peaks, "pipelab.peak_memory");
    if (!peaks->empty() && peaks->size() != devices)
      f.fail("'pipelab.peak_memory' has " + std::to_string(peaks->size()) + " rows for " +
             std::to_string(devices) + " devices");
    for (std::size_t d = 0; d < peaks->size(); ++d) {
      const std::string field = "pipelab.peak_memory[" + std::to_string(d) + "]";
      const json& row = f.array((*peaks)[d], field);
      if (row.size() != kMemoryCategoryCount)
        f.fail("'" + field + "' must hold 4 byte counts [params, grads, stash, buffers], has " +
               std::to_string(row.size()));
      MemoryBytes bytes{};
      for (int c = 0; c < kMemoryCategoryCount; ++c)
        bytes[c] = f.byte_count(row[c], field + "[" + std::to_string(c) + "]");
      state.trace.peak_memory.push_back(bytes);
    }
  }
  state.have_meta = true;
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

// ================================ [SECTION] reading: SAX handler (streams traceEvents one event at a time)

// Builds one JSON value from SAX calls with an explicit stack (no recursion).
class ValueBuilder {
 public:
  void start(json::value_t container) {
    root_ = json(container);
    stack_.assign(1, &root_);
  }
  void add(json value) { place(std::move(value)); }
  void open(json::value_t container) { stack_.push_back(place(json(container))); }
  void key(std::string key) { key_ = std::move(key); }
  // Returns true when the outermost container closed: the value is complete.
  bool close() {
    stack_.pop_back();
    return stack_.empty();
  }
  json& value() { return root_; }

 private:
  // Pointers on the stack stay valid: only the innermost open container grows.
  json* place(json value) {
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }

  json root_;
  std::vector<json*> stack_;
  std::string key_;
};

// nlohmann SAX handler. The top-level object is walked by hand: "pipelab" is built
// into one json value; each element of "traceEvents" is built, read into the Trace
// and dropped, so the JSON text is never held in memory as a whole; other members are
// skipped. Validation errors are thrown as pipelab::Error straight out of sax_parse.
class TraceSax {
 public:
  TraceSax(const std::string& source, ReadState& state) : source_(source), state_(state) {}

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool v) { return scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return scalar(json(v)); }
  bool string(json::string_t& v) { return scalar(json(std::move(v))); }
  bool binary(json::binary_t&) { return scalar(json(nullptr)); }  // not produced by JSON text
  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    if (capture_ == Capture::Value) {
      builder_.key(std::move(k));
    } else if (capture_ == Capture::None && depth_ == 1) {
      if ((k == "traceEvents" && seen_events_) || (k == "pipelab" && seen_pipelab_))
        read_error(source_, "top level", "duplicate key '" + k + "'");
      top_key_ = std::move(k);
    }
    return true;
  }

  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& ex) {
    syntax_error_byte = byte;
    syntax_error_text = ex.what();
    return false;
  }

  bool seen_events() const { return seen_events_; }
  bool seen_pipelab() const { return seen_pipelab_; }
  // The first traceEvents error seen before "pipelab": reported only if the file turns
  // out to be a pipelab trace (otherwise "not a pipelab trace" is the better message).
  std::exception_ptr deferred_error;
  std::optional<std::size_t> syntax_error_byte;
  std::string syntax_error_text;

 private:
  enum class Capture { None, Value, Skip };
  enum class Target { Pipelab, Event };

  bool scalar(json value) {
    if (capture_ == Capture::Value) {
      builder_.add(std::move(value));
    } else if (capture_ == Capture::None) {
      if (depth_ == 0) top_level_not_object(value.type_name());
      if (depth_ == 1 && top_key_ == "traceEvents")
        read_error(source_, "traceEvents", "must be an array of events, got " + excerpt(value));
      if (depth_ == 1 && top_key_ == "pipelab")
        read_error(source_, "pipelab", "must be an object, got " + excerpt(value));
      if (depth_ == 2 && in_events_) {
        const std::size_t index = next_event_index();
        event_failed([&] {
          read_error(source_, "traceEvents[" + std::to_string(index) + "]",
                     "must be an object, got " + excerpt(value));
        });
      }
    }
    return true;
  }

  bool open(json::value_t container) {
    if (depth_ >= kMaxNesting)
      read_error(source_, "structure", "JSON nested deeper than " + std::to_string(kMaxNesting) + " levels");
    ++depth_;
    if (capture_ == Capture::Value) {
      builder_.open(container);
      return true;
    }
    if (capture_ == Capture::Skip) return true;
    const bool is_object = container == json::value_t::object;
    if (depth_ == 1) {
      if (!is_object) top_level_not_object("array");
    } else if (depth_ == 2 && top_key_ == "traceEvents") {
      if (is_object) read_error(source_, "traceEvents", "must be an array of events, got an object");
      seen_events_ = true;
      in_events_ = true;
    } else if (depth_ == 2 && top_key_ == "pipelab") {
      if (!is_object) read_error(source_, "pipelab", "must be an object, got an array");
      begin_capture(Target::Pipelab, container);
    } else if (depth_ == 2) {
      capture_ = Capture::Skip;  // another tool's member ("otherData", ...)
      capture_depth_ = 1;
    } else if (depth_ == 3 && in_events_) {
      const std::size_t index = next_event_index();
      if (is_object) {
        event_index_ = index;
        begin_capture(Target::Event, container);
      } else {
        event_failed([&] {
          read_error(source_, "traceEvents[" + std::to_string(index) + "]",
                     "must be an object, got an array");
        });
        capture_ = Capture::Skip;
        capture_depth_ = 2;
      }
    }
    return true;
  }

  bool close() {
    --depth_;
    if (capture_ == Capture::Value) {
      if (builder_.close()) finish_capture();
    } else if (capture_ == Capture::Skip) {
      if (depth_ == capture_depth_) capture_ = Capture::None;
    } else if (depth_ == 1 && in_events_) {
      in_events_ = false;
    }
    return true;
  }

  void begin_capture(Target target, json::value_t container) {
    capture_ = Capture::Value;
    target_ = target;
    builder_.start(container);
  }

  void finish_capture() {
    capture_ = Capture::None;
    if (target_ == Target::Pipelab) {
      seen_pipelab_ = true;
      read_meta(source_, builder_.value(), state_);
    } else {
      const json event = std::move(builder_.value());
      event_failed([&] { read_event(source_, event_index_, event, state_); });
    }
  }

  std::size_t next_event_index() {
    if (events_seen_ >= kMaxTraceEvents)
      read_error(source_, "traceEvents", "more than " + std::to_string(kMaxTraceEvents) + " events",
                 "pipelab refuses traces this large; trace fewer micro-batches or steps per file");
    return events_seen_++;
  }

  // Runs `check` on an event. Before "pipelab" is known, the first failure is kept and
  // reading continues (the file may be another tool's trace); after it, it is thrown.
  template <typename Check>
  void event_failed(Check check) {
    if (deferred_error) return;  // the trace is already known bad; keep the first error
    if (seen_pipelab_) {
      check();
      return;
    }
    try {
      check();
    } catch (const Error&) {
      deferred_error = std::current_exception();
    }
  }

  [[noreturn]] void top_level_not_object(const std::string& type) {
    if (type == "array")
      read_error(source_, "top level",
                 "a JSON array (Chrome's 'JSON Array Format'), not a pipelab trace; traces from other "
                 "tools are not supported",
                 "open a trace written by pipelab: an object with 'traceEvents' and 'pipelab' metadata");
    read_error(source_, "top level", "a JSON " + type + ", not an object; this is not a pipelab trace",
               "open a trace written by pipelab: an object with 'traceEvents' and 'pipelab' metadata");
  }

  const std::string& source_;
  ReadState& state_;
  int depth_ = 0;  // containers open right now
  Capture capture_ = Capture::None;
  Target target_ = Target::Pipelab;
  int capture_depth_ = 0;  // depth_ after the skipped container closes
  bool in_events_ = false;
  bool seen_events_ = false;
  bool seen_pipelab_ = false;
  std::string top_key_;
  std::size_t events_seen_ = 0;
  std::size_t event_index_ = 0;
  ValueBuilder builder_;
};

// ================================ [SECTION] reading: entry points, JSON syntax errors as line:column

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

void write_chrome_trace(const Trace& trace, std::ostream& out) {
  check_writable(trace);
  write_checked(trace, out);
  if (!out) PIPELAB_THROW("writing the trace failed (stream error)", "check the stream / free disk space");
}

void write_chrome_trace_file(const Trace& trace, const std::string& path) {
  check_writable(trace);  // before the file is created or truncated
  std::ofstream file = open_for_writing(path, "trace file");
  write_checked(trace, file);
  finish_file(file, path, "trace file");
}

void write_trace_csv(const Trace& trace, std::ostream& out) {
  out << "device,lane,kind,stage,microbatch,start_us,dur_us,bytes\n";
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& e = trace.events[i];
    const int lane = static_cast<int>(e.lane), kind = static_cast<int>(e.action.kind);
    if (lane < 0 || lane >= kLaneCount || kind < 0 || kind >= kActionKindCount)
      PIPELAB_THROW("cannot write CSV: events[" + std::to_string(i) + "] has an invalid lane or action kind",
                    "use the Lane:: and ActionKind:: values");
    out << e.device << ',' << to_string(e.lane) << ',' << to_string(e.action.kind) << ',' << e.action.stage
        << ',' << e.action.microbatch << ',' << shortest(e.start_us) << ',' << shortest(e.dur_us) << ','
        << e.bytes << '\n';
  }
  if (!out) PIPELAB_THROW("writing the CSV failed (stream error)", "check the stream / free disk space");
}

void write_trace_csv_file(const Trace& trace, const std::string& path) {
  std::ofstream file = open_for_writing(path, "CSV file");
  write_trace_csv(trace, file);
  finish_file(file, path, "CSV file");
}

Trace read_chrome_trace(std::istream& in, const std::string& source_name) {
  const std::string& source = source_name;
  ReadState state;
  TraceSax sax(source, state);
  const std::streampos start = in.tellg();
  const bool parsed = json::sax_parse(in, &sax);

  if (!parsed || sax.syntax_error_byte) {
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
  if (!sax.seen_pipelab())
    read_error(source, "top level",
               "not a pipelab trace (no 'pipelab' metadata); traces from other tools are not supported",
               "open a trace written by pipelab (write_chrome_trace / the CLI's trace option)");
  if (sax.deferred_error) std::rethrow_exception(sax.deferred_error);
  if (!sax.seen_events()) read_error(source, "top level", "no 'traceEvents' array");

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
