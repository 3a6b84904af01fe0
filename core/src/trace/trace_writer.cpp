// trace_writer.cpp — Chrome Trace Event JSON writer, and the CSV writer.
// Layout of the file: see trace_format.h (and docs/trace-format.md).
//
// [SECTION] validation: refuse what the reader would refuse
// [SECTION] JSON of the metadata, row names, spans and memory samples
// [SECTION] entry points
#include "pipelab/trace/trace_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <ostream>
#include <string>
#include <utility>

#include "pipelab/error.h"
#include "trace_json_shared.h"
#include "trace_ranks.h"

namespace pipelab {

using trace_detail::dump;
using trace_detail::errno_text;
using trace_detail::json;
using trace_detail::shortest;

namespace {

// ============================================ [SECTION] validation: refuse what the reader would refuse

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
  const auto kinds = trace_detail::trace_schedule_kinds();
  if (std::find(kinds.begin(), kinds.end(), meta.schedule_kind) == kinds.end())
    fail("meta.schedule_kind " + std::to_string(static_cast<int>(meta.schedule_kind)) + " is not a ScheduleKind",
         "copy it from the Schedule that ran (Schedule::kind)");
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
    fail("meta.theory_* is not a finite number", "fill it from schedule_theory(schedule)");
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
    if (!std::isfinite(e.cpu_us) || (e.cpu_us < 0 && e.cpu_us != -1))
      fail(where + "cpu time " + std::to_string(e.cpu_us) + " us: must be finite and >= 0 (or -1: not measured)",
           "a backend timing bug: please report");
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

// ============================================ [SECTION] JSON of the metadata, row names, spans and memory samples

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
  // The typed identity is what pipelab reads; the display name stays beside it for
  // people and other tools (Perfetto's metadata view), and for readers of old traces.
  p["schedule_kind"] = to_string(meta.schedule_kind);
  p["remat"] = meta.remat;
  if (meta.w_batch) p["w_batch"] = true;  // only with --w-batch: every other trace stays as it was
  p["schedule"] = meta.schedule_name();
  p["backend"] = meta.backend;
  p["devices"] = meta.devices;
  p["microbatches"] = meta.microbatches;
  p["device_names"] = meta.device_names;
  // Stored as a real object (not a string) so the file is readable and jq-able.
  p["config"] = meta.config_json.empty() ? json::object() : json::parse(meta.config_json);
  p["theory"] = {{"utilization", meta.theory_utilization}, {"bubble_fraction", meta.theory_bubble_fraction}};
  if (!meta.ranks.empty()) p["ranks"] = trace_detail::ranks_json(meta.ranks);  // stages as processes
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
  json span = {{"ph", "X"},
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
  // Written only where measured, so traces of the other backends keep their shape.
  if (e.cpu_us >= 0) span["args"]["cpu_us"] = static_cast<double>(e.cpu_us);
  if (e.action.chunk > 0) span["args"]["chunk"] = static_cast<int>(e.action.chunk);
  return span;
}

json memory_json(const MemorySample& s) {
  json args = json::object();
  for (int c = 0; c < kMemoryCategoryCount; ++c) args[to_string(static_cast<MemoryCategory>(c))] = s.current[c];
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

}  // namespace

// ============================================ [SECTION] entry points

void write_chrome_trace(const Trace& trace, std::ostream& out) {
  check_writable(trace);
  write_checked(trace, out);
  if (!out) PIPELAB_THROW("writing the trace failed (stream error)", "check the stream / free disk space");
}

void write_chrome_trace_file(const Trace& trace, const std::string& path) {
  check_writable(trace);  // before the file is created or truncated
  errno = 0;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file.is_open())
    PIPELAB_THROW("cannot open trace file '" + path + "' for writing" + errno_text(),
                  "check that the folder exists and that you may write there");
  write_checked(trace, file);
  file.close();
  if (file.fail())
    PIPELAB_THROW("writing trace file '" + path + "' failed" + errno_text(),
                  "check free disk space and permissions of the folder");
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

}  // namespace pipelab
