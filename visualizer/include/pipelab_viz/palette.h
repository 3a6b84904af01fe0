// pipelab_viz/palette.h — the colours of the timeline, the memory plot and the legend.
//
// Two palettes: `dark` for the desktop and `presentation` (white background,
// saturated colours, black text) for projectors. Forward, backward and recompute
// have distinct hues; within a hue, micro-batch m is shaded from the full colour
// (m = 0) towards white (m = M - 1), so F0 and F3 differ but stay "forward".
// Idle time inside the step (the bubble) is a distinct fill with diagonal hatching.
#pragma once

#include "pipelab/schedule/schedule.h"
#include "pipelab_viz/geometry.h"

namespace pipelab::viz {

/// The colours of one mode (dark or presentation).
struct Palette {
  Rgba canvas;              ///< timeline background (also beyond a step's end)
  Rgba text;                ///< labels and titles
  Rgba text_dim;            ///< axis labels, captions
  Rgba grid;                ///< tick lines, row separators
  Rgba forward;             ///< F, micro-batch 0
  Rgba backward;            ///< B, micro-batch 0
  Rgba recompute;           ///< R, micro-batch 0
  Rgba backward_input;      ///< I (B's input-gradient half), micro-batch 0: a green like B's
  Rgba backward_weight;     ///< W (B's weight-gradient half), micro-batch 0: olive, apart from I
  Rgba optimizer;           ///< the SGD step (not busy time)
  Rgba send;                ///< send lane spans
  Rgba recv;                ///< recv lane spans
  Rgba lane;                ///< empty send/recv lane background inside the step
  Rgba bubble;              ///< idle time inside the step
  Rgba bubble_hatch;        ///< the diagonal lines drawn over the bubble
  Rgba many_spans;          ///< a box merging sub-pixel spans of different kinds (level_of_detail.h)
  Rgba playhead;            ///< the playhead line
  Rgba util_bar;            ///< utilization bars
  Rgba util_track;          ///< their empty part
  Rgba error;               ///< error panel accents
  float outline_px = 1.0f;  ///< box border width
};

/// The desktop palette: dark canvas, light text, 1 px box borders.
Palette dark_palette();
/// The projector palette (`--presentation`, key P): white canvas, black text,
/// saturated colours, 2 px box borders.
Palette presentation_palette();
/// presentation_palette() when `presentation` is set, else dark_palette().
inline Palette palette_for(bool presentation) { return presentation ? presentation_palette() : dark_palette(); }

/// Fill of a box: the kind's hue, shaded by micro-batch (0 = full colour, M - 1 = lightest).
/// Communication kinds get the send/recv colour, OptimizerStep its grey.
Rgba action_fill(const Palette& palette, ActionKind kind, int microbatch, int microbatches);

/// The box border: the fill darkened.
Rgba action_outline(Rgba fill);

/// Black or white, whichever reads better on `background` (by relative luminance).
Rgba label_colour_on(Rgba background);

/// A colour per device for line plots (memory), distinct for GPU 0..7, cycling after.
Rgba device_colour(const Palette& palette, int device);

/// Spacing in pixels of the bubble's diagonal hatch lines (measured along x).
constexpr float kHatchSpacingPx = 12.0f;
/// Where `p` falls between the bubble's hatch lines, in [0, spacing):
/// ((p.x - origin.x) + (p.y - origin.y)) mod spacing. Lines lie at phase 0, so a pixel
/// at phase spacing / 2 shows the plain bubble fill (what the pixel-probe tests look for).
/// `origin` is TimelineLayout::hatch_origin.
float hatch_phase(Vec2 p, Vec2 origin, float spacing = kHatchSpacingPx);

}  // namespace pipelab::viz
