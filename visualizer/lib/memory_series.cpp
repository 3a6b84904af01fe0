// memory_series.cpp — step functions of allocator bytes.
#include "pipelab_viz/memory_series.h"

#include <algorithm>

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
  std::vector<const MemorySample*> samples;
  for (const MemorySample& s : panel.trace.memory)
    if (s.device == device) samples.push_back(&s);
  std::stable_sort(samples.begin(), samples.end(),
                   [](const MemorySample* a, const MemorySample* b) { return a->time_us < b->time_us; });
  for (const MemorySample* s : samples) {
    const double t = std::clamp(s->time_us - panel.origin_us, 0.0, panel.step_us);
    const std::uint64_t v = value_of(*s, view);
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
      return line;
    }
    const float y = y_of(p.bytes);
    if (!line.empty()) line.push_back({axis.x(p.t_us), line.back().y});  // horizontal, then the jump
    line.push_back({axis.x(p.t_us), y});
  }
  return line;
}

}  // namespace pipelab::viz
