// in_flight.cpp — peak in-flight micro-batches per device (in_flight.h, docs/metrics.md).
#include "pipelab/report/in_flight.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

namespace pipelab {
namespace {

// One micro-batch on one device: when its first Forward started (+inf until one is
// seen), when its last backward action ended (-inf until one is seen).
struct Lifetime {
  double first_forward_us = std::numeric_limits<double>::infinity();
  double last_backward_end_us = -std::numeric_limits<double>::infinity();
};

// Backward, or one of its two halves (I, W): the micro-batch is done when the last ends.
bool is_backward(ActionKind kind) {
  return kind == ActionKind::Backward || kind == ActionKind::BackwardInput || kind == ActionKind::BackwardWeight;
}

}  // namespace

std::vector<int> peak_in_flight_microbatches(const Trace& trace) {
  int devices = std::max(trace.meta.devices, 0);
  double step_end_us = 0;
  for (const TraceEvent& e : trace.events) {
    devices = std::max(devices, e.device + 1);
    step_end_us = std::max(step_end_us, e.end_us());
  }
  // (device, chunk, micro-batch) → its lifetime on that device: with model chunks each
  // (chunk, micro-batch) pair counts, as each holds one chunk's activations.
  std::map<std::tuple<int, int, int>, Lifetime> lifetimes;
  // (device, chunk) → the end of its whole-batch W (--w-batch), which ends every
  // micro-batch's lifetime there.
  std::map<std::pair<int, int>, double> batched_weight_end;
  for (const TraceEvent& e : trace.events) {
    if (e.device >= 0 && e.lane == Lane::Compute && is_batched_weight(e.action))
      batched_weight_end[{e.device, e.action.chunk}] = e.end_us();
    if (e.device < 0 || e.action.microbatch < 0 || e.lane != Lane::Compute) continue;
    const bool forward = e.action.kind == ActionKind::Forward;
    if (!forward && !is_backward(e.action.kind)) continue;  // R, sends, receives: inside the lifetime
    Lifetime& life = lifetimes[{e.device, e.action.microbatch, e.action.chunk}];
    if (forward) life.first_forward_us = std::min(life.first_forward_us, e.start_us);
    else life.last_backward_end_us = std::max(life.last_backward_end_us, e.end_us());
  }
  // Per device, a sweep over the interval ends: +1 at a first forward, -1 at a last
  // backward's end. At equal times the -1 goes first (half-open intervals), which the
  // pair order (time, delta) gives since -1 < +1.
  std::vector<std::vector<std::pair<double, int>>> edges(static_cast<std::size_t>(devices));
  for (auto& [key, life] : lifetimes) {
    const auto batched = batched_weight_end.find({std::get<0>(key), std::get<2>(key)});
    if (batched != batched_weight_end.end())
      life.last_backward_end_us = std::max(life.last_backward_end_us, batched->second);
    if (life.first_forward_us == std::numeric_limits<double>::infinity()) continue;  // a backward without F
    // No backward seen: in flight to the end of the step (it still holds its stash).
    const bool backward_seen = life.last_backward_end_us != -std::numeric_limits<double>::infinity();
    const double end = backward_seen ? life.last_backward_end_us : step_end_us;
    auto& device_edges = edges[static_cast<std::size_t>(std::get<0>(key))];
    device_edges.emplace_back(life.first_forward_us, +1);
    device_edges.emplace_back(std::max(end, life.first_forward_us), -1);
  }
  std::vector<int> peaks(static_cast<std::size_t>(devices), 0);
  for (std::size_t d = 0; d < edges.size(); ++d) {
    std::sort(edges[d].begin(), edges[d].end());
    int now = 0;
    for (const auto& edge : edges[d]) peaks[d] = std::max(peaks[d], now += edge.second);
  }
  return peaks;
}

int max_peak_in_flight_microbatches(const Trace& trace) {
  const std::vector<int> peaks = peak_in_flight_microbatches(trace);
  return peaks.empty() ? 0 : *std::max_element(peaks.begin(), peaks.end());
}

}  // namespace pipelab
