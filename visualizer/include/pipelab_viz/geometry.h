// pipelab_viz/geometry.h — pixels and colours, nothing that needs a display.
//
// Coordinates are window pixels, x to the right and y down (as ImGui, SVG and PNG rows).
#pragma once

#include <cstdint>

/// \brief pipelab-viz's display-independent library (pipelab_viz_lib): panels built
/// from traces, the layout of the window and the timeline, palettes, playback, memory
/// plots, SVG export, the command line and live runs. Unit-tested without a display;
/// the ImGui app in visualizer/app draws what it computes.
namespace pipelab::viz {

/// A point in window pixels.
struct Vec2 {
  float x = 0;  ///< pixels from the left
  float y = 0;  ///< pixels from the top
};

/// Axis-aligned rectangle [x0, x1) × [y0, y1).
struct Rect {
  float x0 = 0;  ///< left edge
  float y0 = 0;  ///< top edge
  float x1 = 0;  ///< right edge (exclusive)
  float y1 = 0;  ///< bottom edge (exclusive)

  float width() const { return x1 - x0; }                               ///< x1 - x0
  float height() const { return y1 - y0; }                              ///< y1 - y0
  Vec2 centre() const { return {(x0 + x1) * 0.5f, (y0 + y1) * 0.5f}; }  ///< the middle point
  bool contains(Vec2 p) const {
    return p.x >= x0 && p.x < x1 && p.y >= y0 && p.y < y1;
  }                                                    ///< whether p lies inside (right and bottom edges excluded)
  bool empty() const { return x1 <= x0 || y1 <= y0; }  ///< no area
  bool operator==(const Rect& o) const { return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1; }  ///< same edges
  bool operator!=(const Rect& o) const { return !(*this == o); }  ///< any edge differs
};

/// 8-bit sRGB colour with alpha.
struct Rgba {
  std::uint8_t r = 0;    ///< red
  std::uint8_t g = 0;    ///< green
  std::uint8_t b = 0;    ///< blue
  std::uint8_t a = 255;  ///< alpha (255 = opaque)

  bool operator==(const Rgba& o) const {
    return r == o.r && g == o.g && b == o.b && a == o.a;
  }                                                               ///< all four channels equal
  bool operator!=(const Rgba& o) const { return !(*this == o); }  ///< any channel differs
  /// ImGui's packed ImU32 (IM_COL32 layout: A in the high byte, then B, G, R).
  std::uint32_t packed() const {
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{g} << 8) | std::uint32_t{r};
  }
  Rgba with_alpha(std::uint8_t alpha) const { return {r, g, b, alpha}; }  ///< the same colour with another alpha
};

/// Linear mix: t = 0 gives `from`, t = 1 gives `to` (alpha mixed too).
Rgba mix(Rgba from, Rgba to, float t);

/// Largest per-channel difference of r, g, b (alpha ignored): how tests compare pixels.
int colour_distance(Rgba a, Rgba b);

}  // namespace pipelab::viz
