// ui_toolbar.cpp — playback: play/pause, step, scrub, speed, loop (keys: space, ←/→, Home).
#include <imgui.h>

#include <string>

#include "pipelab_viz/time_axis.h"
#include "ui.h"

namespace pipelab::viz {

void draw_toolbar(AppState& app, const Rect& area) {
  if (!begin_fixed_window("##toolbar", area, false)) return ImGui::End();
  Playback& pb = app.playback;
  const float f = ImGui::GetFontSize();

  if (ImGui::Button(app.show_controls ? "<<" : "Controls")) app.show_controls = !app.show_controls;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("show or hide the controls column (H)");
  ImGui::SameLine();
  if (ImGui::Button(pb.playing ? "Pause" : "Play", ImVec2(f * 4, 0))) pb.toggle();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("play / pause (space)");
  ImGui::SameLine();
  if (ImGui::Button("|<")) pb.home();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("back to the start of the step (Home)");
  ImGui::SameLine();
  if (ImGui::ArrowButton("##back", ImGuiDir_Left)) pb.step_back(app.boundaries);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("previous action start or end (left arrow)");
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next", ImGuiDir_Right)) pb.step_forward(app.boundaries);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("next action start or end (right arrow)");

  ImGui::SameLine();
  float t = static_cast<float>(pb.time_us);
  const std::string label = format_duration(pb.time_us) + " / " + format_duration(pb.end_us);
  ImGui::SetNextItemWidth(std::max(f * 10, ImGui::GetContentRegionAvail().x - f * 22));
  if (ImGui::SliderFloat("##scrub", &t, 0.0f, static_cast<float>(std::max(pb.end_us, 1e-9)), label.c_str())) pb.seek(t);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("scrub: the playhead in the step's own time");

  ImGui::SameLine();
  ImGui::SetNextItemWidth(f * 9);
  ImGui::SliderFloat("##speed", &pb.speed, kMinSpeed, kMaxSpeed, "speed %.1fx", ImGuiSliderFlags_Logarithmic);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("animation speed: at 1x the longest step takes %.0f s to play", kSecondsPerStepAt1x);
  ImGui::SameLine();
  ImGui::Checkbox("loop", &pb.loop);
  ImGui::SameLine();
  ImGui::TextDisabled("space  </>  Home");
  ImGui::End();
}

}  // namespace pipelab::viz
