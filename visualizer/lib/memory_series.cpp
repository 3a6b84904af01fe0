// memory_series.cpp — step functions of allocator bytes.
#include "pipelab_viz/memory_series.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace pipelab::viz {

namespace {
std::uint64_t value_of(const MemorySample& s, MemoryView view) {
  if (view == MemoryView::Stash) return s.current[static_cast<int>(MemoryCategory::Stash)];
  std::uint64_t total = 0;
  for (std::uint64_t b : s.current) total += b;
  return total;
}
}  // namespace

std::vector<MemoryPoint> memory_series(const Panel& panel, int device, MemoryView view) {
  std::vector<MemoryPoint> points;
  // Panel::memory_by_device holds this device's samples in time order (stable for ties).
  static const std::vector<std::uint32_t> kNone;
  const auto& samples = static_cast<std::size_t>(device) < panel.memory_by_device.size() && device >= 0
                            ? panel.memory_by_device[static_cast<std::size_t>(device)]
                            : kNone;
  for (std::uint32_t i : samples) {
    const MemorySample& s = panel.trace.memory[i];
    const double t = std::clamp(s.time_us - panel.origin_us, 0.0, panel.step_us);
    const std::uint64_t v = value_of(s, view);
    if (!points.empty() && points.back().t_us == t)
      points.back().bytes = v;
    else
      points.push_back({t, v});
  }
  if (points.empty() || points.front().t_us > 0)
    points.insert(points.begin(), {0.0, points.empty() ? 0 : points.front().bytes});
  if (points.back().t_us < panel.step_us) points.push_back({panel.step_us, points.back().bytes});
  return points;
}

std::uint64_t memory_max(const Panel& panel, MemoryView view) {
  std::uint64_t m = 1;
  for (int d = 0; d < panel.devices(); ++d)
    for (const MemoryPoint& p : memory_series(panel, d, view)) m = std::max(m, p.bytes);
  return m;
}

std::vector<Vec2> memory_polyline(const std::vector<MemoryPoint>& series, const TimeAxis& axis, const Rect& plot,
                                  std::uint64_t y_max, double until_us) {
  std::vector<Vec2> line;
  auto y_of = [&](std::uint64_t bytes) {
    const double frac = y_max > 0 ? static_cast<double>(bytes) / static_cast<double>(y_max) : 0.0;
    return static_cast<float>(plot.y1 - frac * plot.height());
  };
  for (std::size_t i = 0; i < series.size(); ++i) {
    const MemoryPoint& p = series[i];
    if (p.t_us > until_us) {
      // Hold the previous value up to the playhead.
      if (!line.empty()) line.push_back({axis.x(until_us), line.back().y});
      break;
    }
    const float y = y_of(p.bytes);
    if (!line.empty()) line.push_back({axis.x(p.t_us), line.back().y});  // horizontal, then the jump
    line.push_back({axis.x(p.t_us), y});
  }
  return decimate_to_columns(line);
}

std::vector<Vec2> decimate_to_columns(const std::vector<Vec2>& line) {
  std::vector<Vec2> out;
  std::size_t begin = 0;
  while (begin < line.size()) {
    // [begin, end): consecutive points in one pixel column.
    const float column = std::floor(line[begin].x);
    std::size_t end = begin + 1, low = begin, high = begin;
    for (; end < line.size() && std::floor(line[end].x) == column; ++end) {
      if (line[end].y < line[low].y) low = end;
      if (line[end].y > line[high].y) high = end;
    }
    // The column's lowest and highest point, in their order: the vertical extent the
    // column shows (where the line enters and leaves it is less than a pixel away). The
    // line's own first and last point are kept, so it starts and ends where it did.
    std::size_t keep[4] = {low, high, begin == 0 ? begin : low, end == line.size() ? end - 1 : high};
    std::sort(keep, keep + 4);
    for (int k = 0; k < 4; ++k)
      if (k == 0 || keep[k] != keep[k - 1]) out.push_back(line[keep[k]]);
    begin = end;
  }
  return out;
}

namespace {
// Distance from p to the segment a–b (to a when the segment is a point).
float distance_to_segment(Vec2 p, Vec2 a, Vec2 b) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float length2 = dx * dx + dy * dy;
  // The projection of p onto the segment's line, as a fraction t of a→b, clamped to [0, 1].
  const float t = length2 > 0 ? std::clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0.0f, 1.0f) : 0.0f;
  const float ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
  return std::sqrt(ex * ex + ey * ey);
}
}  // namespace

std::vector<Vec2> simplify_polyline(const std::vector<Vec2>& line, float tolerance_px) {
  if (line.size() < 3) return line;
  std::vector<char> keep(line.size(), 0);
  keep.front() = keep.back() = 1;
  // Each range [first, last] between two kept points: keep its farthest point if it is
  // beyond the tolerance and split there; else every point inside it is dropped. A stack,
  // not recursion: a long line must not run out of call stack.
  std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, line.size() - 1}};
  while (!ranges.empty()) {
    const auto [first, last] = ranges.back();
    ranges.pop_back();
    float farthest = -1;
    std::size_t at = first;
    for (std::size_t i = first + 1; i < last; ++i) {
      const float d = distance_to_segment(line[i], line[first], line[last]);
      if (d > farthest) farthest = d, at = i;
    }
    if (farthest <= tolerance_px) continue;
    keep[at] = 1;
    ranges.push_back({first, at});
    ranges.push_back({at, last});
  }
  std::vector<Vec2> out;
  for (std::size_t i = 0; i < line.size(); ++i)
    if (keep[i]) out.push_back(line[i]);
  return out;
}

void split_polyline(const std::vector<Vec2>& line, float x, std::vector<Vec2>& before, std::vector<Vec2>& after) {
  before.clear();
  after.clear();
  std::size_t i = 0;
  for (; i < line.size() && line[i].x <= x; ++i) before.push_back(line[i]);
  if (before.empty()) {
    after = line;
    return;
  }
  // The value holds from the last point before x on: both parts meet at (x, that value).
  if (before.back().x < x && i < line.size()) before.push_back({x, before.back().y});
  after.push_back(before.back());
  after.insert(after.end(), line.begin() + static_cast<std::ptrdiff_t>(i), line.end());
  if (after.size() < 2) after.clear();
}

}  // namespace pipelab::viz
