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

/// The figures of one `--bench` run.
struct BenchRecord {
  double load_s = 0;               ///< reading the trace files into panels (load_trace_files)
  double first_frame_s = 0;        ///< from the start of main() to the end of the first frame with data
  std::vector<double> frame_ms;    ///< every frame with data, begin_frame → present (GL finished)
  double rss_first_frame_mb = 0;   ///< resident set after the first frame with data
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

/// "pipelab-viz bench: load_s=... first_frame_s=... first_frame_ms=... frame_ms_median=...
/// frame_ms_p90=... frames=N rss_first_mb=... rss_last_mb=... rss_growth_kb_per_frame=...
/// peak_rss_mb=... vertices=... triangles=..." — the median and p90 leave out the first frame (it lays out the
/// timeline, see TimelineCache), the growth is (last - first) / (frames - 1).
std::string bench_summary(const BenchRecord& record);

}  // namespace pipelab::viz
