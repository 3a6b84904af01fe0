// screenshot.h — the rendered window as a PNG (stb_image_write).
#pragma once

#include <string>

#include "pipelab_viz/geometry.h"

namespace pipelab::viz {

class Window;

/// Read the frame just rendered and write it to `path`, or only `crop` of it (window
/// pixels; empty = the whole window). Returns "" on success, else the reason (shown in
/// the status line; never throws).
std::string save_screenshot(const Window& window, const std::string& path, const Rect& crop = {});

}  // namespace pipelab::viz
