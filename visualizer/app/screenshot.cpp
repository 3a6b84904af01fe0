// screenshot.cpp — glReadPixels → PNG.
#include "screenshot.h"

#include <stb_image_write.h>

#include "window.h"

namespace pipelab::viz {

std::string save_screenshot(const Window& window, const std::string& path) {
  int width = 0, height = 0;
  const std::vector<std::uint8_t> rgba = window.read_pixels(width, height);
  if (width <= 0 || height <= 0) return "the window has no pixels to save";
  if (!stbi_write_png(path.c_str(), width, height, 4, rgba.data(), width * 4))
    return path + ": cannot write the PNG (does the folder exist, is it writable?)";
  return "";
}

}  // namespace pipelab::viz
