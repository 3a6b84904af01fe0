// options.cpp — pipelab-viz flags (CLI11), validated into VizOptions.
#include "pipelab_viz/options.h"

#include <CLI/CLI.hpp>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"

namespace pipelab::viz {

namespace {
// The --schedule choices: every registry row's CLI name.
std::vector<std::string> registry_names() {
  std::vector<std::string> names;
  for (const ScheduleInfo& row : schedule_registry()) names.push_back(row.name);
  return names;
}
}  // namespace

namespace {

ParsedArgs usage_error(const std::string& message) {
  ParsedArgs r;
  r.exit = true;
  r.exit_code = 2;
  r.message = "pipelab-viz: error: " + message + " (hint: see `pipelab-viz --help`)\n";
  return r;
}

}  // namespace

ParsedArgs parse_args(int argc, const char* const* argv) {
  ParsedArgs parsed;
  VizOptions& o = parsed.options;
  std::string size = std::to_string(kDefaultWidth) + "x" + std::to_string(kDefaultHeight);
  std::string schedule = "gpipe";
  std::string backend = "sim";
  std::vector<double> skew;
  bool single = false;

  CLI::App app{
      "pipelab-viz: naive model parallelism vs GPipe, animated across GPU 0..K-1.\n"
      "No arguments: the classroom demo (naive above GPipe, K=4, M=4, live on sim).\n"
      "Keys: space play/pause, left/right step, Home start, P presentation mode,\n"
      "F12 or S screenshot, G flip GPU order, H hide controls.",
      "pipelab-viz"};
  app.add_option("traces", o.trace_files,
                 "trace files from `pipelab run|compare --trace`, stacked on one time axis (up to 6 shown; "
                 "more are reported on screen)");
  app.add_flag("--headless", o.headless, "render in a hidden window (works under xvfb-run), write outputs, exit");
  app.add_option("--frames", o.frames, "frames to render before the screenshot (and, headless, before exiting)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--screenshot", o.screenshot_path, "write a PNG of the window after --frames frames");
  std::string crop = "window";
  app.add_option("--crop", crop, "what --screenshot saves: window or timeline")
      ->capture_default_str()
      ->check(CLI::IsMember({"window", "timeline"}));
  app.add_option("--svg", o.svg_path, "write the timeline as SVG (slides, handouts)");
  app.add_option("--size", size, "window size WIDTHxHEIGHT")->capture_default_str();
  app.add_flag("--presentation", o.presentation, "large fonts, high-contrast colours (projectors)");
  app.add_flag("--gpu0-top", o.gpu0_on_top, "draw GPU 0 as the top row (default: bottom, as in the GPipe paper)");
  app.add_flag("--hide-controls", o.hide_controls, "start with the controls column hidden");
  app.add_option("--playhead", o.playhead, "playhead at this fraction (0..1) of the longest step, paused")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--bench", o.bench,
               "print load time, frame times (median, p90) and memory at exit; with --headless needs no output file");
  app.add_option("-K,--devices", o.live.devices, "live: devices K (1-8)")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxLiveDevices));
  app.add_option("-M,--microbatches", o.live.microbatches, "live: micro-batches M (1-64)")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxLiveMicrobatches));
  app.add_option("--schedule", schedule, "live: " + schedule_names("|") + " (the bottom panel)")
      ->capture_default_str()
      ->check(CLI::IsMember(registry_names()));
  app.add_flag("--single", single, "live: show only --schedule, without naive above it");
  app.add_flag("--remat", o.live.remat, "live: re-materialization (recompute before backward)");
  app.add_option("--backend", backend, "live: sim (instant) or cpu (real kernels, runs in the background)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sim", "cpu", "cuda"}));
  app.add_option("--link-gbps", o.live.link_gbps, "live sim: link bandwidth in Gbit/s (0 = ideal)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--link-latency-us", o.live.link_latency_us, "live sim: per-transfer latency in us")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100000.0));
  app.add_option("--stage-skew", skew, "live sim: per-stage compute multipliers, e.g. 1,1,2,1")->delimiter(',');

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    parsed.exit = true;
    parsed.message = app.help();
    return parsed;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  const auto x = size.find('x');
  try {
    if (x == std::string::npos) throw std::invalid_argument("no x");
    std::size_t used = 0;
    o.width = std::stoi(size.substr(0, x), &used);
    if (used != x) throw std::invalid_argument("width");
    o.height = std::stoi(size.substr(x + 1), &used);
    if (used != size.size() - x - 1) throw std::invalid_argument("height");
  } catch (const std::exception&) {
    return usage_error("--size: expected WIDTHxHEIGHT such as 1600x900, got '" + size + "'");
  }
  if (o.width < 640 || o.height < 400 || o.width > 8192 || o.height > 8192)
    return usage_error("--size: " + size + " is outside 640x400 .. 8192x8192");
  if (skew.size() > kMaxLiveDevices) return usage_error("--stage-skew: at most 8 values");
  for (std::size_t i = 0; i < skew.size(); ++i) {
    if (!(skew[i] > 0.0) || skew[i] > 100.0)
      return usage_error("--stage-skew: value " + std::to_string(i) + " must be in (0, 100]");
    o.live.stage_skew[i] = static_cast<float>(skew[i]);
  }
  o.live.schedule = schedule_from_string(schedule);
  o.live.backend = backend_from_string(backend);
  o.live.compare_with_naive = !single;
  o.crop_timeline = crop == "timeline";
  if (o.headless && o.screenshot_path.empty() && o.svg_path.empty() && !o.bench)
    return usage_error("--headless needs --screenshot PATH, --svg PATH or --bench (there is nothing to look at)");
  return parsed;
}

}  // namespace pipelab::viz
