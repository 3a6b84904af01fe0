// ui_dashboard.cpp — one frame of the dashboard: style, fonts, panels in their places.
#include <imgui.h>

#include "pipelab_viz/screen_layout.h"
#include "ui.h"

namespace pipelab::viz {

bool begin_fixed_window(const char* name, const Rect& area, bool title_bar, bool no_padding) {
  ImGui::SetNextWindowPos(ImVec2(area.x0, area.y0), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(area.width(), area.height()), ImGuiCond_Always);
  // No background: Window::render clears the dashboard to WindowBg (and the timeline to
  // the canvas colour) before ImGui draws, which llvmpipe does far faster than a quad.
  ImGuiWindowFlags flags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                           ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                           ImGuiWindowFlags_NoBackground;
  if (!title_bar) flags |= ImGuiWindowFlags_NoTitleBar;
  if (no_padding) {
    flags |= ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  }
  const bool open = ImGui::Begin(name, nullptr, flags);
  if (no_padding) ImGui::PopStyleVar();
  return open;
}

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void draw_ui(AppState& app, const Fonts& fonts) {
  if (app.applied_style != static_cast<int>(app.presentation)) {
    // Turning presentation on gives the timeline the whole width (Controls / H brings them back).
    if (app.applied_style != -1) app.show_controls = !app.presentation;
    apply_style(app.presentation);
    app.applied_style = static_cast<int>(app.presentation);
  }
  const float font_px = font_px_for(app.presentation);
  const Palette palette = palette_for(app.presentation);
  ImGui::PushFont(app.presentation ? fonts.presentation : fonts.normal);

  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ScreenParams params;
  params.width = static_cast<int>(display.x);
  params.height = static_cast<int>(display.y);
  params.font_px = font_px;
  params.show_controls = app.show_controls;
  const ScreenLayout screen = layout_screen(params);
  app.timeline_area = screen.timeline;
  app.timeline_canvas = screen.timeline;

  if (app.show_controls) draw_controls(app, screen.controls);
  draw_toolbar(app, screen.toolbar);
  draw_timeline(app, screen.timeline, font_px, palette);
  draw_metrics(app, screen.metrics);
  draw_memory(app, screen.memory, font_px, palette);
  draw_errors(app, screen.timeline, palette);

  ImGui::PopFont();
}

}  // namespace pipelab::viz
