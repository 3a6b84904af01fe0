// pipelab_viz/timeline_layout.h — where every box, bubble and lane of the timeline goes.
//
// One function computes the whole picture from the panels and a canvas rectangle;
// the ImGui view, the SVG export and the pixel-probe tests all draw or probe from
// its result, so they cannot disagree. Layout of one panel (GPU 0 at the bottom):
//
//   title band     "GPipe · K=4 M=4 · sim · step 284.4 µs"
//   GPU 3 | [F0][F1][F2][F3]       [B3][B2][B1][B0] | util bar
//         | send lane (thin)                        |
//         | recv lane (thin)                        |
//   ...
//   GPU 0 | ...                                     |
//   (after the last panel) time axis ticks, then the legend.
//
// Spans narrower than a pixel are merged per lane, bubbles narrower than a pixel are not
// drawn, and labels are kept only where they fit (level_of_detail.h), so the number of
// boxes grows with the canvas width, not with the trace: a 1.8 M-span step lays out in
// a few thousand boxes. The layout does not depend on the playhead: the app computes it
// once per trace, canvas and font, not per frame.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pipelab_viz/geometry.h"
#include "pipelab_viz/level_of_detail.h"
#include "pipelab_viz/palette.h"
#include "pipelab_viz/panel.h"
#include "pipelab_viz/time_axis.h"

namespace pipelab::viz {

/// Inputs of layout_timeline.
struct TimelineParams {
  Rect canvas;                 ///< the rectangle to fill (window pixels)
  float font_px = 16.0f;       ///< font size: every size in the layout scales with it
  bool gpu0_at_bottom = true;  ///< as in the GPipe paper's figure; false puts GPU 0 on top
  /// Runs loaded but left out before the layout (keep_stackable): reported in the note band.
  std::size_t runs_not_shown = 0;
};

/// One device's row: its compute lane and the thin send/recv lanes under it.
struct RowLayout {
  int device = 0;          ///< which GPU
  Rect label;              ///< "GPU d" in the left gutter
  Rect compute;            ///< F/B/R boxes and the bubble
  Rect send;               ///< send spans (thin)
  Rect recv;               ///< recv spans (thin)
  Rect util;               ///< utilization bar in the right gutter
  bool show_label = true;  ///< false when rows are thinner than text: only every n-th row is named
};

/// One drawn box: a span of the panel's trace, or several narrower than a pixel merged
/// (the level-of-detail rule in level_of_detail.h).
struct BoxLayout {
  std::size_t event = 0;       ///< index into panel.trace.events (the first one of a merged box)
  std::size_t count = 1;       ///< spans this box draws (> 1: merged)
  std::size_t lane_first = 0;  ///< where `event` is in panel.lane_events(device, lane)
  int device = 0;              ///< which GPU
  Lane lane = Lane::Compute;   ///< which of its lanes
  Rect rect;                   ///< where it is drawn
  Rgba fill;                   ///< action_fill() of its kind and micro-batch; Palette::many_spans if mixed
  std::string label;           ///< "F0", "B3", "R2", "I3", "W3", "Opt" when it fits (label_px > 0), else ""
  float label_px = 0;          ///< the font size the label fits at (label_font_px); 0: no label
  double start_us = 0;         ///< relative to the panel origin (the earliest start of a merged box)
  double end_us = 0;           ///< relative to the panel origin (the latest end of a merged box)
  bool snapped = false;        ///< narrower than a pixel: drawn on the whole pixel columns it touches
  bool mixed = false;          ///< merged spans of different kinds (drawn in Palette::many_spans)

  bool merged() const { return count > 1; }  ///< draws more than one span
};

/// An idle interval of one device inside the step.
struct BubbleLayout {
  int device = 0;       ///< which GPU is idle
  double start_us = 0;  ///< relative to the panel origin
  double end_us = 0;    ///< relative to the panel origin
  Rect rect;            ///< in that device's compute lane
};

/// The layout of one panel.
struct PanelLayout {
  Rect frame;                         ///< the whole panel (title band and rows)
  Rect title;                         ///< the heading band
  std::vector<RowLayout> rows;        ///< rows[d] is device d (whatever its screen position)
  std::vector<BubbleLayout> bubbles;  ///< idle intervals, per device
  std::vector<BoxLayout> boxes;       ///< compute lanes first, then send/recv lanes; each lane in time order
  float step_end_x = 0;               ///< axis.x(step_us): where this panel's step ends
};

/// One legend entry: a swatch and its label.
struct LegendItem {
  Rect swatch;           ///< the colour sample
  Vec2 text_pos;         ///< top-left of the label
  std::string label;     ///< what the colour means
  Rgba colour;           ///< swatch colour
  bool hatched = false;  ///< drawn with the bubble hatch
  const char* help = nullptr;  ///< shown on hover (the "many spans" entry explains the level of detail)
};

/// The whole timeline: up to kMaxStackedPanels panels on one shared axis, ticks, legend.
struct TimelineLayout {
  TimeAxis axis;                    ///< shared by every panel: [0, longest step of the panels shown]
  std::vector<PanelLayout> panels;  ///< top to bottom, as given: the first kMaxStackedPanels
  /// Runs not drawn: params.runs_not_shown plus the panels given beyond kMaxStackedPanels.
  std::size_t runs_not_shown = 0;
  std::string note;  ///< stacked_runs_note() when runs_not_shown > 0, else ""
  Rect note_band;    ///< above the first panel, where `note` is drawn (empty when no note)
  Rect axis_band;                   ///< tick marks and labels under the last panel
  std::vector<Tick> ticks;          ///< tick positions and labels
  Rect legend_band;                 ///< under the axis
  std::vector<LegendItem> legend;   ///< legend entries, wrapped to the band
  Vec2 hatch_origin;                ///< where the bubble hatch lines are anchored (see hatch_phase)
  bool has_merged = false;          ///< some box merges spans (the legend then explains the "many spans" colour)
};

/// Lay out `panels` (top to bottom, in order) on `params.canvas`: every panel on the same
/// TimeAxis (one µs-to-pixel scale), each with its title band. Only the first
/// kMaxStackedPanels are laid out; the rest are counted in runs_not_shown and named in `note`.
TimelineLayout layout_timeline(const std::vector<Panel>& panels, const TimelineParams& params, const Palette& palette);

/// Screen row (0 = top) of `device` in a panel of `devices` rows.
int row_index(int device, int devices, bool gpu0_at_bottom);

/// The box that draws (kind, device, micro-batch) in `layout` (maybe a merged one), or nullptr.
const BoxLayout* find_box(const Panel& panel, const PanelLayout& layout, ActionKind kind, int device, int microbatch);

/// Box label text: "F0", "B3", "R2", "I3", "W3", "Opt"; "" for communication.
std::string box_label(const Action& action);

/// Estimated width in pixels of `text` at `font_px` (for SVG and fit decisions;
/// the ImGui view measures real text).
float estimated_text_width(const std::string& text, float font_px);

/// How much of [start, end) has executed when the playhead is at `playhead_us`: 0..1.
double executed_fraction(double start_us, double end_us, double playhead_us);

}  // namespace pipelab::viz
