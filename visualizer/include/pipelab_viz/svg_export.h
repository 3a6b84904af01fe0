// pipelab_viz/svg_export.h — the timeline as an SVG file for slides and handouts.
//
// Drawn from the same TimelineLayout as the window, with the whole step executed
// (no playhead), so the SVG shows exactly what the window shows at the step's end.
#pragma once

#include <string>
#include <vector>

#include "pipelab_viz/palette.h"
#include "pipelab_viz/panel.h"
#include "pipelab_viz/timeline_layout.h"

namespace pipelab::viz {

/// The SVG document (UTF-8) of `layout` drawn from `panels`, `width` × `height` pixels.
std::string timeline_svg(const std::vector<Panel>& panels, const TimelineLayout& layout, const Palette& palette,
                         float font_px, int width, int height);

/// Lay out `panels` on a `width` × `height` canvas and write the SVG to `path`.
/// Throws pipelab::Error naming the path when it cannot be written.
void write_timeline_svg(const std::vector<Panel>& panels, const std::string& path, bool presentation,
                        bool gpu0_at_bottom, int width = 1400, int height = 700);

}  // namespace pipelab::viz
