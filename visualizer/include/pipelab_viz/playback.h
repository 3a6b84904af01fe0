// pipelab_viz/playback.h — the playhead: play/pause, step, scrub, speed, loop.
//
// Time is the step's own time (µs from the panel origin). At speed 1× the playhead
// crosses the longest shown step in kSecondsPerStepAt1x seconds of wall time, whatever
// the step lasts (µs on sim, ms on cpu), so the animation is watchable.
#pragma once

#include <vector>

#include "pipelab_viz/panel.h"

namespace pipelab::viz {

/// Wall-clock seconds the playhead takes to cross the longest shown step at speed 1×.
constexpr double kSecondsPerStepAt1x = 5.0;
/// Slowest playback speed (multiple of 1×); the toolbar's speed slider starts here.
constexpr float kMinSpeed = 0.1f;
/// Fastest playback speed (multiple of 1×); the toolbar's speed slider ends here.
constexpr float kMaxSpeed = 10.0f;

/// The playhead and its controls.
struct Playback {
  double time_us = 0;    ///< playhead
  double end_us = 0;     ///< longest step shown
  bool playing = false;  ///< advancing with wall time
  bool loop = false;     ///< wrap to 0 at the end instead of stopping
  float speed = 1.0f;    ///< clamped to [kMinSpeed, kMaxSpeed]

  /// Advance by `wall_seconds` if playing. At the end: wrap to 0 when looping, else stop.
  void advance(double wall_seconds);
  /// Space: pause; or play (from 0 when the playhead is at the end).
  void toggle();
  /// Home: back to the start of the step (keeps playing/paused).
  void home();
  /// Move to a time, clamped to [0, end] (scrubbing pauses nothing).
  void seek(double t_us);
  /// → / ←: jump to the next/previous action boundary (pauses).
  void step_forward(const std::vector<double>& boundaries);
  void step_back(const std::vector<double>& boundaries);  ///< see step_forward
  /// New panels: keep the playhead where it was, or at the new end if it was at the old end.
  void set_end(double new_end_us);
  bool at_end() const { return time_us >= end_us; }  ///< the playhead is at (or past) the end
};

/// Sorted start and end times of every compute span (F, B, R) of every panel, relative
/// to each panel's origin, plus 0 and the longest step; edges within 0.05% of the
/// longest step of each other are merged into the first.
std::vector<double> action_boundaries(const std::vector<Panel>& panels);

}  // namespace pipelab::viz
