// test_in_flight.cpp — peak_in_flight_microbatches() (report/in_flight.h) on traces built
// by hand, each answer worked out in the comments (docs/metrics.md, "Peak in-flight
// micro-batches").
//
//   ./build/tests/pipelab_unit_tests --gtest_filter='InFlight*'
#include <gtest/gtest.h>

#include <vector>

#include "pipelab/report/in_flight.h"

namespace pipelab {
namespace {

TraceEvent compute(int device, ActionKind kind, int microbatch, double start_us, double dur_us) {
  TraceEvent e;
  e.device = device;
  e.lane = Lane::Compute;
  e.action = {kind, device, microbatch};
  e.start_us = start_us;
  e.dur_us = dur_us;
  return e;
}

Trace trace_of(int devices, std::vector<TraceEvent> events) {
  Trace t;
  t.meta.devices = devices;
  t.events = std::move(events);
  return t;
}

constexpr ActionKind F = ActionKind::Forward;
constexpr ActionKind B = ActionKind::Backward;

// GPipe, K = 2, M = 3, F = 1 and B = 2 time units, free links:
//   device 0: F0 [0,1) F1 [1,2) F2 [2,3)                 B2 [6,8) B1 [8,10) B0 [10,12)
//   device 1:         F0 [1,2) F1 [2,3) F2 [3,4) B2 [4,6) B1 [6,8) B0 [8,10)
// Every forward comes before every backward: all 3 are in flight on both devices.
TEST(InFlight, GpipeTwoDevicesThreeMicrobatchesPeaksAtM) {
  const Trace t = trace_of(2, {compute(0, F, 0, 0, 1), compute(0, F, 1, 1, 1), compute(0, F, 2, 2, 1),
                               compute(1, F, 0, 1, 1), compute(1, F, 1, 2, 1), compute(1, F, 2, 3, 1),
                               compute(1, B, 2, 4, 2), compute(1, B, 1, 6, 2), compute(1, B, 0, 8, 2),
                               compute(0, B, 2, 6, 2), compute(0, B, 1, 8, 2), compute(0, B, 0, 10, 2)});
  EXPECT_EQ(peak_in_flight_microbatches(t), (std::vector<int>{3, 3}));
  EXPECT_EQ(max_peak_in_flight_microbatches(t), 3);
}

// 1F1B, K = 2, M = 4: device 0 runs K - 1 = 1 warm-up forward, then one F, one B:
//   device 0: F0 [0,1) F1 [1,2)  B0 [4,6) F2 [6,7) B1 [8,10) F3 [10,11) B2 [12,14) B3 [16,18)
//   device 1: F0 [2,3) B0 [3,5)  F1 [5,6) B1 [6,8) F2 [8,9)  B2 [9,11)  F3 [11,12) B3 [12,14)
// Device 0 holds {0,1} in [1,4); B0 ends at 6 exactly when F2 starts (half-open
// intervals: never three). Device 1 holds one at a time: min(K - d, M) = 2 and 1.
TEST(InFlight, OneFOneBTwoDevicesFourMicrobatchesPeaksAtKMinusDevice) {
  const Trace t = trace_of(2, {compute(0, F, 0, 0, 1),  compute(0, F, 1, 1, 1),  compute(0, B, 0, 4, 2),
                               compute(0, F, 2, 6, 1),  compute(0, B, 1, 8, 2),  compute(0, F, 3, 10, 1),
                               compute(0, B, 2, 12, 2), compute(0, B, 3, 16, 2), compute(1, F, 0, 2, 1),
                               compute(1, B, 0, 3, 2),  compute(1, F, 1, 5, 1),  compute(1, B, 1, 6, 2),
                               compute(1, F, 2, 8, 1),  compute(1, B, 2, 9, 2),  compute(1, F, 3, 11, 1),
                               compute(1, B, 3, 12, 2)});
  EXPECT_EQ(peak_in_flight_microbatches(t), (std::vector<int>{2, 1}));
}

// A split backward: micro-batch 0 is in flight until its W ends, not its I.
//   device 0: F0 [0,1) I0 [1,2) F1 [2,3) W0 [3,4) I1 [4,5) W1 [5,6)
// 0 in [0,4), 1 in [2,6): both in [2,4) → 2 (counting to I alone would give 1).
TEST(InFlight, SplitBackwardEndsAtTheLastWeightGradient) {
  const Trace t = trace_of(1, {compute(0, F, 0, 0, 1), compute(0, ActionKind::BackwardInput, 0, 1, 1),
                               compute(0, F, 1, 2, 1), compute(0, ActionKind::BackwardWeight, 0, 3, 1),
                               compute(0, ActionKind::BackwardInput, 1, 4, 1),
                               compute(0, ActionKind::BackwardWeight, 1, 5, 1)});
  EXPECT_EQ(peak_in_flight_microbatches(t), (std::vector<int>{2}));
}

// Recompute, transfers and the optimizer step neither start nor end a lifetime:
//   F0 [0,1) R0 [3,4) B0 [4,6) F1 [6,7) B1 [7,9), Opt [9,10), sends on their lane → 1.
TEST(InFlight, OnlyForwardAndBackwardBoundALifetime) {
  std::vector<TraceEvent> events = {compute(0, F, 0, 0, 1), compute(0, ActionKind::Recompute, 0, 3, 1),
                                    compute(0, B, 0, 4, 2), compute(0, F, 1, 6, 1), compute(0, B, 1, 7, 2),
                                    compute(0, ActionKind::OptimizerStep, -1, 9, 1)};
  TraceEvent send = compute(0, ActionKind::SendActivation, 1, 20, 1);
  send.lane = Lane::Send;
  events.push_back(send);
  EXPECT_EQ(peak_in_flight_microbatches(trace_of(1, events)), (std::vector<int>{1}));
}

// A forward without a backward stays in flight to the end of the step (it keeps its
// stash): F0 [0,1) F1 [1,2) B1 [2,4) F2 [4,5) B2 [5,7): 0 is held all along → 2.
TEST(InFlight, MicrobatchWithoutBackwardStaysToTheEnd) {
  const Trace t = trace_of(1, {compute(0, F, 0, 0, 1), compute(0, F, 1, 1, 1), compute(0, B, 1, 2, 2),
                               compute(0, F, 2, 4, 1), compute(0, B, 2, 5, 2)});
  EXPECT_EQ(peak_in_flight_microbatches(t), (std::vector<int>{2}));
}

// No events: one zero per device of the metadata; devices beyond it still counted.
TEST(InFlight, EmptyTraceAndUndeclaredDevices) {
  EXPECT_EQ(peak_in_flight_microbatches(trace_of(3, {})), (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(max_peak_in_flight_microbatches(trace_of(0, {})), 0);
  EXPECT_EQ(peak_in_flight_microbatches(trace_of(0, {compute(1, F, 0, 0, 1), compute(1, B, 0, 1, 2)})),
            (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace pipelab
