// pipelab_viz/screen_layout.h — where each panel of the window goes.
//
// The window is a fixed dashboard (no dragging), so a screenshot taken headless
// and the layout a test computes agree to the pixel:
//
//   +----------+---------------------------------------------+
//   |          | toolbar: play/pause, step, scrub, speed     |
//   | controls +---------------------------------------------+
//   | (K, M,   | timeline: one panel per run, shared axis    |
//   |  files,  |                                             |
//   |  export) +----------------------+----------------------+
//   |          | compare (metrics)    | memory               |
//   +----------+----------------------+----------------------+
#pragma once

#include "pipelab_viz/geometry.h"

namespace pipelab::viz {

/// Font size in pixels of the normal and the presentation mode.
constexpr float kFontPx = 16.0f;
constexpr float kPresentationFontPx = 26.0f;
inline float font_px_for(bool presentation) { return presentation ? kPresentationFontPx : kFontPx; }

/// Default window size (also the headless size the tests probe).
constexpr int kDefaultWidth = 1600;
constexpr int kDefaultHeight = 900;

struct ScreenParams {
  int width = kDefaultWidth;
  int height = kDefaultHeight;
  float font_px = kFontPx;
  bool show_controls = true;  ///< the controls column (hidden: the timeline gets the width)
};

struct ScreenLayout {
  Rect controls;  ///< empty when hidden
  Rect toolbar;
  Rect timeline;
  Rect metrics;
  Rect memory;
};

ScreenLayout layout_screen(const ScreenParams& params);

}  // namespace pipelab::viz
