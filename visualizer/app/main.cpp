// main.cpp — pipelab-viz: naive model parallelism vs GPipe, animated across GPU 0..K-1.
//
//   pipelab-viz                                   classroom demo (live on sim)
//   pipelab-viz x-naive.json x-gpipe.json         traces from `pipelab compare --trace x.json`
//   xvfb-run -a pipelab-viz --headless --frames 3 --screenshot out.png
//   xvfb-run -a pipelab-viz big.json --headless --bench --frames 100   (bench/viz_bench.sh)
//
// main() reads: setup → loop → cleanup (in reverse, by the destructors).
#include <imgui.h>
#include <malloc.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "app_state.h"
#include "style.h"
#include "ui.h"
#include "window.h"

using namespace pipelab::viz;

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

int main(int argc, char** argv) {
  const Clock::time_point started = Clock::now();
  // 1. Command line.
  const ParsedArgs args = parse_args(argc, argv);
  if (args.exit) {
    (args.exit_code == 0 ? std::cout : std::cerr) << args.message;
    return args.exit_code;
  }

  // 2. Setup: heap, app state, window + OpenGL + ImGui, fonts.
#ifdef __GLIBC__
  // Mesa's llvmpipe allocates and frees a few MB of buffers every frame. glibc gives the
  // freed top of the heap back to the kernel (trim threshold 128 KiB), so the next frame
  // faults the same pages in again, zeroed: a third of a K=8 M=512 frame went to that.
  // Keeping up to 64 MiB free at the top costs no memory that a frame would not take again.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  AppState app;
  init_app_state(app, args.options);
  std::optional<Window> window;
  try {
    window.emplace(args.options.width, args.options.height, args.options.headless, "pipelab-viz");
  } catch (const std::exception& e) {
    std::cerr << "pipelab-viz: error: " << e.what() << std::endl;
    return 1;
  }
  const Fonts fonts = load_fonts();

  // 3. First data: the trace files given, else the live demo (runs in update_live).
  if (!args.options.trace_files.empty()) {
    const Clock::time_point load_start = Clock::now();
    load_trace_files(app, args.options.trace_files);
    app.bench.load_s = seconds_since(load_start);
  }

  // 4. Main loop.
  while (!window->should_close() && !app.quit) {
    // 4.1 Events, new frame (sleeps while nothing moves).
    const Clock::time_point frame_start = Clock::now();
    const double cpu_start = args.options.bench ? process_cpu_ms() : 0;
    const int frames_before = app.frames_with_data;
    window->begin_frame(is_idle(app));
    const Clock::time_point events_done = Clock::now();
    // 4.2 Input, live re-runs, finished background runs.
    handle_keys(app);
    update_live(app);
    // 4.3 Animation.
    app.playback.advance(ImGui::GetIO().DeltaTime);
    // 4.4 The dashboard.
    draw_ui(app, fonts);
    const Clock::time_point ui_done = Clock::now();
    // 4.5 Render, then screenshots/SVG/headless exit, then present.
    window->render(ImGui::GetColorU32(ImGuiCol_WindowBg), app.timeline_canvas,
                   palette_for(app.presentation).canvas.packed());
    const Clock::time_point render_done = Clock::now();
    after_render(app, *window);
    window->present();
    // 4.6 --bench: frames with data, from begin_frame to present (headless: GL finished).
    if (args.options.bench && app.frames_with_data > frames_before) {
      const Clock::time_point frame_end = Clock::now();
      const auto ms = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
      };
      app.bench.frame_ms.push_back(ms(frame_start, frame_end));
      app.bench.phases.push_back({ms(frame_start, events_done), ms(events_done, ui_done), ms(ui_done, render_done),
                                  ms(render_done, frame_end), process_cpu_ms() - cpu_start});
      app.bench.rss_last_frame_mb = resident_set_mb();
      const ImDrawData* drawn = ImGui::GetDrawData();
      app.bench.vertices = drawn ? drawn->TotalVtxCount : 0;
      app.bench.triangles = drawn ? drawn->TotalIdxCount / 3 : 0;
      if (app.bench.frame_ms.size() == 100) app.bench.rss_frame_100_mb = app.bench.rss_last_frame_mb;
      if (app.bench.frame_ms.size() == 1) {
        app.bench.first_frame_s = seconds_since(started);
        app.bench.rss_first_frame_mb = app.bench.rss_last_frame_mb;
      }
    }
    if (args.options.headless && app.background.running())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waiting for a cpu run
  }

  // 5. Cleanup, in reverse: ImGui and GLFW shut down (Window), then a cpu run still in
  //    flight is joined when `app` goes out of scope (BackgroundRun).
  const int exit_code = app.exit_code;
  const std::string renderer = window->renderer();
  window.reset();
  if (args.options.bench) {
    std::cout << bench_summary(app.bench) << '\n';
    std::cout << "pipelab-viz bench renderer: " << renderer << std::endl;
  }
  return exit_code;
}
