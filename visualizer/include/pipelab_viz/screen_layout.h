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

/// Inputs of layout_screen.
struct ScreenParams {
  int width = kDefaultWidth;    ///< window width in pixels
  int height = kDefaultHeight;  ///< window height in pixels
  float font_px = kFontPx;      ///< font size in pixels
  bool show_controls = true;    ///< the controls column (hidden: the timeline gets the width)
};

/// The rectangle of each dashboard panel (window pixels).
struct ScreenLayout {
  Rect controls;  ///< empty when hidden
  Rect toolbar;   ///< playback controls
  Rect timeline;  ///< the timeline panels
  Rect metrics;   ///< the compare table
  Rect memory;    ///< the memory plot
};

ScreenLayout layout_screen(const ScreenParams& params);

}  // namespace pipelab::viz
