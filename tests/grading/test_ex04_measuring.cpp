// test_ex04_measuring.cpp — graded: ex04 busy_time and measure_utilization (lab 01).
// Oracles: hand-built traces with answers worked out on paper, a brute-force union
// of intervals over elementary segments, and a unit-time simulation.
#include <cmath>
#include <random>
#include <sstream>

#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

TEST(BusyTime, Literals) {
  const struct {
    std::vector<Interval> spans;
    double expected;
    const char* what;
  } cases[] = {{{}, 0.0, "no spans"},
               {{{1, 4}}, 3.0, "one span"},
               {{{0, 1}, {2, 3}}, 2.0, "disjoint"},
               {{{0, 10}, {2, 3}}, 10.0, "nested"},
               {{{0, 2}, {1, 3}}, 3.0, "overlapping"},
               {{{0, 1}, {1, 2}}, 2.0, "touching"},
               {{{5, 6}, {0, 1}, {0.5, 5.5}}, 6.0, "unsorted chain"},
               {{{0, 2}, {0, 2}}, 2.0, "duplicates"}};
  for (const auto& c : cases) {
    const double got = busy_time(c.spans);
    GRADE_EXPECT(got == c.expected, "busy_time (" << c.what << ") = " << got << ", expected " << c.expected);
  }
}

TEST(BusyTime, EmptyAndNegativeSpansCoverNothing) {
  GRADE_EXPECT(busy_time({{3, 3}}) == 0.0, "busy_time({[3,3)}) = " << busy_time({{3, 3}}) << ", expected 0");
  GRADE_EXPECT(busy_time({{5, 2}}) == 0.0, "busy_time({[5,2)}) = " << busy_time({{5, 2}}) << ", expected 0");
  GRADE_EXPECT(busy_time({{0, 1}, {5, 2}, {4, 4}}) == 1.0,
               "busy_time({[0,1), [5,2), [4,4)}) = " << busy_time({{0, 1}, {5, 2}, {4, 4}}) << ", expected 1");
  GRADE_EXPECT(busy_time({{10, 0}, {2, 3}}) == 1.0,
               "busy_time({[10,0), [2,3)}) = " << busy_time({{10, 0}, {2, 3}}) << ", expected 1 "
                                               << "(a reversed span must not swallow [2,3))");
}

TEST(BusyTime, RandomSpansAgainstBruteForce) {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 30);
    std::vector<Interval> spans;
    for (int i = 0; i < n; ++i) {
      // Integer endpoints make exact answers; one in four trials uses quarters.
      const double scale = trial % 4 == 0 ? 0.25 : 1.0;
      const double a = static_cast<double>(rng() % 100) * scale;
      const double len = static_cast<double>(static_cast<int>(rng() % 25) - 3) * scale;  // some <= 0
      spans.push_back({a, a + len});
    }
    const double expected = union_length_brute_force(spans);
    const double got = busy_time(spans);
    if (got != expected) {
      std::ostringstream list;
      for (const Interval& s : spans) list << " [" << s.start << "," << s.end << ")";
      FAIL() << "busy_time of " << n << " random spans = " << got << ", expected " << expected << "\n  spans:"
             << list.str();
    }
  }
}

// A hand-built trace event.
TraceEvent event(int device, Lane lane, Action action, double start, double dur) {
  TraceEvent e;
  e.device = device;
  e.lane = lane;
  e.action = action;
  e.start_us = start;
  e.dur_us = dur;
  return e;
}

Trace trace_of(int devices, std::vector<TraceEvent> events) {
  Trace t;
  t.meta.devices = devices;
  t.events = std::move(events);
  return t;
}

// Why busy_us[device] is wrong, naming the function at fault: measure_utilization's
// busy_us is busy_time of the device's compute spans (exercise.h), so when the
// student's busy_time already gets those spans wrong, the fix is there.
std::string busy_hint(const Trace& trace, int device) {
  std::vector<Interval> compute;
  for (const TraceEvent& e : trace.events)
    if (e.device == device && is_compute(e.action.kind)) compute.push_back({e.start_us, e.end_us()});
  const double expected = union_length_brute_force(compute);
  double got = 0;
  try {
    got = busy_time(compute);
  } catch (const std::exception&) {
    return " (busy = F, B, Recompute only)";  // busy_time is not written: it is not what measured this
  }
  if (got == expected) return " (busy = F, B, Recompute only)";
  std::ostringstream out;
  out << ": your busy_time gives " << got << " for device " << device << "'s compute spans, expected " << expected;
  return calls_yours(out.str(), "busy_time", "BusyTime.*");
}

void expect_utilization(const Trace& trace, const TraceUtilization& got, double makespan,
                        const std::vector<double>& busy, const char* what) {
  GRADE_EXPECT(got.makespan_us == makespan, what << ": makespan_us = " << got.makespan_us << ", expected " << makespan);
  GRADE_ASSERT(got.busy_us.size() == busy.size() && got.utilization.size() == busy.size(),
               what << ": busy_us has " << got.busy_us.size() << " and utilization " << got.utilization.size()
                    << " entries, expected one per device: " << busy.size());
  double mean = 0;
  for (std::size_t d = 0; d < busy.size(); ++d) {
    GRADE_EXPECT(got.busy_us[d] == busy[d], what << ": busy_us[" << d << "] = " << got.busy_us[d] << ", expected "
                                                 << busy[d] << busy_hint(trace, static_cast<int>(d)));
    const double u = makespan > 0 ? busy[d] / makespan : 0.0;
    GRADE_EXPECT(std::fabs(got.utilization[d] - u) <= 1e-12,
                 what << ": utilization[" << d << "] = " << got.utilization[d] << ", expected " << u);
    mean += u / static_cast<double>(busy.size());
  }
  GRADE_EXPECT(std::fabs(got.mean_utilization - mean) <= 1e-12,
               what << ": mean_utilization = " << got.mean_utilization << ", expected " << mean);
  const double bubble = makespan > 0 && !busy.empty() ? 1.0 - mean : 0.0;
  GRADE_EXPECT(std::fabs(got.bubble_fraction - bubble) <= 1e-12,
               what << ": bubble_fraction = " << got.bubble_fraction << ", expected " << bubble);
}

TEST(TraceUtilization, NaiveTwoDevices) {
  // Device 0: F [0,1), B [5,7); device 1: F [1,2), B [2,5). Step [0,7): busy 3 and 4.
  const Trace t = trace_of(2, {event(0, Lane::Compute, F(0, 0), 0, 1), event(1, Lane::Compute, F(1, 0), 1, 1),
                               event(1, Lane::Compute, B(1, 0), 2, 3), event(0, Lane::Compute, B(0, 0), 5, 2)});
  expect_utilization(t, measure_utilization(t), 7.0, {3.0, 4.0}, "naive K=2 trace");
}

TEST(TraceUtilization, CommunicationAndOptimizerAreNotBusy) {
  // Compute: device 0 F [0,2); device 1 F [3,5). Send [2,3) / recv [2,3) and the
  // optimizer steps [5,6) and [5,8) are not busy, but they do extend the step to 8.
  const Trace t = trace_of(
      2, {event(0, Lane::Compute, F(0, 0), 0, 2), event(0, Lane::Send, SA(0, 0), 2, 1),
          event(1, Lane::Recv, RA(1, 0), 2, 1), event(1, Lane::Compute, F(1, 0), 3, 2),
          event(0, Lane::Compute, Opt(0), 5, 1), event(1, Lane::Compute, Opt(1), 5, 3)});
  expect_utilization(t, measure_utilization(t), 8.0, {2.0, 2.0}, "trace with send, recv and optimizer steps");
}

TEST(TraceUtilization, OverlappingComputeCountsOnce) {
  // Device 0: F [0,4) and R [2,6) overlap: busy 6, not 8. Step [0,8) (B on device 1).
  const Trace t = trace_of(2, {event(0, Lane::Compute, F(0, 0), 0, 4), event(0, Lane::Compute, R(0, 0), 2, 4),
                               event(1, Lane::Compute, B(1, 0), 6, 2)});
  expect_utilization(t, measure_utilization(t), 8.0, {6.0, 2.0}, "overlapping F and R");
}

TEST(TraceUtilization, IdleDeviceAndLateOrigin) {
  // The step starts at 100 µs (not 0) and device 2 never runs: it counts, as idle.
  const Trace t = trace_of(3, {event(0, Lane::Compute, F(0, 0), 100, 10), event(1, Lane::Compute, F(1, 0), 110, 10)});
  expect_utilization(t, measure_utilization(t), 20.0, {10.0, 10.0, 0.0}, "step from 100 to 120 us, device 2 idle");
}

TEST(TraceUtilization, EmptyTrace) {
  const Trace empty = trace_of(3, {});
  expect_utilization(empty, measure_utilization(empty), 0.0, {0.0, 0.0, 0.0}, "trace without events");
}

TEST(TraceUtilization, FillDrainTraceMatchesTheory) {
  // A K=3, M=4 fill-drain trace with F = 1 µs and B = 2 µs, laid out by the unit-time
  // model: utilization is exactly M / (M + K - 1) = 4/6 on every device.
  const TimedRun run = unit_time_run(fixture_fill_drain(3, 4), 1.0, 2.0);
  ASSERT_TRUE(run.error.empty()) << run.error;
  std::vector<TraceEvent> events;
  const Schedule s = fixture_fill_drain(3, 4);
  for (int d = 0; d < 3; ++d) {
    std::size_t span = 0;
    for (const Action& a : s.per_stage[d])
      if (is_compute(a.kind)) {
        const Interval& i = run.compute_spans[d][span++];
        events.push_back(event(d, Lane::Compute, a, i.start, i.end - i.start));
      }
  }
  const Trace fill_drain = trace_of(3, events);
  const TraceUtilization got = measure_utilization(fill_drain);
  expect_utilization(fill_drain, got, 18.0, {12.0, 12.0, 12.0}, "fill-drain K=3 M=4");
  GRADE_EXPECT(std::fabs(got.mean_utilization - 4.0 / 6.0) <= 1e-12,
               "fill-drain K=3 M=4: mean utilization " << got.mean_utilization << ", theory M/(M+K-1) = 0.6667");
}

TEST(TraceUtilization, RejectsEventOnUnknownDevice) {
  const Trace t = trace_of(2, {event(2, Lane::Compute, F(2, 0), 0, 1)});
  const std::string why = throws_error([&] { measure_utilization(t); });
  GRADE_EXPECT(why.empty(), "an event on device 2 of a 2-device trace must throw a pipelab::Error: " << why);
}

}  // namespace
}  // namespace pipelab::grading
