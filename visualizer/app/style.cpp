// style.cpp — fonts and themes.
#include "style.h"

#include <imgui.h>

#include <fstream>

#include "pipelab_viz/screen_layout.h"

namespace pipelab::viz {

namespace {
bool readable(const char* path) { return std::ifstream(path).good(); }

ImFont* add_font(const char* ttf, float px) {
  ImGuiIO& io = ImGui::GetIO();
  if (ttf) return io.Fonts->AddFontFromFileTTF(ttf, px);
  ImFontConfig config;
  config.SizePixels = px;
  return io.Fonts->AddFontDefault(&config);
}
}  // namespace

Fonts load_fonts() {
  static const char* const kCandidates[] = {
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
      "/usr/share/fonts/TTF/DejaVuSans.ttf",
      "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  };
  const char* ttf = nullptr;
  for (const char* path : kCandidates)
    if (readable(path)) {
      ttf = path;
      break;
    }
  Fonts fonts;
  fonts.normal = add_font(ttf, kFontPx);
  fonts.presentation = add_font(ttf, kPresentationFontPx);
  fonts.source = ttf ? ttf : "ImGui default font";
  return fonts;
}

void apply_style(bool presentation) {
  ImGuiStyle& style = ImGui::GetStyle();
  style = ImGuiStyle();
  if (presentation) {
    ImGui::StyleColorsLight(&style);
    ImVec4* c = style.Colors;
    c[ImGuiCol_Text] = ImVec4(0, 0, 0, 1);
    c[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
    c[ImGuiCol_ChildBg] = ImVec4(1, 1, 1, 1);
    c[ImGuiCol_Border] = ImVec4(0, 0, 0, 0.6f);
    c[ImGuiCol_FrameBg] = ImVec4(0.88f, 0.88f, 0.88f, 1);
    c[ImGuiCol_PlotHistogram] = ImVec4(0.0f, 0.31f, 0.78f, 1);
    style.FrameBorderSize = 1.0f;
    style.WindowBorderSize = 2.0f;
  } else {
    ImGui::StyleColorsDark(&style);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(0.075f, 0.08f, 0.095f, 1);
    style.Colors[ImGuiCol_PlotHistogram] = ImVec4(0.20f, 0.47f, 0.90f, 1);
  }
  style.WindowRounding = 0;
  style.FrameRounding = 3;
  style.GrabRounding = 3;
  style.ScaleAllSizes(presentation ? kPresentationFontPx / kFontPx : 1.0f);
}

}  // namespace pipelab::viz
