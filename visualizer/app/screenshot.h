// screenshot.h — the rendered window as a PNG (stb_image_write).
#pragma once

#include <string>

namespace pipelab::viz {

class Window;

/// Read the frame just rendered and write it to `path`. Returns "" on success,
/// else the reason (shown in the status line; never throws).
std::string save_screenshot(const Window& window, const std::string& path);

}  // namespace pipelab::viz
