// test_trace_fast_path.cpp — the trace reader's fast path (trace_sax.h: events read from
// their SAX tokens) reads what the json path reads. pipelab-viz loads 1.8 M-event traces
// through it; tests/unit/test_trace_json.cpp holds the reader's own contract (every
// field's rule and message), which both paths must meet.
//
// Well-formed events take the fast path; unusual but valid ones (extra members, nested
// extras, integer times, duplicate keys) and broken ones fall back to the json path. Each
// case here reads a variant of one trace's text and must give the same Trace.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "pipelab/error.h"
#include "pipelab/trace/trace_reader.h"
#include "pipelab/trace/trace_writer.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

using testing::span;

/// A small trace with every kind of field: compute spans with CPU time, transfers, memory.
Trace sample_trace() {
  Trace t;
  t.meta.schedule_kind = ScheduleKind::Gpipe;
  t.meta.backend = "cpu";
  t.meta.devices = 2;
  t.meta.microbatches = 2;
  t.events = {span(0, ActionKind::Forward, 0, 0, 10), span(0, ActionKind::SendActivation, 0, 10, 2, Lane::Send),
              span(1, ActionKind::RecvActivation, 0, 10, 2, Lane::Recv), span(1, ActionKind::Forward, 0, 12, 10),
              span(1, ActionKind::Backward, 0, 22, 20), span(0, ActionKind::OptimizerStep, -1, 60, 1)};
  t.events[0].cpu_us = 9.5f;
  t.events[3].cpu_us = 8.25f;
  t.events[1].bytes = 4096;
  t.events[2].bytes = 4096;
  t.events[5].action.microbatch = -1;
  for (int d = 0; d < 2; ++d) {
    MemorySample s;
    s.device = d;
    s.time_us = 5.0 * d;
    s.current = {100, 200, 300 + static_cast<std::uint64_t>(d), 0};
    t.memory.push_back(s);
  }
  t.sort();
  return t;
}

std::string text_of(const Trace& t) {
  std::ostringstream out;
  write_chrome_trace(t, out);
  return out.str();
}

Trace read_text(const std::string& text) {
  std::istringstream in(text);
  return read_chrome_trace(in, "variant.json");
}

void expect_same(const Trace& a, const Trace& b, const std::string& what) {
  ASSERT_EQ(a.events.size(), b.events.size()) << what;
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TraceEvent &x = a.events[i], &y = b.events[i];
    EXPECT_EQ(x.device, y.device) << what << " event " << i;
    EXPECT_EQ(x.lane, y.lane) << what << " event " << i;
    EXPECT_EQ(x.action, y.action) << what << " event " << i;
    EXPECT_EQ(x.start_us, y.start_us) << what << " event " << i;
    EXPECT_EQ(x.dur_us, y.dur_us) << what << " event " << i;
    EXPECT_EQ(x.bytes, y.bytes) << what << " event " << i;
    EXPECT_EQ(x.cpu_us, y.cpu_us) << what << " event " << i;
  }
  ASSERT_EQ(a.memory.size(), b.memory.size()) << what;
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    EXPECT_EQ(a.memory[i].device, b.memory[i].device) << what;
    EXPECT_EQ(a.memory[i].time_us, b.memory[i].time_us) << what;
    EXPECT_EQ(a.memory[i].current, b.memory[i].current) << what;
  }
}

/// The text with the first `from` replaced by `to` (the case fails if `from` is absent).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(TraceFastPath, RoundTripsEveryField) {
  const Trace t = sample_trace();
  const Trace back = read_text(text_of(t));
  expect_same(t, back, "round trip");
  EXPECT_EQ(back.events.front().cpu_us, 9.5f);
}

TEST(TraceFastPath, UnusualButValidEventsReadAsTheCanonicalOnes) {
  const Trace t = sample_trace();
  const std::string text = text_of(t);
  nlohmann::json doc = nlohmann::json::parse(text);
  // Members another tool may add, nested or not; integer times; args in any order.
  nlohmann::json extra = doc;
  for (auto& e : extra["traceEvents"]) {
    e["cat"] = {{"nested", {1, 2, 3}}};
    e["zz"] = true;
    if (e.contains("args") && e["args"].is_object()) e["args"]["note"] = "hi";
    if (e.contains("ts") && e["ts"].is_number() && e["ts"].get<double>() == 10.0) e["ts"] = 10;
  }
  expect_same(t, read_text(extra.dump()), "extra members");
  expect_same(t, read_text(doc.dump(2)), "indented");
  // A duplicate key: json keeps the last one, on either path.
  const std::string dup = replaced(text, "\"pid\":0", "\"pid\":1,\"pid\":0");
  expect_same(t, read_text(dup), "duplicate pid");
}

TEST(TraceFastPath, BrokenEventsFailWithTheFieldsMessage) {
  const std::string text = text_of(sample_trace());
  const std::pair<std::string, std::string> cases[] = {
      {"\"cpu_us\":9.5", "\"cpu_us\":1e300"},  // finite as a double, not as a float
      {"\"cpu_us\":9.5", "\"cpu_us\":-1.0"},
      {"\"kind\":\"Forward\"", "\"kind\":\"Fwd\""},
      {"\"bytes\":4096", "\"bytes\":-4096"},
      {"\"stash\":300", "\"stash\":\"300\""},
  };
  for (const auto& [from, to] : cases) {
    try {
      read_text(replaced(text, from, to));
      ADD_FAILURE() << to << " was read";
    } catch (const Error& e) {
      const std::string field = to.substr(1, to.find('"', 1) - 1);
      EXPECT_NE(e.message().find("traceEvents["), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(field), std::string::npos) << to << ": " << e.message();
    }
  }
}

}  // namespace
}  // namespace pipelab::viz
