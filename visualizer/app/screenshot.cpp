// screenshot.cpp — glReadPixels → PNG.
#include "screenshot.h"

#include <stb_image_write.h>

#include <algorithm>

#include "window.h"

namespace pipelab::viz {

std::string save_screenshot(const Window& window, const std::string& path, const Rect& crop) {
  int width = 0, height = 0;
  const std::vector<std::uint8_t> rgba = window.read_pixels(width, height);
  if (width <= 0 || height <= 0) return "the window has no pixels to save";
  int x0 = 0, y0 = 0, w = width, h = height;
  if (!crop.empty()) {
    x0 = std::clamp(static_cast<int>(crop.x0), 0, width - 1);
    y0 = std::clamp(static_cast<int>(crop.y0), 0, height - 1);
    w = std::clamp(static_cast<int>(crop.x1) - x0, 1, width - x0);
    h = std::clamp(static_cast<int>(crop.y1) - y0, 1, height - y0);
  }
  const std::size_t stride = static_cast<std::size_t>(width) * 4;
  const std::uint8_t* first = rgba.data() + static_cast<std::size_t>(y0) * stride + static_cast<std::size_t>(x0) * 4;
  if (!stbi_write_png(path.c_str(), w, h, 4, first, static_cast<int>(stride)))
    return path + ": cannot write the PNG (does the folder exist, is it writable?)";
  return "";
}

}  // namespace pipelab::viz
