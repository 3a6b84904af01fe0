// app_state.h — all state of pipelab-viz in one struct, and the operations on it
// that are not drawing (loading, running, keys, exports).
//
// [SECTION] AppState
// [SECTION] Data: trace files and live runs
// [SECTION] Input and exports
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pipelab_viz/frame_stats.h"
#include "pipelab_viz/geometry.h"
#include "pipelab_viz/live_run.h"
#include "pipelab_viz/memory_series.h"
#include "pipelab_viz/options.h"
#include "pipelab_viz/panel.h"
#include "pipelab_viz/playback.h"
#include "pipelab_viz/timeline_layout.h"

namespace pipelab::viz {

class Window;

//-----------------------------------------------------------------------------
// [SECTION] AppState
//-----------------------------------------------------------------------------

/// One problem for the error panel: what failed (a path or "live run") and why.
struct ErrorEntry {
  std::string source;
  std::string message;  ///< pipelab::Error message (names the field / traceEvents[i])
  std::string hint;
};

/// The timeline's layout, kept while the panels, the canvas, the font and the row order
/// stay the same: it does not depend on the playhead, and a 1.8 M-span trace costs tens
/// of milliseconds to lay out (level of detail included), too much for every frame.
struct TimelineCache {
  bool valid = false;
  std::uint64_t generation = 0;  ///< AppState::panels_generation it was computed for
  Rect canvas;
  float font_px = 0;
  bool gpu0_at_bottom = true;
  bool presentation = false;
  TimelineLayout layout;
  std::vector<HatchLine> hatch;  ///< scratch for the bubble hatch of one bubble
};

/// The memory plot's lines in pixels, kept while the panel, the view and the plot stay.
struct MemoryPlotCache {
  bool valid = false;
  std::uint64_t generation = 0;  ///< AppState::panels_generation it was computed for
  int panel = -1;
  MemoryView view = MemoryView::Stash;
  Rect plot;
  std::uint64_t y_max = 1;               ///< memory_max of the panel and view
  std::vector<std::vector<Vec2>> lines;  ///< per device: the whole step, thinned to pixel columns
  std::vector<Vec2> before, after;       ///< scratch: one line cut at the playhead
};

struct AppState {
  VizOptions options;

  // What is shown: up to kMaxStackedPanels panels, from files, or one or two from live runs.
  std::vector<Panel> panels;
  std::size_t runs_not_shown = 0;  ///< trace files loaded beyond kMaxStackedPanels (the timeline says so)
  std::uint64_t panels_generation = 0;  ///< +1 whenever `panels` is replaced (invalidates the caches)
  bool live = true;             ///< panels come from `settings` (false: from trace files)
  LiveSettings settings;        ///< the controls
  LiveSettings shown_settings;  ///< what the live panels were run with
  bool have_shown_settings = false;
  BackgroundRun background;  ///< cpu runs
  std::vector<ErrorEntry> errors;

  // Animation.
  Playback playback;
  std::vector<double> boundaries;  ///< action starts/ends for ←/→

  // View.
  bool presentation = false;
  int applied_style = -1;  ///< the mode apply_style() last ran for (-1: none yet)
  bool gpu0_at_bottom = true;
  bool show_controls = true;
  MemoryView memory_view = MemoryView::Stash;
  int memory_panel = 0;  ///< which panel the memory plot shows
  TimelineCache timeline_cache;
  MemoryPlotCache memory_cache;

  // Trace file inputs in the controls column.
  std::array<std::array<char, 512>, kMaxStackedPanels> paths{};  ///< top to bottom

  // Exports and exit.
  std::string status;  ///< last export / load message
  bool screenshot_requested = false;
  int export_counter = 0;
  Rect timeline_area;               ///< the part of the window the timeline drew on (for --crop timeline)
  Rect timeline_canvas;             ///< the timeline's whole rectangle (Window::render clears it to the canvas)
  int frames_with_data = 0;         ///< frames rendered since the panels were ready
  bool playhead_placed = false;     ///< the first panels set the playhead (play from 0, or --playhead)
  bool screenshot_written = false;  ///< --screenshot done
  bool svg_written = false;
  bool quit = false;
  int exit_code = 0;
  BenchRecord bench;  ///< --bench: what main() measured
};

/// Initial state from the command line (settings, view flags).
void init_app_state(AppState& app, const VizOptions& options);

//-----------------------------------------------------------------------------
// [SECTION] Data: trace files and live runs
//-----------------------------------------------------------------------------

/// Replace the panels (playhead, ←/→ boundaries and memory selection follow).
void set_panels(AppState& app, std::vector<Panel> panels);
/// Load trace files; failures go to the error panel, the good files are shown stacked (the
/// first kMaxStackedPanels of them; the timeline reports the others).
void load_trace_files(AppState& app, const std::vector<std::string>& paths);
/// Switch to the live demo with the current settings.
void start_live(AppState& app);
/// Once per frame: re-run sim when the settings changed, collect a finished cpu run.
void update_live(AppState& app);
/// Start a run now (the Run button): sim on this thread, cpu/cuda in the background.
void run_now(AppState& app);

//-----------------------------------------------------------------------------
// [SECTION] Input and exports
//-----------------------------------------------------------------------------

/// Keyboard: space, ←/→, Home, P, G, H, S/F12 (ignored while typing in a text field).
void handle_keys(AppState& app);
/// After a frame was rendered: screenshot and SVG requests, headless exit.
void after_render(AppState& app, const Window& window);
/// Timeline SVG to `path`; returns "" or the reason it failed.
std::string export_svg(const AppState& app, const std::string& path);
/// Whether anything is moving (animation, background run): else the loop may sleep.
bool is_idle(const AppState& app);

}  // namespace pipelab::viz
