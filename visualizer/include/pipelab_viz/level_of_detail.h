// pipelab_viz/level_of_detail.h — what the timeline draws when spans are narrower than a pixel.
//
// A K=8, M=512 GPipe step has 22 k spans on a ~1200 px axis, a K=64, M=4096 one 1.8 M:
// drawing every span (and measuring its label) costs far more than the picture can show.
// The rule, applied to each lane (one device's compute, send or recv row) on its own:
//
//   wide span  (at least kLodMinBoxPx)  drawn as it is: exact sub-pixel edges, outline, label
//   thin span  (narrower)               snapped to the pixel columns it touches:
//                                         [floor(x0), max(floor(x0) + 1, ceil(x1)))
//   consecutive thin spans merge into one box while they share a column, or touch and are
//   of the same group (hue), up to kLodMaxMergePx wide (so F0..F511 keep their shading);
//   a run of one unshaded group (sends, receives: one colour whatever the micro-batch)
//   merges without that limit.
//   A merged box takes its group's colour when all its spans share it, else the neutral
//   "many spans" colour (Palette::many_spans).
//
// So every span leaves a mark (merging never hides one), no box reaches outside the
// columns its spans touch, and the thin boxes cover exactly the union of those columns.
// Idle time follows the same scale: a bubble narrower than kLodMinBoxPx is not drawn (the
// spans on either side of it fill its columns), so no hatch is drawn per tiny gap.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pipelab_viz/geometry.h"

namespace pipelab::viz {

/// Spans (and bubbles) at least this wide in pixels are drawn one by one.
constexpr float kLodMinBoxPx = 1.0f;
/// A merged box of one group stops growing at this width (pixels), so shades stay visible.
constexpr float kLodMaxMergePx = 4.0f;
/// LodBox::group of a merged box whose spans belong to different groups.
constexpr int kMixedGroup = -1;

/// The rule in one paragraph, for the legend's and the merged boxes' tooltips.
constexpr const char* kLevelOfDetailHelp =
    "Level of detail: spans narrower than a pixel are drawn on the whole pixel columns they touch, and neighbours "
    "sharing a column are merged into one box (at most 4 px wide for F, B and R, so their shades stay visible). "
    "A merged box has its kind's colour when all its "
    "spans are of one kind, else this neutral 'many spans' colour. Every span leaves a mark; hover a box for what it "
    "holds. Idle gaps narrower than a pixel are not drawn, and labels only where they fit.";

/// One span of a lane in pixels: x0 = axis.x(start), x1 = axis.x(end), x1 >= x0.
struct PixelSpan {
  float x0 = 0;   ///< left edge
  float x1 = 0;   ///< right edge
  int group = 0;  ///< spans of one group are drawn in one hue (e.g. the action kind's)
  bool shaded = true;  ///< the group's spans differ in shade (F, B, R by micro-batch): merged runs stay short
};

/// One box to draw for spans[first .. first + count).
struct LodBox {
  float x0 = 0;            ///< left edge (a whole pixel when snapped)
  float x1 = 0;            ///< right edge (a whole pixel when snapped)
  std::size_t first = 0;   ///< first span drawn by this box
  std::size_t count = 1;   ///< spans drawn by this box (1 for a wide span)
  int group = 0;           ///< the spans' group, or kMixedGroup
  bool snapped = false;    ///< thin span(s) snapped to pixel columns (false: one wide span, exact)
  bool shaded = true;      ///< some span of the box is shaded (PixelSpan::shaded)
};

/// The pixel columns a span touches: [floor(x0), max(floor(x0) + 1, ceil(x1))), as floats.
Rect columns_of(float x0, float x1);

/// Draw boxes of one lane's spans, which must be sorted by x0 (the rule above).
/// Boxes come in span order; `max_merge_px` caps the width of a merged box with shaded
/// or mixed spans.
std::vector<LodBox> level_of_detail(const std::vector<PixelSpan>& spans, float max_merge_px = kLodMaxMergePx);

/// One diagonal hatch line segment.
struct HatchLine {
  Vec2 a;  ///< upper-right end (on the top row)
  Vec2 b;  ///< lower-left end (on the bottom row)
};

/// The bubble hatch over `r`: the lines x + y = origin.x + origin.y + k · spacing (phase 0
/// of hatch_phase) that cross r, each from r's top row to its bottom row (its x may lie
/// outside r: draw them clipped to r), appended to `out` (cleared first).
void hatch_lines(const Rect& r, Vec2 origin, float spacing, std::vector<HatchLine>& out);

/// Width of a box label in em: DejaVu Sans' advances (the app's font) of the letters and
/// digits labels use (F 0.575, B 0.686, R 0.695, O 0.787, p 0.635, t 0.392, digits 0.636),
/// kLabelEmPerChar for any other character. ImGui's fallback font is narrower.
float label_width_em(const std::string& label);

/// Em width assumed for a character outside the label alphabet (an upper bound for DejaVu Sans).
constexpr float kLabelEmPerChar = 0.8f;

/// Font size (font_px or 0.75 · font_px) at which `label` fits in `box` with 2 px on
/// either side (label_width_em · size + 4 <= width, size <= height + 2, as the window
/// always drew them); 0 when it does not fit even small (or is empty).
float label_font_px(const std::string& label, const Rect& box, float font_px);

}  // namespace pipelab::viz
