// test_trace_json.cpp — Trace names and order, the Chrome-trace JSON writer/reader
// (exact round trip, the fields Perfetto needs, and many malformed inputs that must
// each give a pipelab::Error naming the problem, never a crash), and the CSV writer.
//
//   ./build/tests/pipelab_unit_tests --gtest_filter='Trace*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>
#include <set>
#include <sstream>
#include <string>

#include "pipelab/error.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/trace/trace_reader.h"
#include "pipelab/trace/trace_writer.h"

namespace pipelab {
namespace {

using nlohmann::json;

TraceEvent make_event(int device, Lane lane, ActionKind kind, int stage, int microbatch, double start_us,
                      double dur_us, std::uint64_t bytes = 0) {
  TraceEvent e;
  e.device = device;
  e.lane = lane;
  e.action = {kind, stage, microbatch};
  e.start_us = start_us;
  e.dur_us = dur_us;
  e.bytes = bytes;
  return e;
}

// A small trace that exercises every field, with doubles that have no short decimal
// form (1/3, 2/3, 0.1) so the round trip must keep all 17 significant digits.
Trace sample_trace() {
  Trace trace;
  trace.meta.schedule_kind = ScheduleKind::Gpipe;
  trace.meta.remat = true;
  trace.meta.backend = "cpu";
  trace.meta.devices = 2;
  trace.meta.microbatches = 2;
  trace.meta.device_names = {"cpu:0 \"worker\"", "cpu:1 \xC3\xA9"};  // a quote and a UTF-8 é
  trace.meta.config_json = json{{"schedule", "gpipe"}, {"devices", 2}, {"lr", 0.1}}.dump();
  const Theory theory = fill_drain_theory(2, 2);
  trace.meta.theory_utilization = theory.utilization;
  trace.meta.theory_bubble_fraction = theory.bubble_fraction;
  trace.events = {
      make_event(0, Lane::Compute, ActionKind::Forward, 0, 0, 0.0, 1.0 / 3.0),
      make_event(0, Lane::Send, ActionKind::SendActivation, 0, 0, 1.0 / 3.0, 0.1, 1ull << 40),
      make_event(1, Lane::Recv, ActionKind::RecvActivation, 1, 0, 1.0 / 3.0, 0.1, 1ull << 40),
      make_event(1, Lane::Compute, ActionKind::Forward, 1, 0, 12345.678901234567, 1e-9),
      make_event(1, Lane::Compute, ActionKind::Recompute, 1, 1, 2e12, 0.0),
      make_event(1, Lane::Compute, ActionKind::Backward, 1, 1, 2e12, 7.0),
      make_event(1, Lane::Send, ActionKind::SendGrad, 1, 1, -0.5, 2.0 / 3.0, 12),
      make_event(0, Lane::Recv, ActionKind::RecvGrad, 0, 1, 5, 1, std::numeric_limits<std::uint64_t>::max()),
      make_event(0, Lane::Compute, ActionKind::OptimizerStep, 0, -1, 99.25, 0.5),
  };
  MemorySample s0;
  s0.device = 0;
  s0.time_us = 0.1;
  s0.current = {1000, 0, 64, 8};
  MemorySample s1;
  s1.device = 1;
  s1.time_us = 1.0 / 3.0;
  s1.current = {2000, 2000, 0, std::numeric_limits<std::uint64_t>::max()};
  trace.memory = {s0, s1};
  trace.peak_memory = {{1000, 10, 64, 8}, {2000, 2000, 5, 7}};
  return trace;
}

void expect_same_trace(const Trace& a, const Trace& b) {
  EXPECT_EQ(a.meta.schedule_kind, b.meta.schedule_kind);
  EXPECT_EQ(a.meta.remat, b.meta.remat);
  EXPECT_EQ(a.meta.schedule_name(), b.meta.schedule_name());
  EXPECT_EQ(a.meta.backend, b.meta.backend);
  EXPECT_EQ(a.meta.devices, b.meta.devices);
  EXPECT_EQ(a.meta.microbatches, b.meta.microbatches);
  EXPECT_EQ(a.meta.device_names, b.meta.device_names);
  EXPECT_EQ(a.meta.config_json, b.meta.config_json);
  EXPECT_EQ(a.meta.theory_utilization, b.meta.theory_utilization);
  EXPECT_EQ(a.meta.theory_bubble_fraction, b.meta.theory_bubble_fraction);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TraceEvent& x = a.events[i];
    const TraceEvent& y = b.events[i];
    EXPECT_EQ(x.device, y.device) << "event " << i;
    EXPECT_EQ(x.lane, y.lane) << "event " << i;
    EXPECT_EQ(x.action, y.action) << "event " << i;
    EXPECT_EQ(x.start_us, y.start_us) << "event " << i;  // exact, not near
    EXPECT_EQ(x.dur_us, y.dur_us) << "event " << i;
    EXPECT_EQ(x.bytes, y.bytes) << "event " << i;
    EXPECT_EQ(x.cpu_us, y.cpu_us) << "event " << i;
  }
  ASSERT_EQ(a.memory.size(), b.memory.size());
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    EXPECT_EQ(a.memory[i].device, b.memory[i].device) << "sample " << i;
    EXPECT_EQ(a.memory[i].time_us, b.memory[i].time_us) << "sample " << i;
    EXPECT_EQ(a.memory[i].current, b.memory[i].current) << "sample " << i;
  }
  EXPECT_EQ(a.peak_memory, b.peak_memory);
}

std::string to_json_text(const Trace& trace) {
  std::ostringstream out;
  write_chrome_trace(trace, out);
  return out.str();
}

Trace from_json_text(const std::string& text, const std::string& source = "test.json") {
  std::istringstream in(text);
  return read_chrome_trace(in, source);
}

// The sample trace as a mutable JSON value, for building malformed files.
json sample_json() { return json::parse(to_json_text(sample_trace())); }

// Index in traceEvents of the first event with ph `ph`.
std::size_t first_event(const json& doc, const std::string& ph) {
  const json& events = doc["traceEvents"];
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i]["ph"] == ph) return i;
  ADD_FAILURE() << "no ph " << ph;
  return 0;
}

// Reads `text` expecting a pipelab::Error; returns its full text ("" if none thrown).
std::string read_error(const std::string& text) {
  try {
    from_json_text(text, "bad.json");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos)
        << "error must name the source: " << e.what();
    EXPECT_FALSE(e.hint().empty()) << "error must carry a hint: " << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected pipelab::Error, got another exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected pipelab::Error reading: " << text.substr(0, 200);
  return "";
}

#define EXPECT_READ_ERROR(text, ...)                                                                        \
  do {                                                                                                      \
    const std::string error_text = read_error(text);                                                        \
    for (const char* part : {__VA_ARGS__})                                                                  \
      EXPECT_NE(error_text.find(part), std::string::npos) << "missing '" << part << "' in: " << error_text; \
  } while (0)

// ------------------------------------------------------------------ Trace basics

TEST(Trace, LaneAndCategoryNames) {
  EXPECT_STREQ(to_string(Lane::Compute), "compute");
  EXPECT_STREQ(to_string(Lane::Send), "send");
  EXPECT_STREQ(to_string(Lane::Recv), "recv");
  EXPECT_STREQ(to_string(MemoryCategory::Params), "params");
  EXPECT_STREQ(to_string(MemoryCategory::Grads), "grads");
  EXPECT_STREQ(to_string(MemoryCategory::Stash), "stash");
  EXPECT_STREQ(to_string(MemoryCategory::Buffers), "buffers");
}

TEST(Trace, ScheduleNameIsDerivedFromKindAndRemat) {
  TraceMeta meta;
  EXPECT_EQ(meta.schedule_kind, ScheduleKind::Custom) << "a hand-built trace is a custom schedule";
  EXPECT_EQ(meta.schedule_name(), "custom");
  meta.schedule_kind = ScheduleKind::Gpipe;
  meta.remat = true;
  EXPECT_EQ(meta.schedule_name(), "gpipe+remat");
  meta.schedule_kind = ScheduleKind::OneFOneB;
  meta.remat = false;
  EXPECT_EQ(meta.schedule_name(), "1f1b");
  // The same spelling as the schedule that ran.
  const Schedule naive = generate_schedule(ScheduleKind::Naive, 3, 1, /*remat=*/true);
  meta.schedule_kind = naive.kind;
  meta.remat = naive.remat;
  EXPECT_EQ(meta.schedule_name(), naive.name());
}

// --w-batch travels in the trace: the step's metadata says so, the file writes
// pipelab.w_batch (only then) and the display name, and reading it back restores it.
TEST(Trace, WBatchIsInTheMetadataAndSurvivesTheFile) {
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.schedule = ScheduleKind::ZbH1;
  c.devices = 2;
  c.microbatches = 4;
  c.model.layers = 2;
  c.w_batch = true;
  const RunResult r = run_step(c);
  EXPECT_TRUE(r.trace.meta.w_batch);
  EXPECT_EQ(r.trace.meta.schedule_name(), "zb-h1+w-batch");
  const json doc = json::parse(to_json_text(r.trace));
  EXPECT_EQ(doc["pipelab"]["w_batch"], true);
  EXPECT_EQ(doc["pipelab"]["schedule"], "zb-h1+w-batch");
  const Trace back = from_json_text(doc.dump());
  EXPECT_TRUE(back.meta.w_batch);
  EXPECT_EQ(back.meta.schedule_kind, ScheduleKind::ZbH1);
  // Without --w-batch the field is not written (older readers and files unchanged).
  c.w_batch = false;
  const json plain = json::parse(to_json_text(run_step(c).trace));
  EXPECT_FALSE(plain["pipelab"].contains("w_batch"));
  EXPECT_FALSE(from_json_text(plain.dump()).meta.w_batch);
}

TEST(Trace, SortByDeviceLaneStart) {
  // Hand-ordered expectation (the canonical order, docs/trace-format.md): device 0's
  // compute lane by start, then its send lane, then device 1 — even though device 1's
  // span starts before all of device 0's.
  Trace trace;
  trace.events = {
      make_event(1, Lane::Compute, ActionKind::Forward, 1, 0, -1, 1),
      make_event(0, Lane::Send, ActionKind::SendActivation, 0, 0, 5, 1),
      make_event(0, Lane::Compute, ActionKind::Forward, 0, 1, 5, 1),
      make_event(0, Lane::Compute, ActionKind::Forward, 0, 0, 0, 5),
  };
  trace.sort();
  ASSERT_EQ(trace.events.size(), 4u);
  EXPECT_EQ(trace.events[0].device, 0);
  EXPECT_EQ(trace.events[0].lane, Lane::Compute);
  EXPECT_EQ(trace.events[0].start_us, 0);
  EXPECT_EQ(trace.events[1].lane, Lane::Compute);
  EXPECT_EQ(trace.events[1].start_us, 5);
  EXPECT_EQ(trace.events[2].device, 0);
  EXPECT_EQ(trace.events[2].lane, Lane::Send);
  EXPECT_EQ(trace.events[3].device, 1);
  EXPECT_EQ(trace.events[3].start_us, -1);
}

TEST(Trace, SortIsIndependentOfInsertionOrder) {
  // Ties on (device, lane, start) are broken by the other fields, so any permutation
  // of the same events sorts to the same list.
  Trace a = sample_trace();
  a.events.push_back(make_event(1, Lane::Compute, ActionKind::Backward, 1, 0, 2e12, 7.0));
  Trace b = a;
  std::reverse(b.events.begin(), b.events.end());
  std::reverse(b.memory.begin(), b.memory.end());
  a.sort();
  b.sort();
  expect_same_trace(a, b);
  // Within each (device, lane) the starts never decrease; the runs follow (device, lane).
  for (std::size_t i = 1; i < a.events.size(); ++i) {
    const TraceEvent& p = a.events[i - 1];
    const TraceEvent& e = a.events[i];
    ASSERT_LE(std::make_pair(p.device, p.lane), std::make_pair(e.device, e.lane)) << i;
    if (p.device == e.device && p.lane == e.lane) {
      EXPECT_LE(p.start_us, e.start_us) << i;
    }
  }
  for (std::size_t i = 1; i < a.memory.size(); ++i) {
    const MemorySample& p = a.memory[i - 1];
    const MemorySample& s = a.memory[i];
    ASSERT_LE(p.device, s.device) << i;
    if (p.device == s.device) {
      EXPECT_LE(p.time_us, s.time_us) << i;
    }
  }
}

TEST(Trace, SortSortsEachLaneOfAGroupedTrace) {
  // The engines' layout (one run per (device, lane), runs in order, each run unsorted)
  // takes sort()'s per-run path; it must give what sorting the shuffled list gives.
  Trace grouped;
  for (int d = 0; d < 3; ++d)
    for (int lane = 0; lane < kLaneCount; ++lane)
      for (int m = 4; m >= 0; --m)  // each run in reverse time order
        grouped.events.push_back(make_event(d, static_cast<Lane>(lane), ActionKind::Forward, d, m, 10.0 * m, 1));
  Trace shuffled = grouped;
  std::reverse(shuffled.events.begin(), shuffled.events.end());
  std::rotate(shuffled.events.begin(), shuffled.events.begin() + 7, shuffled.events.end());
  grouped.sort();
  shuffled.sort();
  expect_same_trace(grouped, shuffled);
  for (std::size_t i = 1; i < grouped.events.size(); ++i)
    EXPECT_TRUE(canonical_event_less(grouped.events[i - 1], grouped.events[i])) << i;
}

TEST(Trace, SortKeepsOrderOfSameTimeSamples) {
  // Two allocator states of one device at one timestamp: the later one stays last.
  Trace trace;
  MemorySample first, second, other;
  first.current = {1, 0, 0, 0};
  second.current = {2, 0, 0, 0};
  other.time_us = -1;
  trace.memory = {first, second, other};
  trace.sort();
  EXPECT_EQ(trace.memory[0].time_us, -1);
  EXPECT_EQ(trace.memory[1].current[0], 1u);
  EXPECT_EQ(trace.memory[2].current[0], 2u);
}

TEST(Trace, SortSurvivesNaN) {
  Trace trace = sample_trace();
  trace.events[3].start_us = std::numeric_limits<double>::quiet_NaN();
  const int device = trace.events[3].device;
  const Lane lane = trace.events[3].lane;
  trace.sort();  // must not crash; the NaN sorts last in its (device, lane) run
  std::size_t last_of_lane = 0;
  for (std::size_t i = 0; i < trace.events.size(); ++i)
    if (trace.events[i].device == device && trace.events[i].lane == lane) last_of_lane = i;
  EXPECT_TRUE(std::isnan(trace.events[last_of_lane].start_us));
}

// ------------------------------------------------------------------ writing

TEST(TraceJson, RoundTripIsExact) {
  const Trace original = sample_trace();
  const Trace read = from_json_text(to_json_text(original));
  expect_same_trace(original, read);
  // And the second generation writes the same bytes.
  EXPECT_EQ(to_json_text(read), to_json_text(original));
}

TEST(TraceJson, RanksOfAMultiProcessRunRoundTrip) {
  Trace original = sample_trace();
  original.meta.ranks = {{0, "node01", 0.0, 0.0}, {1, "node02 \"b\"", -12.5 + 1.0 / 3.0, 2.0 / 3.0}};
  const Trace read = from_json_text(to_json_text(original));
  ASSERT_EQ(read.meta.ranks.size(), 2u);
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(read.meta.ranks[r].rank, original.meta.ranks[r].rank);
    EXPECT_EQ(read.meta.ranks[r].host, original.meta.ranks[r].host);
    EXPECT_EQ(read.meta.ranks[r].offset_us, original.meta.ranks[r].offset_us);
    EXPECT_EQ(read.meta.ranks[r].alignment_error_us, original.meta.ranks[r].alignment_error_us);
  }
  // A trace from one process has no `ranks` at all.
  EXPECT_FALSE(json::parse(to_json_text(sample_trace()))["pipelab"].contains("ranks"));
  // A row without its host is refused, naming the field.
  json broken = json::parse(to_json_text(original));
  broken["pipelab"]["ranks"][1].erase("host");
  try {
    from_json_text(broken.dump());
    ADD_FAILURE() << "a rank without a host was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pipelab.ranks[1].host"), std::string::npos) << e.what();
  }
}

TEST(TraceJson, ThreadCpuTimeRoundTripsAndIsOptional) {
  Trace original = sample_trace();
  original.events[0].cpu_us = 1.0f / 7.0f;  // measured (cpu backend)
  original.events[1].cpu_us = 0.0;        // measured, zero
  const std::string text = to_json_text(original);
  expect_same_trace(original, from_json_text(text));
  // Unmeasured spans carry no cpu_us at all: traces of sim and cuda keep their shape.
  const json j = json::parse(text);
  int with_cpu = 0;
  for (const json& e : j["traceEvents"])
    if (e["ph"] == "X" && e["args"].contains("cpu_us")) ++with_cpu;
  EXPECT_EQ(with_cpu, 2);
  json bad = j;
  for (json& e : bad["traceEvents"])
    if (e["ph"] == "X") {
      e["args"]["cpu_us"] = -3.0;
      break;
    }
  EXPECT_THROW(from_json_text(bad.dump()), Error);
}

TEST(TraceJson, RoundTripThroughFile) {
  const Trace original = sample_trace();
  const std::string path = testing::TempDir() + "pipelab_trace_json_roundtrip.json";
  write_chrome_trace_file(original, path);
  expect_same_trace(original, read_chrome_trace_file(path));
  std::remove(path.c_str());
}

TEST(TraceJson, EmptyConfigAndNoPeaksRoundTrip) {
  Trace trace;
  trace.meta.devices = 1;
  trace.meta.schedule_kind = ScheduleKind::Naive;
  trace.meta.backend = "sim";
  const Trace read = from_json_text(to_json_text(trace));
  expect_same_trace(trace, read);
  EXPECT_EQ(read.meta.config_json, "");
  EXPECT_TRUE(read.peak_memory.empty());
  EXPECT_TRUE(read.events.empty());
}

TEST(TraceJson, HasTheFieldsPerfettoNeeds) {
  const json doc = sample_json();  // also proves the output is valid JSON
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["displayTimeUnit"], "ms");
  ASSERT_TRUE(doc["traceEvents"].is_array());

  std::set<std::string> process_names, thread_names;
  std::set<int> sorted_pids;
  int spans = 0, counters = 0;
  for (const json& e : doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph")) << e;
    ASSERT_TRUE(e.contains("pid")) << e;
    if (e["ph"] == "X") {
      ++spans;
      for (const char* key : {"name", "cat", "ts", "dur", "tid", "args"})
        EXPECT_TRUE(e.contains(key)) << key << " in " << e;
      for (const char* key : {"stage", "microbatch", "kind", "bytes"})
        EXPECT_TRUE(e["args"].contains(key)) << key << " in " << e;
      EXPECT_TRUE(e["ts"].is_number());
      EXPECT_TRUE(e["dur"].is_number());
    } else if (e["ph"] == "C") {
      ++counters;
      EXPECT_EQ(e["name"], "memory");
      for (const char* key : {"params", "grads", "stash", "buffers"})
        EXPECT_TRUE(e["args"][key].is_number()) << e;
    } else if (e["ph"] == "M") {
      if (e["name"] == "process_name") process_names.insert(e["args"]["name"].get<std::string>());
      if (e["name"] == "thread_name") thread_names.insert(e["args"]["name"].get<std::string>());
      if (e["name"] == "process_sort_index") sorted_pids.insert(e["pid"].get<int>());
    } else {
      ADD_FAILURE() << "unexpected ph in " << e;
    }
  }
  EXPECT_EQ(spans, 9);
  EXPECT_EQ(counters, 2);
  EXPECT_EQ(process_names, (std::set<std::string>{"GPU 0 (cpu:0 \"worker\")", "GPU 1 (cpu:1 \xC3\xA9)"}));
  EXPECT_EQ(thread_names, (std::set<std::string>{"compute", "send", "recv"}));
  EXPECT_EQ(sorted_pids, (std::set<int>{0, 1}));

  // The first span, field by field.
  const json& f = doc["traceEvents"][first_event(doc, "X")];
  EXPECT_EQ(f["name"], "F0 s0");
  EXPECT_EQ(f["cat"], "Forward");
  EXPECT_EQ(f["pid"], 0);
  EXPECT_EQ(f["tid"], 0);
  EXPECT_EQ(f["ts"], 0.0);
  EXPECT_EQ(f["dur"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(f["args"], (json{{"stage", 0}, {"microbatch", 0}, {"kind", "Forward"}, {"bytes", 0}}));

  const json& p = doc["pipelab"];
  EXPECT_EQ(p["format"], "pipelab-trace");
  EXPECT_EQ(p["version"], 1);
  EXPECT_EQ(p["schedule"], "gpipe+remat");  // the display name, for people and Perfetto
  EXPECT_EQ(p["schedule_kind"], "gpipe");
  EXPECT_EQ(p["remat"], true);
  EXPECT_EQ(p["backend"], "cpu");
  EXPECT_EQ(p["devices"], 2);
  EXPECT_EQ(p["microbatches"], 2);
  EXPECT_EQ(p["device_names"].size(), 2u);
  EXPECT_TRUE(p["config"].is_object());
  EXPECT_EQ(p["config"]["schedule"], "gpipe");
  EXPECT_EQ(p["theory"]["utilization"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(p["theory"]["bubble_fraction"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(p["peak_memory"], (json{{1000, 10, 64, 8}, {2000, 2000, 5, 7}}));
}

TEST(TraceJson, WriterRefusesWhatTheReaderWouldRefuse) {
  const auto write_error = [](const Trace& trace) -> std::string {
    std::ostringstream out;
    try {
      write_chrome_trace(trace, out);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  Trace t = sample_trace();
  t.meta.devices = 0;
  EXPECT_NE(write_error(t).find("meta.devices"), std::string::npos);
  t = sample_trace();
  t.events[2].device = 2;
  EXPECT_NE(write_error(t).find("events[2]: device 2"), std::string::npos);
  t = sample_trace();
  t.events[1].start_us = std::numeric_limits<double>::infinity();
  EXPECT_NE(write_error(t).find("finite"), std::string::npos);
  t = sample_trace();
  t.events[1].dur_us = -1;
  EXPECT_NE(write_error(t).find("events[1]"), std::string::npos);
  t = sample_trace();
  t.meta.config_json = "{not json";
  EXPECT_NE(write_error(t).find("config_json"), std::string::npos);
  t = sample_trace();
  t.meta.device_names.pop_back();
  EXPECT_NE(write_error(t).find("device_names"), std::string::npos);
  t = sample_trace();
  t.memory[0].device = -1;
  EXPECT_NE(write_error(t).find("memory[0]"), std::string::npos);
  t = sample_trace();
  t.meta.schedule_kind = static_cast<ScheduleKind>(42);
  EXPECT_NE(write_error(t).find("meta.schedule_kind 42"), std::string::npos);
}

TEST(TraceJson, WriteToMissingFolderNamesThePath) {
  const std::string path = "/nonexistent-pipelab-dir/sub/trace.json";
  try {
    write_chrome_trace_file(sample_trace(), path);
    FAIL() << "expected pipelab::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(TraceJson, CsvHasOneRowPerSpan) {
  std::ostringstream out;
  write_trace_csv(sample_trace(), out);
  std::istringstream in(out.str());
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u + 9u);
  EXPECT_EQ(lines[0], "device,lane,kind,stage,microbatch,start_us,dur_us,bytes");
  EXPECT_EQ(lines[1], "0,compute,Forward,0,0,0,0.3333333333333333,0");
  EXPECT_EQ(lines[2], "0,send,SendActivation,0,0,0.3333333333333333,0.1,1099511627776");
  EXPECT_EQ(lines[9], "0,compute,OptimizerStep,0,-1,99.25,0.5,0");
}

// ------------------------------------------------------------------ reading: tolerated input

TEST(TraceJsonRead, PipelabMetadataMayComeLast) {
  // Chrome allows any member order; "traceEvents" first means device ids are checked
  // after "pipelab" is read.
  const json doc = sample_json();
  const std::string text =
      "{\"traceEvents\":" + doc["traceEvents"].dump() + ",\"pipelab\":" + doc["pipelab"].dump() + "}";
  expect_same_trace(sample_trace(), from_json_text(text));

  json bad = doc;
  bad["traceEvents"][first_event(doc, "X")]["pid"] = 3;
  const std::string bad_text =
      "{\"traceEvents\":" + bad["traceEvents"].dump() + ",\"pipelab\":" + bad["pipelab"].dump() + "}";
  EXPECT_READ_ERROR(bad_text, "'pid' is 3", "outside [0, 2)", "traceEvents[");
}

TEST(TraceJsonRead, SkipsOtherPhasesCountersAndMembers) {
  json doc = sample_json();
  doc["otherData"] = {{"version", "chrome"}, {"nested", {{1, 2}, {3, {4}}}}};
  doc["traceEvents"].push_back({{"ph", "i"}, {"name", "instant"}, {"pid", 99}, {"ts", "whatever"}});
  doc["traceEvents"].push_back({{"ph", "B"}, {"name", "begin"}});
  doc["traceEvents"].push_back({{"ph", "C"}, {"name", "cpu_load"}, {"pid", 0}, {"args", {{"x", 1}}}});
  doc["traceEvents"].push_back({{"ph", "M"}, {"name", "process_labels"}, {"pid", 0}});
  expect_same_trace(sample_trace(), from_json_text(doc.dump(2)));  // pretty-printed too
}

TEST(TraceJsonRead, OldTraceWithOnlyTheScheduleNameLoads) {
  // Traces written before pipelab.schedule_kind and pipelab.remat carry only the display
  // name; the reader derives the two from it.
  json old = sample_json();
  old["pipelab"].erase("schedule_kind");
  old["pipelab"].erase("remat");
  ASSERT_EQ(old["pipelab"]["schedule"], "gpipe+remat");
  const Trace gpipe_remat = from_json_text(old.dump());
  EXPECT_EQ(gpipe_remat.meta.schedule_kind, ScheduleKind::Gpipe);
  EXPECT_TRUE(gpipe_remat.meta.remat);
  expect_same_trace(sample_trace(), gpipe_remat);

  const struct {
    const char* name;
    ScheduleKind kind;
    bool remat;
  } names[] = {
      {"naive", ScheduleKind::Naive, false},       {"naive+remat", ScheduleKind::Naive, true},
      {"gpipe", ScheduleKind::Gpipe, false},       {"1f1b", ScheduleKind::OneFOneB, false},
      {"1f1b+remat", ScheduleKind::OneFOneB, true}, {"custom", ScheduleKind::Custom, false},
      {"custom+remat", ScheduleKind::Custom, true},
      // Hand-named schedules of that time (tests, a student's skeleton) read as custom.
      {"fixture-gpipe", ScheduleKind::Custom, false}, {"", ScheduleKind::Custom, false},
      {"gpipe+remat+remat", ScheduleKind::Custom, false},
  };
  for (const auto& n : names) {
    json doc = old;
    doc["pipelab"]["schedule"] = n.name;
    const Trace t = from_json_text(doc.dump());
    EXPECT_EQ(t.meta.schedule_kind, n.kind) << n.name;
    EXPECT_EQ(t.meta.remat, n.remat) << n.name;
    // Rewritten, it carries the typed fields.
    const json again = json::parse(to_json_text(t));
    EXPECT_EQ(again["pipelab"]["schedule_kind"], to_string(n.kind)) << n.name;
    EXPECT_EQ(again["pipelab"]["remat"], n.remat) << n.name;
  }

  // A whole file as the previous build wrote it (K=2, M=1, naive, sim).
  const std::string text =
      "{\"displayTimeUnit\":\"ms\",\n"
      "\"pipelab\":{\"backend\":\"sim\",\"config\":{},\"device_names\":[\"a\",\"b\"],\"devices\":2,"
      "\"format\":\"pipelab-trace\",\"microbatches\":1,\"peak_memory\":[],\"schedule\":\"naive\","
      "\"theory\":{\"bubble_fraction\":0.5,\"utilization\":0.5},\"version\":1},\n"
      "\"traceEvents\":[\n"
      "{\"args\":{\"bytes\":0,\"kind\":\"Forward\",\"microbatch\":0,\"stage\":0},\"cat\":\"Forward\",\"dur\":1,"
      "\"name\":\"F0 s0\",\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":0},\n"
      "{\"args\":{\"bytes\":0,\"kind\":\"Forward\",\"microbatch\":0,\"stage\":1},\"cat\":\"Forward\",\"dur\":1,"
      "\"name\":\"F0 s1\",\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":1}\n"
      "]}\n";
  const Trace naive = from_json_text(text);
  EXPECT_EQ(naive.meta.schedule_kind, ScheduleKind::Naive);
  EXPECT_FALSE(naive.meta.remat);
  EXPECT_EQ(naive.meta.theory_utilization, 0.5);
  EXPECT_EQ(naive.events.size(), 2u);
}

TEST(TraceJsonRead, SeedTracesOfThePreviousFormatLoad) {
  // fuzz/corpus/trace_reader/ holds traces `pipelab --trace` wrote before schedule_kind.
  const std::string dir = std::string(PIPELAB_SOURCE_DIR) + "/fuzz/corpus/trace_reader/";
  const Trace gpipe = read_chrome_trace_file(dir + "cpu-gpipe-remat-K2-M3-uneven.json");
  EXPECT_EQ(gpipe.meta.schedule_kind, ScheduleKind::Gpipe);
  EXPECT_TRUE(gpipe.meta.remat);
  const Trace one_f_one_b = read_chrome_trace_file(dir + "sim-1f1b-remat-K3-M3.json");
  EXPECT_EQ(one_f_one_b.meta.schedule_kind, ScheduleKind::OneFOneB);
  EXPECT_TRUE(one_f_one_b.meta.remat);
  const Trace naive = read_chrome_trace_file(dir + "cpu-naive-K2.json");
  EXPECT_EQ(naive.meta.schedule_kind, ScheduleKind::Naive);
  EXPECT_FALSE(naive.meta.remat);
}

TEST(TraceJsonRead, TypedFieldsWinAndTheNameIsOptional) {
  json doc = sample_json();
  doc["pipelab"].erase("schedule");
  const Trace t = from_json_text(doc.dump());
  EXPECT_EQ(t.meta.schedule_kind, ScheduleKind::Gpipe);
  EXPECT_TRUE(t.meta.remat);
}

TEST(TraceJsonRead, IntegerTimesAreAccepted) {
  json doc = sample_json();
  json& e = doc["traceEvents"][first_event(doc, "X")];
  e["ts"] = 7;
  e["dur"] = 3;
  const Trace t = from_json_text(doc.dump());
  EXPECT_EQ(t.events[0].start_us, 7.0);
  EXPECT_EQ(t.events[0].dur_us, 3.0);
}

// ------------------------------------------------------------------ reading: bad input

TEST(TraceJsonRead, NotJsonNamesLineAndColumn) {
  EXPECT_READ_ERROR("hello", "not valid JSON", "line 1, column 1");
  EXPECT_READ_ERROR("", "not valid JSON", "line 1, column 1");
  // The 'nul' literal is cut by the newline at line 2, column 17 (byte 19).
  EXPECT_READ_ERROR("{\n  \"pipelab\": nul\n}", "not valid JSON at line 2, column 17 (byte 19)",
                    "invalid literal");
  EXPECT_READ_ERROR(to_json_text(sample_trace()) + "garbage", "not valid JSON", "expected end of input");
  EXPECT_READ_ERROR("{\"pipelab\": 1e999}", "not valid JSON", "overflow");
  EXPECT_READ_ERROR("{\"pipelab\": NaN}", "not valid JSON");
}

TEST(TraceJsonRead, TruncatedFile) {
  const std::string text = to_json_text(sample_trace());
  EXPECT_READ_ERROR(text.substr(0, text.size() / 2), "not valid JSON", "unexpected end of input",
                    "truncated");
  // Every prefix is an error, never a crash or a silently shorter trace.
  for (std::size_t n = 0; n + 1 < text.size(); n += 7) {
    std::istringstream in(text.substr(0, n));
    EXPECT_THROW(read_chrome_trace(in, "prefix"), Error) << "prefix of " << n << " bytes";
  }
}

TEST(TraceJsonRead, NotAPipelabTrace) {
  EXPECT_READ_ERROR("[]", "JSON array", "not supported");
  EXPECT_READ_ERROR("[{\"ph\":\"X\"}]", "JSON array");
  EXPECT_READ_ERROR("42", "not an object");
  EXPECT_READ_ERROR("\"text\"", "not an object");
  EXPECT_READ_ERROR("{\"traceEvents\":[]}", "not a pipelab trace (no 'pipelab' metadata)",
                    "traces from other tools are not supported");
  // Another tool's spans lack pipelab's args: still "not a pipelab trace", not "missing args".
  EXPECT_READ_ERROR(
      "{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"f\",\"ts\":1,\"dur\":2,\"pid\":1,\"tid\":1}]}",
      "not a pipelab trace");
  json doc = sample_json();
  doc.erase("traceEvents");
  EXPECT_READ_ERROR(doc.dump(), "no 'traceEvents' array");
  doc = sample_json();
  doc["pipelab"]["format"] = "something-else";
  EXPECT_READ_ERROR(doc.dump(), "'pipelab.format' is 'something-else'");
  doc = sample_json();
  doc["pipelab"]["version"] = 2;
  EXPECT_READ_ERROR(doc.dump(), "version 2 is not supported");
  doc = sample_json();
  doc["pipelab"] = json::array();
  EXPECT_READ_ERROR(doc.dump(), "pipelab", "must be an object");
  doc = sample_json();
  doc["traceEvents"] = json::object();
  EXPECT_READ_ERROR(doc.dump(), "traceEvents", "must be an array");
  doc["traceEvents"] = 3;
  EXPECT_READ_ERROR(doc.dump(), "traceEvents", "must be an array");
  EXPECT_READ_ERROR("{\"pipelab\":{},\"pipelab\":{}}", "missing 'pipelab.format'");
}

TEST(TraceJsonRead, BadSpanFields) {
  const json good = sample_json();
  const std::size_t x = first_event(good, "X");
  const std::string at = "traceEvents[" + std::to_string(x) + "] (ph 'X')";
  const auto with = [&](const std::function<void(json&)>& edit) {
    json doc = good;
    edit(doc["traceEvents"][x]);
    return doc.dump();
  };
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["kind"] = "Fwd"; }), at.c_str(), "'args.kind' is 'Fwd'",
                    "not an action kind");
  EXPECT_READ_ERROR(with([](json& e) { e["dur"] = -2.5; }), at.c_str(), "'dur' is -2.5", "negative duration");
  EXPECT_READ_ERROR(with([](json& e) { e["pid"] = 7; }), at.c_str(), "'pid' is 7", "outside [0, 2)");
  EXPECT_READ_ERROR(with([](json& e) { e["pid"] = -1; }), at.c_str(), "'pid' is -1");
  EXPECT_READ_ERROR(with([](json& e) { e["pid"] = 1.0; }), at.c_str(), "'pid' must be an integer");
  EXPECT_READ_ERROR(with([](json& e) { e["ts"] = "abc"; }), at.c_str(), "'ts' must be a number, got string");
  EXPECT_READ_ERROR(with([](json& e) { e["ts"] = nullptr; }), "'ts' must be a number, got null");
  EXPECT_READ_ERROR(with([](json& e) { e["dur"] = true; }), "'dur' must be a number, got boolean");
  EXPECT_READ_ERROR(with([](json& e) { e["tid"] = 5; }), "'tid' is 5");
  EXPECT_READ_ERROR(with([](json& e) { e.erase("ts"); }), at.c_str(), "missing 'ts'");
  EXPECT_READ_ERROR(with([](json& e) { e.erase("args"); }), "missing 'args'");
  EXPECT_READ_ERROR(with([](json& e) { e["args"] = "F0"; }), "'args' must be an object");
  EXPECT_READ_ERROR(with([](json& e) { e["args"].erase("microbatch"); }), "missing 'args.microbatch'");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["stage"] = -3; }), "'args.stage' is -3");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["microbatch"] = -2; }), "'args.microbatch' is -2");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["stage"] = 5000000000LL; }), "'args.stage' is 5000000000");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["bytes"] = -1; }), "'args.bytes'", "cannot be negative");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["bytes"] = 1.5; }), "'args.bytes' must be a byte count");
  EXPECT_READ_ERROR(with([](json& e) { e.erase("ph"); }), "missing 'ph'");
  EXPECT_READ_ERROR(with([](json& e) { e["ph"] = 1; }), "'ph' must be a string");
  EXPECT_READ_ERROR(with([](json& e) { e = 5; }), "traceEvents[", "must be an object");
  EXPECT_READ_ERROR(with([](json& e) { e = json::array({1, 2}); }), "traceEvents[", "must be an object");
}

TEST(TraceJsonRead, BadMemoryCounters) {
  const json good = sample_json();
  const std::size_t c = first_event(good, "C");
  const auto with = [&](const std::function<void(json&)>& edit) {
    json doc = good;
    edit(doc["traceEvents"][c]);
    return doc.dump();
  };
  const std::string at = "traceEvents[" + std::to_string(c) + "] (ph 'C')";
  EXPECT_READ_ERROR(with([](json& e) { e["args"].erase("stash"); }), at.c_str(), "missing 'args.stash'");
  EXPECT_READ_ERROR(with([](json& e) { e["args"]["params"] = -5; }), "'args.params'", "cannot be negative");
  EXPECT_READ_ERROR(with([](json& e) { e["pid"] = 2; }), at.c_str(), "'pid' is 2");
  EXPECT_READ_ERROR(with([](json& e) { e["ts"] = "soon"; }), "'ts' must be a number");
}

TEST(TraceJsonRead, BadMetadata) {
  const auto with = [](const std::function<void(json&)>& edit) {
    json doc = sample_json();
    edit(doc["pipelab"]);
    return doc.dump();
  };
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = 100000; }), "'pipelab.devices' is 100000",
                    "outside [1, 4096]");
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = 0; }), "'pipelab.devices' is 0");
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = -4; }), "'pipelab.devices' is -4");
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = std::numeric_limits<std::uint64_t>::max(); }),
                    "'pipelab.devices' is 18446744073709551615");
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = 1e30; }), "'pipelab.devices' must be an integer");
  EXPECT_READ_ERROR(with([](json& p) { p["devices"] = "2"; }),
                    "'pipelab.devices' must be an integer, got string");
  EXPECT_READ_ERROR(with([](json& p) { p.erase("devices"); }), "missing 'pipelab.devices'");
  EXPECT_READ_ERROR(with([](json& p) { p["schedule"] = 3; }), "'pipelab.schedule' must be a string");
  EXPECT_READ_ERROR(with([](json& p) { p["device_names"] = json::array({"a"}); }),
                    "'pipelab.device_names' has 1 names for 2");
  EXPECT_READ_ERROR(with([](json& p) {
                      p["device_names"] = json::array({"a", 2});
                    }),
                    "'pipelab.device_names[1]'");
  EXPECT_READ_ERROR(with([](json& p) { p["config"] = "x=1"; }), "'pipelab.config' must be an object");
  EXPECT_READ_ERROR(with([](json& p) { p["theory"]["utilization"] = "high"; }),
                    "'pipelab.theory.utilization'");
  EXPECT_READ_ERROR(with([](json& p) {
                      p["peak_memory"][1] = json::array({1, 2, 3});
                    }),
                    "'pipelab.peak_memory[1]' must hold 4");
  EXPECT_READ_ERROR(with([](json& p) { p["peak_memory"][0][2] = -1; }), "'pipelab.peak_memory[0][2]'");
  EXPECT_READ_ERROR(with([](json& p) {
                      p["peak_memory"] = json::array({json::array({1, 2, 3, 4})});
                    }),
                    "'pipelab.peak_memory' has 1 rows");
}

TEST(TraceJsonRead, BadScheduleIdentity) {
  const auto with = [](const std::function<void(json&)>& edit) {
    json doc = sample_json();
    edit(doc["pipelab"]);
    return doc.dump();
  };
  EXPECT_READ_ERROR(with([](json& p) { p["schedule_kind"] = "pipedream"; }),
                    "'pipelab.schedule_kind' is 'pipedream', not a schedule kind");
  EXPECT_READ_ERROR(with([](json& p) { p["schedule_kind"] = "gpipe+remat"; }), "not a schedule kind");
  EXPECT_READ_ERROR(with([](json& p) { p["schedule_kind"] = 1; }), "'pipelab.schedule_kind' must be a string");
  EXPECT_READ_ERROR(with([](json& p) { p["remat"] = "yes"; }), "'pipelab.remat' must be true or false");
  EXPECT_READ_ERROR(with([](json& p) { p["remat"] = 1; }), "'pipelab.remat' must be true or false");
  EXPECT_READ_ERROR(with([](json& p) { p.erase("remat"); }), "missing 'pipelab.remat'");
  EXPECT_READ_ERROR(with([](json& p) { p.erase("schedule_kind"); }), "missing 'pipelab.schedule_kind'");
  EXPECT_READ_ERROR(with([](json& p) { p["schedule"] = "gpipe"; }),
                    "'pipelab.schedule' is 'gpipe', but 'pipelab.schedule_kind', 'pipelab.remat' and "
                    "'pipelab.w_batch' make it 'gpipe+remat'");
  EXPECT_READ_ERROR(with([](json& p) { p["w_batch"] = "yes"; }), "'pipelab.w_batch' must be true or false");
  EXPECT_READ_ERROR(with([](json& p) { p["w_batch"] = true; }),
                    "'pipelab.schedule' is 'gpipe+remat', but", "make it 'gpipe+remat+w-batch'");
  EXPECT_READ_ERROR(with([](json& p) {
                      p.erase("schedule");
                      p.erase("schedule_kind");
                      p.erase("remat");
                    }),
                    "missing 'pipelab.schedule_kind'", "'pipelab.schedule'");
}

TEST(TraceJsonRead, DeepNestingIsRefused) {
  const std::string deep = "{\"otherData\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_READ_ERROR(deep, "nested deeper than");
}

TEST(TraceJsonRead, DuplicateTopLevelKey) {
  json doc = sample_json();
  const std::string text = doc.dump();
  const std::string twice = text.substr(0, text.size() - 1) + ",\"pipelab\":" + doc["pipelab"].dump() + "}";
  EXPECT_READ_ERROR(twice, "duplicate key 'pipelab'");
}

TEST(TraceJsonRead, TooManyEventsIsRefused) {
  // kMaxTraceEvents + 1 tiny elements ("0,"): refused as soon as the limit is passed.
  std::string text = "{\"traceEvents\":[";
  text.reserve(2 * kMaxTraceEvents + 64);
  for (std::size_t i = 0; i <= kMaxTraceEvents; ++i) text += "0,";
  text += "0]}";
  EXPECT_READ_ERROR(text, "more than 20000000 events");
}

TEST(TraceJsonRead, RandomCorruptionNeverCrashes) {
  // Byte flips, insertions and deletions at random places: each read either succeeds
  // or throws pipelab::Error (read_chrome_trace throws nothing else).
  const std::string text = to_json_text(sample_trace());
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> where(0, text.size() - 1);
  const std::string alphabet = "{}[],:\"0123456789-.eE ntfalsruXCMph\\\n\x01\xff";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  int errors = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupt = text;
    for (int edits = 1 + trial % 3; edits > 0; --edits) {
      const std::size_t at = where(rng) % corrupt.size();
      switch (rng() % 3) {
        case 0: corrupt[at] = alphabet[pick(rng)]; break;
        case 1: corrupt.insert(at, 1, alphabet[pick(rng)]); break;
        default: corrupt.erase(at, 1); break;
      }
    }
    std::istringstream in(corrupt);
    try {
      read_chrome_trace(in, "fuzz");
    } catch (const Error&) {
      ++errors;
    } catch (const std::exception& e) {
      FAIL() << "trial " << trial << ": non-pipelab exception " << e.what();
    }
  }
  EXPECT_GT(errors, 1000);  // most corruptions are caught
}

TEST(TraceJsonRead, MissingFileNamesThePath) {
  const std::string path = "/nonexistent-pipelab-dir/trace.json";
  try {
    read_chrome_trace_file(path);
    FAIL() << "expected pipelab::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
  try {
    read_chrome_trace_file(testing::TempDir());
    FAIL() << "expected pipelab::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pipelab
