// style.h — fonts and ImGui colours for the normal and the presentation mode.
#pragma once

struct ImFont;

namespace pipelab::viz {

struct Fonts {
  ImFont* normal = nullptr;        ///< kFontPx
  ImFont* presentation = nullptr;  ///< kPresentationFontPx
  const char* source = "";         ///< the TTF path, or "ImGui default font"
};

/// Load both sizes once (the atlas is built before the first frame; switching modes
/// only switches fonts). Uses DejaVu Sans when installed, else ImGui's default font.
Fonts load_fonts();

/// ImGui colours and spacing: dark for the desktop, light high-contrast for projectors.
void apply_style(bool presentation);

}  // namespace pipelab::viz
