// spmd_clock.h — every rank's clock against rank 0's, by ping-pong (internal to
// core/src/runtime/spmd/).
//
// Rank 0 sends a ping at t0 (its clock), rank r answers with its clock's reading t_r, the
// answer arrives at t1. If the two halves of the round trip took as long as each other,
// t_r was read at (t0 + t1) / 2 on rank 0's clock, so
//     offset_r = t_r − (t0 + t1) / 2,
// wrong by at most half the round trip (t1 − t0) / 2 however the halves split. Of
// kClockPings round trips the shortest gives the tightest bound (the NTP / Cristian rule).
#pragma once

#include <vector>

namespace pipelab::spmd {

/// Round trips per rank and estimate: enough for one to find both ranks on a core.
constexpr int kClockPings = 16;
/// How long a rank polls without sleeping for the next ping or its answer (µs): a sleep
/// would add the kernel's wake-up delay, often on one side only, to the round trip.
constexpr double kClockSpinUs = 2000;

/// One rank's clock against rank 0's.
struct ClockEstimate {
  double offset_us = 0;      ///< its steady clock minus rank 0's (0 for rank 0)
  double round_trip_us = 0;  ///< the shortest round trip, t1 − t0 (0 for rank 0)
  double at_us = 0;          ///< when, on rank 0's clock: (t0 + t1) / 2 of that round trip
};

/// The most two ranks' clocks may drift apart, as a rate: 100 ppm, a quartz oscillator's
/// tolerance with no NTP at all (NTP-disciplined clocks stay far inside it). Between two
/// estimates Δt apart an offset moves by at most kMaxClockDrift · Δt.
constexpr double kMaxClockDrift = 1e-4;

/// The host's steady clock in µs (the clock every cpu span is measured on).
double steady_now_us();

/// Collective: every rank's estimate, in rank order, on every rank. Each wait is bounded
/// by `seconds` (pipelab::Error naming the rank that does not answer).
std::vector<ClockEstimate> estimate_clocks(double seconds);

}  // namespace pipelab::spmd
