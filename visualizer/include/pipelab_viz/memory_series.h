// pipelab_viz/memory_series.h — per-device memory over the step, from trace.memory.
//
// The allocator records a sample after every change; between samples the value
// holds, so the plot is a step function. Two views: the stashed activations
// (what grows during GPipe's forward and drains in its backward, and what remat
// shrinks) and the total over all categories.
#pragma once

#include <cstdint>
#include <vector>

#include "pipelab_viz/geometry.h"
#include "pipelab_viz/panel.h"
#include "pipelab_viz/time_axis.h"

namespace pipelab::viz {

/// Which allocator bytes the memory plot shows: `Stash`, the stashed activations only
/// (MemoryCategory::Stash), or `Total`, the sum over all categories.
enum class MemoryView { Stash, Total };

/// One step of the memory plot: from t_us on, the device holds `bytes`.
struct MemoryPoint {
  double t_us = 0;          ///< relative to the panel origin
  std::uint64_t bytes = 0;  ///< allocator bytes (stash or total)
};

/// Samples of `device` in time order (several at one time: the last wins), starting
/// with a point at 0 (the first sample's value, or 0) and ending at the step's end.
std::vector<MemoryPoint> memory_series(const Panel& panel, int device, MemoryView view);

/// Largest value of any device's series (for a shared y axis), at least 1.
std::uint64_t memory_max(const Panel& panel, MemoryView view);

/// The step function as a polyline in `plot`: x from `axis`, y from 0 (bottom) to
/// `y_max` bytes (top). Only the part up to `until_us` (the playhead). Thinned to at
/// most two points per pixel column (decimate_to_columns): 8 k samples a device draw
/// as a few hundred points, covering the same pixels.
std::vector<Vec2> memory_polyline(const std::vector<MemoryPoint>& series, const TimeAxis& axis, const Rect& plot,
                                  std::uint64_t y_max, double until_us);

/// Runs of consecutive points in one pixel column (same floor(x)) reduced to the run's
/// lowest and highest point, in their order (one point if they coincide), plus the
/// line's first and last point: each column keeps its vertical extent.
std::vector<Vec2> decimate_to_columns(const std::vector<Vec2>& line);

/// Douglas–Peucker: the fewest of `line`'s points (its first and last always, the rest in
/// order) such that every dropped point lies within `tolerance_px` of the segment between
/// the kept points around it. A ramp of sub-pixel steps (GPipe's stash filling up) becomes
/// its two ends; a step function keeps its corners. llvmpipe pays per vertex and per
/// covered pixel, and a K=8 M=512 plot is ~7 k points before this, a few dozen after.
std::vector<Vec2> simplify_polyline(const std::vector<Vec2>& line, float tolerance_px);

/// `line` (x increasing) cut at x: `before` holds the points up to x and then the value
/// held to x, `after` starts there and holds the rest (either may come back empty).
/// The memory plot draws `before` solid (happened) and `after` faint (to come).
void split_polyline(const std::vector<Vec2>& line, float x, std::vector<Vec2>& before, std::vector<Vec2>& after);

}  // namespace pipelab::viz
