// pipelab_viz/options.h — the command line of pipelab-viz.
//
//   pipelab-viz                       classroom demo: naive vs GPipe, K=4, M=4, live on sim
//   pipelab-viz a.json [b.json ...]   traces written by `pipelab run|compare --trace`, stacked (up to 6)
//   pipelab-viz --headless --frames 3 --screenshot out.png   render without a visible window
//   pipelab-viz big.json --headless --bench --frames 100      load time, frame times, memory (frame_stats.h)
//
// Parsing is separate from the app so it is tested without a display.
#pragma once

#include <string>
#include <vector>

#include "pipelab_viz/live_run.h"
#include "pipelab_viz/screen_layout.h"

namespace pipelab::viz {

/// Everything the command line sets.
struct VizOptions {
  std::vector<std::string> trace_files;  ///< any number; the first kMaxStackedPanels that load are shown
  LiveSettings live;                     ///< used when no trace files are given
  bool headless = false;                 ///< hidden window, exits after `frames` frames
  int frames = 3;                        ///< headless: frames rendered before the screenshot and exit
  std::string screenshot_path;           ///< PNG written after `frames` frames ("" = none)
  bool crop_timeline = false;            ///< the PNG holds only the timeline panel (for handouts, README frames)
  std::string svg_path;                  ///< SVG of the timeline written once the panels are ready
  int width = kDefaultWidth;             ///< window width in pixels
  int height = kDefaultHeight;           ///< window height in pixels
  bool presentation = false;             ///< large fonts, high contrast
  bool gpu0_on_top = false;              ///< GPU 0 as the top row
  bool hide_controls = false;            ///< start with the controls hidden
  double playhead = -1;                  ///< fraction 0..1 of the longest step; < 0: headless = end, else animate
  bool bench = false;                    ///< print load time, frame times and memory at exit (bench_summary)
};

/// The result of parse_args.
struct ParsedArgs {
  VizOptions options;   ///< valid when !exit
  bool exit = false;    ///< --help or a usage error: print `message` and exit with `exit_code`
  int exit_code = 0;    ///< 0 for --help, 2 for a usage error
  std::string message;  ///< help text or the error, ready to print
};

/// Parse argv. Never throws and never exits: errors come back in ParsedArgs
/// (exit_code 2, message naming the flag), --help with exit_code 0.
ParsedArgs parse_args(int argc, const char* const* argv);

}  // namespace pipelab::viz
