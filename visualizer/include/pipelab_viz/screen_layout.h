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

/// Font size in pixels in the normal mode.
constexpr float kFontPx = 16.0f;
/// Font size in pixels in the presentation mode (ImGui sizes scale by its ratio to kFontPx).
constexpr float kPresentationFontPx = 26.0f;
/// kPresentationFontPx when `presentation` is set, else kFontPx.
inline float font_px_for(bool presentation) { return presentation ? kPresentationFontPx : kFontPx; }

/// Default window width in pixels (`--size`; also the headless size the tests probe).
constexpr int kDefaultWidth = 1600;
/// Default window height in pixels (`--size`; also the headless size the tests probe).
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

/// Split the window into the dashboard of the picture above. Sizes scale with font_px:
/// controls 19 × font_px wide (clamped to [240 px, 30% of the width]; none when hidden),
/// toolbar 2.6 × font_px high, a bottom row of 31% of the height (clamped to
/// [9 × font_px, 45%]) split 55/45 into compare table and memory plot, the timeline between.
ScreenLayout layout_screen(const ScreenParams& params);

}  // namespace pipelab::viz
