// window.h — the GLFW window, its OpenGL 3 context and the ImGui context (RAII).
//
// Headless (`--headless`): the window stays hidden and every frame is drawn into an
// offscreen framebuffer of the requested size, so what a screenshot reads does not
// depend on a window manager or on the window being mapped (works under xvfb-run).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelab_viz/geometry.h"

struct GLFWwindow;

namespace pipelab::viz {

class Window {
 public:
  /// Opens the window and initializes ImGui. Throws std::runtime_error with the reason
  /// (no display, no OpenGL 3) — main() prints it.
  Window(int width, int height, bool headless, const char* title);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  bool should_close() const;
  /// Poll events (or wait briefly while idle) and start an ImGui frame.
  void begin_frame(bool idle);
  /// Render the ImGui frame over a cleared background: `background` everywhere, `canvas`
  /// (window pixels) in `canvas_colour` (both 0xAABBGGRR as ImGui packs colours). The
  /// dashboard's windows draw no background of their own: a clear costs llvmpipe almost
  /// nothing, a window-sized blended quad costs it a shaded fragment per pixel.
  void render(std::uint32_t background, const Rect& canvas, std::uint32_t canvas_colour);
  /// Present the frame (no-op when headless).
  void present();
  /// GL_RENDERER: "llvmpipe (LLVM 15.0.6, 256 bits)" under xvfb-run, the GPU's name on a desktop.
  std::string renderer() const;
  /// The rendered frame as RGBA rows, top row first. Call between render() and present().
  std::vector<std::uint8_t> read_pixels(int& width, int& height) const;

 private:
  GLFWwindow* window_ = nullptr;
  bool headless_ = false;
  int width_ = 0;
  int height_ = 0;
  unsigned framebuffer_ = 0;  // headless offscreen target
  unsigned colour_buffer_ = 0;
};

}  // namespace pipelab::viz
