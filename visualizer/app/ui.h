// ui.h — the panels of the dashboard (one file each), drawn with Dear ImGui.
//
// Every panel is a fixed window at the rectangle layout_screen() gives it; the
// timeline and memory plot draw what the layout library computed, nothing else.
#pragma once

#include "app_state.h"
#include "pipelab_viz/geometry.h"
#include "pipelab_viz/palette.h"
#include "style.h"

namespace pipelab::viz {

/// The whole dashboard for this frame.
void draw_ui(AppState& app, const Fonts& fonts);

void draw_controls(AppState& app, const Rect& area);
void draw_toolbar(AppState& app, const Rect& area);
void draw_timeline(AppState& app, const Rect& area, float font_px, const Palette& palette);
void draw_metrics(AppState& app, const Rect& area);
void draw_memory(AppState& app, const Rect& area, float font_px, const Palette& palette);
void draw_errors(AppState& app, const Rect& over, const Palette& palette);

/// A fixed, undecorated-or-titled window covering `area` (pair with ImGui::End()).
bool begin_fixed_window(const char* name, const Rect& area, bool title_bar, bool no_padding = false);
/// "(?)" that explains a concept in a sentence on hover (Dear ImGui demo style).
void help_marker(const char* text);

}  // namespace pipelab::viz
