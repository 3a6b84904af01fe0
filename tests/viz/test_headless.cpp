// test_headless.cpp — pipelab-viz renders under xvfb-run; its PNG is probed where the
// layout math says a box or a bubble is.
//
// The app runs headless at its default 1600x900 with the controls column shown, so the
// test recomputes the same ScreenLayout → TimelineLayout from the same traces (sim is
// deterministic to the bit) and reads pixels at:
//   - the inside of GPU 0's F0 box (the forward colour of micro-batch 0),
//   - GPU 3's idle time before its first forward in GPipe (the bubble colour),
//   - where each panel's step ends (its pixel length, in proportion to the step times).
// Without xvfb-run (or xauth), or when its X server has no OpenGL, every test here
// skips and says why.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pipelab/trace/trace_writer.h"
#include "pipelab_viz/screen_layout.h"
#include "pipelab_viz/timeline_layout.h"
#include "viz_test_util.h"

#ifdef PIPELAB_VIZ_HAVE_APP
#include <stb_image.h>
#endif

namespace pipelab::viz {
namespace {

using testing::demo_panels;

#ifdef PIPELAB_VIZ_HAVE_APP

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

std::string viz_binary() { return std::string(PIPELAB_BINARY_DIR) + "/bin/pipelab-viz"; }

/// Skip unless the app can run under a virtual X server here.
#define REQUIRE_XVFB()                                                                                       \
  do {                                                                                                       \
    if (!on_path("xvfb-run")) GTEST_SKIP() << "xvfb-run not found on PATH (apt install xvfb xauth)";         \
    if (!on_path("xauth")) GTEST_SKIP() << "xauth not found on PATH (xvfb-run needs it: apt install xauth)"; \
  } while (0)

struct RunResult {
  int exit_code = -1;
  std::string stderr_text;
  std::string stdout_text;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs `pipelab-viz --headless <args>` under xvfb-run.
RunResult run_headless_once(const std::string& args, const std::string& name) {
  const std::string err = ::testing::TempDir() + "pipelab_viz_" + name + ".stderr";
  const std::string out = ::testing::TempDir() + "pipelab_viz_" + name + ".stdout";
  // Mesa's dlopened GL driver leaks a few bytes at exit; in ASan builds that must not
  // fail the app (the library tests keep leak checking on for our own code).
  // The app's own exit status goes to a file: xvfb-run replaces it with its own (5) when
  // cleaning up its temporary directory fails, which happens when two tests' xvfb-run -a
  // race under ctest -j2 — a failure of the harness, not of the app.
  const std::string code = ::testing::TempDir() + "pipelab_viz_" + name + ".status";
  std::remove(code.c_str());
  const std::string cmd = "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 xvfb-run -a sh -c '" +
                          viz_binary() + " --headless " + args + " 2> " + err + " > " + out + "; echo $? > " + code +
                          "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const std::string app_status = read_text(code);
  if (!app_status.empty()) r.exit_code = std::atoi(app_status.c_str());
  r.stderr_text = read_text(err);
  r.stdout_text = read_text(out);
  return r;
}

/// The app says so when the X server has no usable OpenGL (an environment without Mesa).
bool no_opengl(const RunResult& r) {
  return r.exit_code == 1 && (r.stderr_text.find("cannot open a window") != std::string::npos ||
                              r.stderr_text.find("cannot create an OpenGL") != std::string::npos ||
                              r.stderr_text.find("offscreen framebuffer") != std::string::npos);
}

/// Runs the app; skips the test (with the app's reason) when this machine cannot give it OpenGL.
#define RUN_HEADLESS(result, args, name)                  \
  const RunResult result = run_headless_once(args, name); \
  if (no_opengl(result)) GTEST_SKIP() << "no OpenGL under xvfb-run: " << result.stderr_text

/// An RGBA image read with stb_image.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgba;

  Rgba at(float x, float y) const {
    const int px = static_cast<int>(x), py = static_cast<int>(y);
    const std::size_t i =
        (static_cast<std::size_t>(py) * static_cast<std::size_t>(width) + static_cast<std::size_t>(px)) * 4;
    return {rgba[i], rgba[i + 1], rgba[i + 2], 255};
  }
};

Image load_png(const std::string& path) {
  Image img;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &img.width, &img.height, &channels, 4);
  if (data) {
    img.rgba.assign(data, data + static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height) * 4);
    stbi_image_free(data);
  }
  return img;
}

std::string describe(Rgba c) {
  return "rgb(" + std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) + ")";
}

/// The layout the app computes for its default headless window.
TimelineLayout app_layout(const std::vector<Panel>& panels, bool gpu0_at_bottom) {
  ScreenParams screen;  // 1600x900, normal font, controls shown: the headless defaults
  TimelineParams params;
  params.canvas = layout_screen(screen).timeline;
  params.font_px = screen.font_px;
  params.gpu0_at_bottom = gpu0_at_bottom;
  return layout_timeline(panels, params, dark_palette());
}

/// A point inside a box, clear of its outline (1 px) and of its centred label.
Vec2 inside_box(const BoxLayout& box) { return {box.rect.centre().x, box.rect.y0 + 4.0f}; }

/// A pixel inside `r` that shows the plain bubble fill: half-way between hatch lines.
Vec2 between_hatch_lines(const Rect& r, Vec2 origin) {
  const float y = std::floor(r.centre().y);
  for (float x = std::floor(r.x0) + 3; x < r.x1 - 3; x += 1.0f)
    if (std::fabs(hatch_phase({x + 0.5f, y + 0.5f}, origin) - kHatchSpacingPx / 2) <= 0.5f) return {x, y};
  return {-1, -1};
}

/// Scanning left from `from_x` along row y: one past the last pixel that is not canvas.
float drawn_end(const Image& img, float from_x, float y, Rgba canvas) {
  for (float x = std::floor(from_x); x > 0; x -= 1.0f)
    if (colour_distance(img.at(x, y), canvas) > 8) return x + 1.0f;
  return 0;
}

constexpr int kTolerance = 3;  // 8-bit rounding of blended vertices

void expect_forward_boxes(const Image& img, const std::vector<Panel>& panels, const TimelineLayout& layout) {
  const Palette palette = dark_palette();
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const BoxLayout* f0 = find_box(panels[i], layout.panels[i], ActionKind::Forward, 0, 0);
    ASSERT_NE(f0, nullptr);
    const Vec2 p = inside_box(*f0);
    const Rgba want = action_fill(palette, ActionKind::Forward, 0, panels[i].microbatches());
    EXPECT_LE(colour_distance(img.at(p.x, p.y), want), kTolerance)
        << panels[i].title << ": GPU 0's F0 at (" << p.x << ", " << p.y << ") is " << describe(img.at(p.x, p.y))
        << ", want the forward colour " << describe(want);
  }
}

void expect_gpu3_bubble(const Image& img, const Panel& gpipe, const PanelLayout& pl, const TimelineLayout& layout) {
  const Palette palette = dark_palette();
  const BubbleLayout* fill = nullptr;
  for (const BubbleLayout& b : pl.bubbles)
    if (b.device == 3 && b.start_us == 0.0) fill = &b;
  ASSERT_NE(fill, nullptr) << "GPipe's GPU 3 waits for the fill";
  const Vec2 p = between_hatch_lines(fill->rect, layout.hatch_origin);
  ASSERT_GE(p.x, 0) << "bubble too narrow to probe";
  EXPECT_LE(colour_distance(img.at(p.x, p.y), palette.bubble), kTolerance)
      << "GPU 3 idle at (" << p.x << ", " << p.y << ") is " << describe(img.at(p.x, p.y)) << ", want the bubble colour "
      << describe(palette.bubble);
  // And the hatching is there: some pixel of the bubble is near the hatch colour.
  int hatch_pixels = 0;
  for (float x = std::floor(fill->rect.x0) + 1; x < fill->rect.x1 - 1; x += 1.0f)
    if (colour_distance(img.at(x, p.y), palette.bubble_hatch) <= 40) ++hatch_pixels;
  EXPECT_GT(hatch_pixels, 0) << "the bubble is hatched";
  (void)gpipe;
}

void expect_step_lengths(const Image& img, const std::vector<Panel>& panels, const TimelineLayout& layout) {
  const Palette palette = dark_palette();
  std::vector<float> ends;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const PanelLayout& pl = layout.panels[i];
    const float y = pl.rows[3].compute.y0 + 4;  // GPU 3: idle (bubble) up to the step's end in both runs
    const float end = drawn_end(img, layout.axis.x1 + 2, y, palette.canvas);
    EXPECT_NEAR(end, pl.step_end_x, 1.5) << panels[i].title << ": drawn step ends at x=" << end;
    EXPECT_LE(colour_distance(img.at(pl.step_end_x + 3, y), palette.canvas), 8) << "canvas after the step";
    ends.push_back(end - layout.axis.x0);
  }
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_NEAR(ends[0] / ends[1], panels[0].step_us / panels[1].step_us, 0.01)
      << "naive's and GPipe's drawn steps are in proportion to their measured step times";
}

TEST(Headless, DemoScreenshotMatchesTheTraceAtProbePoints) {
  REQUIRE_XVFB();
  PIPELAB_DEMO_PANELS(panels);
  const std::string png = ::testing::TempDir() + "pipelab_viz_demo.png";
  std::remove(png.c_str());
  RUN_HEADLESS(run, "--frames 3 --screenshot " + png, "demo");
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const Image img = load_png(png);
  ASSERT_EQ(img.width, kDefaultWidth) << "PNG missing or unreadable: " << png;
  ASSERT_EQ(img.height, kDefaultHeight);
  const TimelineLayout layout = app_layout(panels, true);
  expect_forward_boxes(img, panels, layout);
  expect_gpu3_bubble(img, panels[1], layout.panels[1], layout);
  expect_step_lengths(img, panels, layout);
}

TEST(Headless, Gpu0TopFlipsTheRows) {
  REQUIRE_XVFB();
  PIPELAB_DEMO_PANELS(panels);
  const std::string png = ::testing::TempDir() + "pipelab_viz_top.png";
  std::remove(png.c_str());
  RUN_HEADLESS(run, "--gpu0-top --frames 2 --screenshot " + png, "top");
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const Image img = load_png(png);
  ASSERT_EQ(img.width, kDefaultWidth);
  const TimelineLayout flipped = app_layout(panels, false);
  expect_forward_boxes(img, panels, flipped);
  // Where the default order has GPU 0's F0, the flipped picture shows GPU 3 idle (bubble).
  const TimelineLayout normal = app_layout(panels, true);
  const BoxLayout* f0 = find_box(panels[1], normal.panels[1], ActionKind::Forward, 0, 0);
  const Vec2 p = inside_box(*f0);
  EXPECT_GT(colour_distance(img.at(p.x, p.y), action_fill(dark_palette(), ActionKind::Forward, 0, 4)), 40);
}

TEST(Headless, TraceFilesFromPipelabCompareLoadInEitherOrder) {
  REQUIRE_XVFB();
  PIPELAB_DEMO_PANELS(panels);
  const std::string naive = ::testing::TempDir() + "pipelab_viz_x-naive.json";
  const std::string gpipe = ::testing::TempDir() + "pipelab_viz_x-gpipe.json";
  write_chrome_trace_file(panels[0].trace, naive);
  write_chrome_trace_file(panels[1].trace, gpipe);
  const std::string png = ::testing::TempDir() + "pipelab_viz_files.png";
  std::remove(png.c_str());
  // The shell's glob order (x-gpipe before x-naive): naive still goes on top.
  RUN_HEADLESS(run, gpipe + " " + naive + " --frames 2 --screenshot " + png, "files");
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const Image img = load_png(png);
  ASSERT_EQ(img.width, kDefaultWidth);
  const TimelineLayout layout = app_layout(panels, true);
  expect_forward_boxes(img, panels, layout);
  expect_step_lengths(img, panels, layout);
}

TEST(Headless, BrokenAndForeignFilesShowAnErrorAndStillRender) {
  REQUIRE_XVFB();
  const std::string broken = ::testing::TempDir() + "pipelab_viz_broken.json";
  std::ofstream(broken) << "{\"traceEvents\": [ {\"ph\": \"X\", \"ts\": ";
  const std::string foreign = ::testing::TempDir() + "pipelab_viz_foreign.json";
  std::ofstream(foreign) << "{\"traceEvents\": []}";
  const std::string png = ::testing::TempDir() + "pipelab_viz_broken.png";
  std::remove(png.c_str());
  RUN_HEADLESS(run, broken + " " + foreign + " --frames 2 --screenshot " + png, "broken");
  EXPECT_EQ(run.exit_code, 1) << "headless reports the failed load in its exit code";
  EXPECT_NE(run.stderr_text.find(broken), std::string::npos) << run.stderr_text;
  EXPECT_NE(run.stderr_text.find(foreign), std::string::npos) << run.stderr_text;
  EXPECT_EQ(run.stderr_text.find("terminate"), std::string::npos) << "no crash: " << run.stderr_text;
  const Image img = load_png(png);
  EXPECT_EQ(img.width, kDefaultWidth) << "the app kept running and rendered its error panel";
}

/// The number after "key=" in a `--bench` line, or NaN.
double bench_field(const std::string& line, const std::string& key) {
  const std::size_t at = line.find(" " + key + "=");
  return at == std::string::npos ? NAN : std::atof(line.c_str() + at + key.size() + 2);
}

TEST(Headless, MemoryStaysFlatOver1000Frames) {
  // Headless frames were once never finished and Mesa kept every frame's buffers (~3 MB
  // a frame at 1600x900, 1.66 GB after 403 frames). The smallest window keeps 1000 frames
  // to a few seconds on two cores; the buffers leaked then were ~1 MB a frame even so.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // ASan holds freed memory in its quarantine (256 MB by default) and both sanitizers keep
  // shadow memory, so the resident set grows with every free whether or not anything
  // leaks: it measures the sanitizer here, not pipelab-viz (ASan's leak check covers leaks).
  GTEST_SKIP() << "resident-set growth is not pipelab-viz's under a sanitizer (quarantine, shadow memory)";
#endif
  REQUIRE_XVFB();
  RUN_HEADLESS(run, "--bench --frames 1000 --size 640x400", "memory");
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const std::size_t at = run.stdout_text.find("pipelab-viz bench:");
  ASSERT_NE(at, std::string::npos) << run.stdout_text;
  const std::string line = run.stdout_text.substr(at, run.stdout_text.find('\n', at) - at);
  ASSERT_EQ(bench_field(line, "frames"), 1000) << line;
  const double at_100 = bench_field(line, "rss_100_mb"), at_1000 = bench_field(line, "rss_last_mb");
  ASSERT_GT(at_100, 0) << "resident set after frame 100: " << line;
  // 16 MiB over 900 frames is 18 KiB a frame: a leak of one frame's vertex buffers would
  // be ~50 times that; allocator noise and Mesa's caches stay well below it.
  EXPECT_LT(at_1000 - at_100, 16.0) << "resident set grew from " << at_100 << " MiB at frame 100 to " << at_1000
                                    << " MiB at frame 1000: " << line;
}

#else

TEST(Headless, SkippedWithoutTheApp) {
  GTEST_SKIP() << "pipelab-viz was not built (GLFW, OpenGL, imgui or stb missing at configure time)";
}

#endif

}  // namespace
}  // namespace pipelab::viz
