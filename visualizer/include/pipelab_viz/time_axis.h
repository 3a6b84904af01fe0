// pipelab_viz/time_axis.h — time (µs) ↔ pixel, and readable tick marks.
//
// All panels of a view share one TimeAxis, so equal durations have equal widths
// and a shorter step ends further left: x(t) = x0 + (t - t0) · (x1 - x0) / (t1 - t0).
#pragma once

#include <string>
#include <vector>

namespace pipelab::viz {

/// A linear map between step time (µs) and pixel x.
struct TimeAxis {
  double t0_us = 0;  ///< time at x0
  double t1_us = 1;  ///< time at x1
  float x0 = 0;      ///< pixel x of t0
  float x1 = 1;      ///< pixel x of t1

  /// Pixels per µs (0 for an empty range).
  double scale() const { return t1_us > t0_us ? (x1 - x0) / (t1_us - t0_us) : 0.0; }
  /// Pixel x of time t (µs).
  float x(double t_us) const { return static_cast<float>(x0 + (t_us - t0_us) * scale()); }
  /// Time (µs) at pixel x; t0 for an empty range.
  double t(float px) const { return scale() > 0 ? t0_us + (px - x0) / scale() : t0_us; }
};

/// One labelled tick of a time axis.
struct Tick {
  double t_us = 0;    ///< where the tick is
  std::string label;  ///< "0", "50 µs", "1.5 ms"
};

/// Ticks at 1, 2 or 5 × 10^n µs covering [t0, t1], at most `max_ticks` of them
/// (at least 2 when the range is non-empty). Labels use µs below 1 ms, else ms.
std::vector<Tick> nice_ticks(double t0_us, double t1_us, int max_ticks);

/// "284.0 µs" or "1.25 ms" (3 significant digits): one format for every duration shown.
std::string format_duration(double us);

}  // namespace pipelab::viz
