// window.cpp — GLFW + OpenGL 3 + ImGui setup and teardown, frame begin/end, pixel readback.
#define GL_GLEXT_PROTOTYPES 1
#include "window.h"

#include <GL/gl.h>
#include <GL/glext.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace pipelab::viz {

namespace {
std::string g_glfw_error;  // filled by the GLFW error callback (C API, no user pointer at init)

void on_glfw_error(int code, const char* description) {
  g_glfw_error = "GLFW error " + std::to_string(code) + ": " + (description ? description : "?");
}
}  // namespace

Window::Window(int width, int height, bool headless, const char* title)
    : headless_(headless), width_(width), height_(height) {
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit())
    throw std::runtime_error("cannot open a window: " + g_glfw_error +
                             " (no display? run under `xvfb-run -a pipelab-viz --headless ...`)");
  // OpenGL 3.0 + GLSL 130, as Dear ImGui's GLFW/OpenGL3 example on Linux.
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  if (headless) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  window_ = glfwCreateWindow(width, height, title, nullptr, nullptr);
  if (!window_) {
    const std::string why = g_glfw_error;
    glfwTerminate();
    throw std::runtime_error("cannot create an OpenGL 3.0 window: " + why);
  }
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(1);

  if (headless) {
    // Offscreen target: an RGBA8 renderbuffer the size of the window.
    glGenFramebuffers(1, &framebuffer_);
    glGenRenderbuffers(1, &colour_buffer_);
    glBindRenderbuffer(GL_RENDERBUFFER, colour_buffer_);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, colour_buffer_);
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
      glfwDestroyWindow(window_);
      glfwTerminate();
      throw std::runtime_error("cannot create an offscreen framebuffer for --headless");
    }
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // fixed dashboard: nothing to remember, nothing written to the cwd
  ImGui_ImplGlfw_InitForOpenGL(window_, true);
  ImGui_ImplOpenGL3_Init("#version 130");
}

Window::~Window() {
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  if (framebuffer_) {
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glDeleteFramebuffers(1, &framebuffer_);
    glDeleteRenderbuffers(1, &colour_buffer_);
  }
  glfwDestroyWindow(window_);
  glfwTerminate();
}

bool Window::should_close() const { return glfwWindowShouldClose(window_) != 0; }

void Window::begin_frame(bool idle) {
  // While nothing moves, wait for input instead of spinning (a laptop on battery in class).
  if (idle && !headless_)
    glfwWaitEventsTimeout(0.1);
  else
    glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (headless_) {
    // A hidden window may report another size; the offscreen target is what we draw.
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(static_cast<float>(width_), static_cast<float>(height_));
    io.DisplayFramebufferScale = ImVec2(1, 1);
  }
  ImGui::NewFrame();
}

namespace {
void clear_to(std::uint32_t colour) {
  glClearColor((colour & 0xff) / 255.0f, ((colour >> 8) & 0xff) / 255.0f, ((colour >> 16) & 0xff) / 255.0f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
}
}  // namespace

void Window::render(std::uint32_t background, const Rect& canvas, std::uint32_t canvas_colour) {
  ImGui::Render();
  int w = width_, h = height_;
  if (!headless_) glfwGetFramebufferSize(window_, &w, &h);
  if (headless_) glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
  glViewport(0, 0, w, h);
  clear_to(background);
  if (!canvas.empty()) {
    // Window pixels → framebuffer pixels (HiDPI: the framebuffer may be larger), and
    // GL's rows count from the bottom.
    const ImVec2 scale = ImGui::GetIO().DisplayFramebufferScale;
    const int x0 = static_cast<int>(std::lround(canvas.x0 * scale.x));
    const int x1 = static_cast<int>(std::lround(canvas.x1 * scale.x));
    const int y0 = static_cast<int>(std::lround(canvas.y0 * scale.y));
    const int y1 = static_cast<int>(std::lround(canvas.y1 * scale.y));
    glEnable(GL_SCISSOR_TEST);
    glScissor(x0, h - y1, x1 - x0, y1 - y0);
    clear_to(canvas_colour);
    glDisable(GL_SCISSOR_TEST);
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

void Window::present() {
  if (!headless_)
    glfwSwapBuffers(window_);
  else
    glFinish();  // nothing swaps an offscreen frame: without this Mesa keeps every frame's buffers (~3 MB each)
}

std::string Window::renderer() const {
  const GLubyte* name = glGetString(GL_RENDERER);
  return name ? reinterpret_cast<const char*>(name) : "unknown";
}

std::vector<std::uint8_t> Window::read_pixels(int& width, int& height) const {
  width = width_;
  height = height_;
  if (!headless_) glfwGetFramebufferSize(window_, &width, &height);
  std::vector<std::uint8_t> rgba(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 4);
  if (headless_)
    glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
  else
    glReadBuffer(GL_BACK);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  // OpenGL's first row is the bottom one; PNG's is the top.
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  std::vector<std::uint8_t> flipped(rgba.size());
  for (int y = 0; y < height; ++y)
    std::copy_n(rgba.data() + static_cast<std::size_t>(height - 1 - y) * row, row,
                flipped.data() + static_cast<std::size_t>(y) * row);
  for (std::size_t i = 3; i < flipped.size(); i += 4) flipped[i] = 255;  // opaque, whatever GL left in alpha
  return flipped;
}

}  // namespace pipelab::viz
