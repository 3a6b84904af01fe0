// screen_layout.cpp — the dashboard split (picture in screen_layout.h).
#include "pipelab_viz/screen_layout.h"

#include <algorithm>

namespace pipelab::viz {

ScreenLayout layout_screen(const ScreenParams& p) {
  const float w = static_cast<float>(p.width);
  const float h = static_cast<float>(p.height);
  const float f = p.font_px;
  ScreenLayout s;
  // Controls: about 20 characters of slider labels and values.
  const float controls_w = p.show_controls ? std::clamp(f * 19.0f, 240.0f, w * 0.3f) : 0.0f;
  if (p.show_controls) s.controls = {0, 0, controls_w, h};
  const float x0 = controls_w;
  // Toolbar: one row of widgets (frame height ≈ font + 2·padding) plus window padding.
  const float toolbar_h = f * 2.6f;
  s.toolbar = {x0, 0, w, toolbar_h};
  // Bottom row: metrics table and memory plot, about 30% of the height.
  const float bottom_h = std::clamp(h * 0.31f, f * 9.0f, h * 0.45f);
  const float bottom_y = h - bottom_h;
  s.timeline = {x0, toolbar_h, w, bottom_y};
  const float split = x0 + (w - x0) * 0.55f;
  s.metrics = {x0, bottom_y, split, h};
  s.memory = {split, bottom_y, w, h};
  return s;
}

}  // namespace pipelab::viz
