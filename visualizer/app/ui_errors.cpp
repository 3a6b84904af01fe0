// ui_errors.cpp — the error panel: what failed to load or run, and what to do.
#include <imgui.h>

#include "ui.h"

namespace pipelab::viz {

void draw_errors(AppState& app, const Rect& over, const Palette& palette) {
  if (app.errors.empty()) return;
  const float f = ImGui::GetFontSize();
  const float w = std::min(over.width() - f * 2, f * 46);
  ImGui::SetNextWindowPos(ImVec2(over.x0 + (over.width() - w) * 0.5f, over.y0 + f), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(w, 0), ImGuiCond_Always);
  ImGui::PushStyleColor(ImGuiCol_TitleBg, palette.error.packed());
  ImGui::PushStyleColor(ImGuiCol_TitleBgActive, palette.error.packed());
  ImGui::PushStyleColor(ImGuiCol_Border, palette.error.packed());
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 2.0f);
  const bool open = ImGui::Begin("Problem", nullptr,
                                 ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_AlwaysAutoResize);
  ImGui::PopStyleVar();
  ImGui::PopStyleColor(3);
  if (open) {
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + w - f * 2);
    for (const ErrorEntry& e : app.errors) {
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette.error.packed()), "%s", e.source.c_str());
      ImGui::TextUnformatted(e.message.c_str());
      if (!e.hint.empty()) ImGui::TextDisabled("hint: %s", e.hint.c_str());
      ImGui::Separator();
    }
    ImGui::PopTextWrapPos();
    if (app.panels.empty()) ImGui::TextUnformatted("Nothing else to show. The app keeps running:");
    if (ImGui::Button("Dismiss")) app.errors.clear();
    if (!app.live) {
      ImGui::SameLine();
      if (ImGui::Button("Open the live demo")) start_live(app);
    }
  }
  ImGui::End();
}

}  // namespace pipelab::viz
