// app_state.cpp — loading, live runs, keys and exports (no drawing here).
//
// [SECTION] Setup
// [SECTION] Data: trace files and live runs
// [SECTION] Input and exports
#include "app_state.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <iostream>

#include "pipelab/error.h"
#include "pipelab_viz/svg_export.h"
#include "screenshot.h"
#include "window.h"

namespace pipelab::viz {

//-----------------------------------------------------------------------------
// [SECTION] Setup
//-----------------------------------------------------------------------------

namespace {
void copy_path(std::array<char, 512>& buffer, const std::string& path) {
  const std::size_t n = std::min(path.size(), buffer.size() - 1);
  std::copy_n(path.begin(), n, buffer.begin());
  buffer[n] = '\0';
}

void add_error(AppState& app, ErrorEntry entry) {
  std::cerr << "pipelab-viz: error: " << entry.message << (entry.hint.empty() ? "" : " (hint: " + entry.hint + ")")
            << std::endl;
  app.errors.push_back(std::move(entry));
}

void drop_errors_from(AppState& app, const std::string& source) {
  app.errors.erase(
      std::remove_if(app.errors.begin(), app.errors.end(), [&](const ErrorEntry& e) { return e.source == source; }),
      app.errors.end());
}

constexpr const char* kLiveSource = "live run";
}  // namespace

void init_app_state(AppState& app, const VizOptions& options) {
  app.options = options;
  app.settings = options.live;
  app.presentation = options.presentation;
  app.gpu0_at_bottom = !options.gpu0_on_top;
  app.show_controls = !options.hide_controls && !options.presentation;
  for (std::size_t i = 0; i < options.trace_files.size() && i < app.paths.size(); ++i)
    copy_path(app.paths[i], options.trace_files[i]);
}

//-----------------------------------------------------------------------------
// [SECTION] Data: trace files and live runs
//-----------------------------------------------------------------------------

void set_panels(AppState& app, std::vector<Panel> panels) {
  const std::size_t before = app.panels.size();
  app.panels = std::move(panels);
  ++app.panels_generation;
  double longest = 0;
  for (const Panel& p : app.panels) longest = std::max(longest, p.step_us);
  app.playback.set_end(longest);
  app.boundaries = action_boundaries(app.panels);
  // The memory plot shows the pipelined run (the last) unless the user picked another.
  if (app.panels.size() != before) app.memory_panel = std::max(0, static_cast<int>(app.panels.size()) - 1);
  app.frames_with_data = 0;
  const bool fixed = app.options.headless || (app.options.playhead >= 0 && !app.playhead_placed);
  if (fixed) {
    // Headless pictures are deterministic: paused at --playhead, or at the end (every box filled).
    app.playback.playing = false;
    app.playback.seek(app.options.playhead >= 0 ? app.options.playhead * longest : longest);
  } else if (!app.playhead_placed && !app.panels.empty()) {
    app.playback.time_us = 0;  // the demo opens by sweeping the step once
    app.playback.playing = true;
  }
  if (!app.panels.empty()) app.playhead_placed = true;
}

void load_trace_files(AppState& app, const std::vector<std::string>& paths) {
  app.live = false;
  app.errors.clear();
  std::vector<Panel> panels;
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    try {
      panels.push_back(load_panel(path));
    } catch (const Error& e) {
      add_error(app, {path, e.message(), e.hint()});
    } catch (const std::exception& e) {
      add_error(app, {path, path + ": " + e.what(), ""});
    }
  }
  order_naive_first(panels);
  app.status = std::to_string(panels.size()) + " of " + std::to_string(paths.size()) + " trace file(s) loaded";
  app.runs_not_shown = keep_stackable(panels);
  if (app.runs_not_shown > 0) {
    const std::string note = stacked_runs_note(panels.size(), app.runs_not_shown);
    std::cerr << "pipelab-viz: " << note << std::endl;
    app.status += ": " + note;
  }
  set_panels(app, std::move(panels));
}

void start_live(AppState& app) {
  app.live = true;
  app.runs_not_shown = 0;
  app.errors.clear();
  app.have_shown_settings = false;
  app.status = "live demo";
}

namespace {
void run_sim_now(AppState& app) {
  app.shown_settings = app.settings;  // also on failure: do not retry the same settings every frame
  app.have_shown_settings = true;
  try {
    std::vector<Panel> panels = run_live(app.settings);
    drop_errors_from(app, kLiveSource);
    set_panels(app, std::move(panels));
  } catch (const Error& e) {
    drop_errors_from(app, kLiveSource);
    add_error(app, {kLiveSource, e.message(), e.hint()});
  } catch (const std::exception& e) {
    drop_errors_from(app, kLiveSource);
    add_error(app, {kLiveSource, e.what(), ""});
  }
}
}  // namespace

void run_now(AppState& app) {
  if (!app.live) start_live(app);
  if (app.settings.backend == BackendKind::Sim) {
    run_sim_now(app);
  } else if (app.background.start(app.settings)) {
    app.status = std::string("running on ") + to_string(app.settings.backend) + " in the background";
  }
}

void update_live(AppState& app) {
  BackgroundRun::Outcome done = app.background.take();
  if (done.ready && app.live) {
    app.shown_settings = done.settings;
    app.have_shown_settings = true;
    drop_errors_from(app, kLiveSource);
    if (done.error.empty()) {
      set_panels(app, std::move(done.panels));
      app.status = std::string("finished on ") + to_string(done.settings.backend);
    } else {
      add_error(app, {kLiveSource, done.error, ""});
    }
  }
  if (!app.live || app.background.running()) return;
  const bool changed = !app.have_shown_settings || app.settings != app.shown_settings;
  if (!changed) return;
  if (app.settings.backend == BackendKind::Sim)
    run_sim_now(app);  // instant: follow the sliders
  else if (!app.have_shown_settings)
    run_now(app);  // first cpu run starts by itself
}

//-----------------------------------------------------------------------------
// [SECTION] Input and exports
//-----------------------------------------------------------------------------

void handle_keys(AppState& app) {
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  auto pressed = [](int key, bool repeat = false) { return ImGui::IsKeyPressed(key, repeat); };
  if (pressed(ImGui::GetKeyIndex(ImGuiKey_Space))) app.playback.toggle();
  if (pressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow), true)) app.playback.step_forward(app.boundaries);
  if (pressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow), true)) app.playback.step_back(app.boundaries);
  if (pressed(ImGui::GetKeyIndex(ImGuiKey_Home))) app.playback.home();
  if (pressed(GLFW_KEY_P)) app.presentation = !app.presentation;
  if (pressed(GLFW_KEY_G)) app.gpu0_at_bottom = !app.gpu0_at_bottom;
  if (pressed(GLFW_KEY_H)) app.show_controls = !app.show_controls;
  if (pressed(GLFW_KEY_S) || pressed(GLFW_KEY_F12)) app.screenshot_requested = true;
}

std::string export_svg(const AppState& app, const std::string& path) {
  try {
    write_timeline_svg(app.panels, path, app.presentation, app.gpu0_at_bottom);
    return "";
  } catch (const Error& e) {
    return e.message();
  }
}

void after_render(AppState& app, const Window& window) {
  if (app.screenshot_requested) {  // the S key: whatever is on screen, progress bar included
    app.screenshot_requested = false;
    const std::string path = "pipelab-viz-" + std::to_string(++app.export_counter) + ".png";
    const std::string why = save_screenshot(window, path);
    app.status = why.empty() ? "screenshot saved to " + path : why;
  }
  // The command line's outputs wait for the data (a cpu run may take seconds).
  const bool ready = !app.background.running() && (!app.live || app.have_shown_settings);
  if (!ready) return;
  ++app.frames_with_data;
  if (!app.screenshot_written && !app.options.screenshot_path.empty() && app.frames_with_data >= app.options.frames) {
    app.screenshot_written = true;
    const std::string why =
        save_screenshot(window, app.options.screenshot_path, app.options.crop_timeline ? app.timeline_area : Rect{});
    if (why.empty()) {
      std::cout << "pipelab-viz: wrote " << app.options.screenshot_path << std::endl;
    } else {
      std::cerr << "pipelab-viz: error: " << why << std::endl;
      app.exit_code = 1;
    }
  }
  if (!app.svg_written && !app.options.svg_path.empty() && !app.panels.empty()) {
    app.svg_written = true;
    const std::string why = export_svg(app, app.options.svg_path);
    if (why.empty()) {
      std::cout << "pipelab-viz: wrote " << app.options.svg_path << std::endl;
    } else {
      std::cerr << "pipelab-viz: error: " << why << std::endl;
      app.exit_code = 1;
    }
  }
  if (app.options.headless && app.frames_with_data >= app.options.frames) {
    if (!app.options.svg_path.empty() && !app.svg_written) {
      std::cerr << "pipelab-viz: error: no panels to export to " << app.options.svg_path << std::endl;
      app.exit_code = 1;
    }
    // Headless runs are scripts: a trace that did not load is a failure (after the picture).
    if (!app.errors.empty()) app.exit_code = 1;
    app.quit = true;
  }
}

bool is_idle(const AppState& app) {
  return !app.playback.playing && !app.background.running() && !app.screenshot_requested &&
         (app.options.screenshot_path.empty() || app.screenshot_written);
}

}  // namespace pipelab::viz
