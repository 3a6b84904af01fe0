// pipelab_viz/frame_stats.h — what `pipelab-viz --bench` measures: load time, frame times, memory.
//
//   xvfb-run -a pipelab-viz big.json --headless --bench --frames 100
//   pipelab-viz bench: load_s=3.41 first_frame_s=3.52 first_frame_ms=95.1 frame_ms_median=38.2 ...
//
// One key=value line on stdout (bench/viz_bench.sh reads it by key). Speed lives in
// benchmarks, not tests: nothing here is checked against a threshold.
#pragma once

#include <string>
#include <vector>

namespace pipelab::viz {

/// Where one frame's wall time went, in ms (--bench), in the order main() runs them.
struct FramePhases {
  double events_ms = 0;  ///< glfwPollEvents + the backends' and ImGui's NewFrame
  double ui_ms = 0;      ///< input, live runs, playback and draw_ui: building the draw lists
  double render_ms = 0;  ///< ImGui::Render + clear + RenderDrawData: vertex upload, GL draw calls queued
  double finish_ms = 0;  ///< after_render + present: headless glFinish, i.e. waiting for llvmpipe to rasterise
  double cpu_ms = 0;     ///< CPU time of the whole process (every thread, llvmpipe's included) in the frame
};

/// The figures of one `--bench` run.
struct BenchRecord {
  double load_s = 0;               ///< reading the trace files into panels (load_trace_files)
  double first_frame_s = 0;        ///< from the start of main() to the end of the first frame with data
  std::vector<double> frame_ms;    ///< every frame with data, begin_frame → present (GL finished)
  std::vector<FramePhases> phases; ///< the same frames, split by phase
  double rss_first_frame_mb = 0;   ///< resident set after the first frame with data
  double rss_frame_100_mb = 0;     ///< resident set after the 100th frame (0 with fewer): past the warm-up
  double rss_last_frame_mb = 0;    ///< resident set after the last frame
  long vertices = 0;               ///< ImGui vertices of the last frame (what the GPU, or llvmpipe, is given)
  long triangles = 0;              ///< ImGui triangles of the last frame (indices / 3)
};

/// The p-th percentile (0..100) of `values` by linear interpolation between order
/// statistics (p = 50: the median); 0 for no values.
double percentile(std::vector<double> values, double p);

/// Resident set of this process in MiB (/proc/self/statm: resident pages × page size); 0 where unknown.
double resident_set_mb();
/// Peak resident set of this process in MiB (getrusage ru_maxrss, KiB on Linux).
double peak_resident_set_mb();
/// CPU time of this process so far, all threads, in ms (CLOCK_PROCESS_CPUTIME_ID); 0 where unknown.
double process_cpu_ms();

/// "pipelab-viz bench: load_s=... first_frame_s=... first_frame_ms=... frame_ms_median=...
/// frame_ms_p90=... frames=N rss_first_mb=... rss_100_mb=... rss_last_mb=... rss_growth_kb_per_frame=...
/// peak_rss_mb=... vertices=... triangles=... events_ms=... ui_ms=... render_ms=... finish_ms=... cpu_ms=..."
/// — the median and p90 leave out the first frame (it lays out the timeline, see TimelineCache), the
/// growth is (last - first) / (frames - 1); the phases are medians over the same frames, each on its
/// own (so they need not add up to frame_ms_median exactly).
std::string bench_summary(const BenchRecord& record);

}  // namespace pipelab::viz
