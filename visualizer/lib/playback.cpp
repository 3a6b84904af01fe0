// playback.cpp — playhead state machine.
#include "pipelab_viz/playback.h"

#include <algorithm>
#include <cmath>

namespace pipelab::viz {

void Playback::advance(double wall_seconds) {
  speed = std::clamp(speed, kMinSpeed, kMaxSpeed);
  if (!playing || end_us <= 0) return;
  time_us += wall_seconds * speed * end_us / kSecondsPerStepAt1x;
  if (time_us >= end_us) {
    if (loop) {
      time_us = std::fmod(time_us, end_us);
    } else {
      time_us = end_us;
      playing = false;
    }
  }
}

void Playback::toggle() {
  if (playing) {
    playing = false;
    return;
  }
  if (at_end()) time_us = 0;
  playing = true;
}

void Playback::home() { time_us = 0; }

void Playback::seek(double t_us) { time_us = std::clamp(t_us, 0.0, std::max(end_us, 0.0)); }

void Playback::step_forward(const std::vector<double>& boundaries) {
  playing = false;
  // Boundaries closer than a millionth of the step count as "here".
  const double eps = end_us * 1e-6;
  const auto next = std::upper_bound(boundaries.begin(), boundaries.end(), time_us + eps);
  seek(next == boundaries.end() ? end_us : *next);
}

void Playback::step_back(const std::vector<double>& boundaries) {
  playing = false;
  const double eps = end_us * 1e-6;
  auto it = std::lower_bound(boundaries.begin(), boundaries.end(), time_us - eps);
  seek(it == boundaries.begin() ? 0.0 : *std::prev(it));
}

void Playback::set_end(double new_end_us) {
  const bool was_at_end = end_us > 0 && at_end();
  end_us = std::max(new_end_us, 0.0);
  time_us = was_at_end ? end_us : std::clamp(time_us, 0.0, end_us);
}

std::vector<double> action_boundaries(const std::vector<Panel>& panels) {
  std::vector<double> b{0.0};
  double longest = 0;
  for (const Panel& p : panels) {
    longest = std::max(longest, p.step_us);
    for (const TraceEvent& e : p.trace.events) {
      if (!is_compute(e.action.kind)) continue;
      b.push_back(e.start_us - p.origin_us);
      b.push_back(e.end_us() - p.origin_us);
    }
  }
  b.push_back(longest);
  std::sort(b.begin(), b.end());
  // Edges closer than 0.05% of the step (under a pixel) are one stop for ←/→: otherwise
  // devices ending 3 ns apart make a key press look like it did nothing.
  const double tolerance = longest * 5e-4;
  std::vector<double> merged;
  for (double t : b)
    if (merged.empty() || t - merged.back() > tolerance) merged.push_back(t);
  if (merged.back() < longest) merged.back() = longest;
  return merged;
}

}  // namespace pipelab::viz
