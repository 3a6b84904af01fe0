// frame_stats.cpp — percentiles, resident set, the --bench line (see frame_stats.h).
#include "pipelab_viz/frame_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace pipelab::viz {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Rank p/100 · (n - 1) between the order statistics below and above it.
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (rank - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double resident_set_mb() {
  std::ifstream statm("/proc/self/statm");
  long total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return 0;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double peak_resident_set_mb() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

double process_cpu_ms() {
  timespec t{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0) return 0;
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

namespace {
// Median of one phase over the frames after the first.
double phase_median(const std::vector<FramePhases>& phases, double FramePhases::*phase) {
  std::vector<double> values;
  for (std::size_t i = 1; i < phases.size(); ++i) values.push_back(phases[i].*phase);
  return percentile(values, 50);
}
}  // namespace

std::string bench_summary(const BenchRecord& r) {
  const std::size_t n = r.frame_ms.size();
  const std::vector<double> steady(r.frame_ms.begin() + (n > 1 ? 1 : 0), r.frame_ms.end());
  // Growth per frame after the first: (rss_last - rss_first) / (frames - 1), in KiB.
  const double growth_kb =
      n > 1 ? (r.rss_last_frame_mb - r.rss_first_frame_mb) * 1024.0 / static_cast<double>(n - 1) : 0;
  char line[768];
  std::snprintf(line, sizeof line,
                "pipelab-viz bench: load_s=%.3f first_frame_s=%.3f first_frame_ms=%.1f frame_ms_median=%.2f "
                "frame_ms_p90=%.2f frames=%zu rss_first_mb=%.1f rss_100_mb=%.1f rss_last_mb=%.1f "
                "rss_growth_kb_per_frame=%.1f "
                "peak_rss_mb=%.1f vertices=%ld triangles=%ld events_ms=%.2f ui_ms=%.2f render_ms=%.2f finish_ms=%.2f "
                "cpu_ms=%.2f",
                r.load_s, r.first_frame_s, n > 0 ? r.frame_ms.front() : 0.0, percentile(steady, 50),
                percentile(steady, 90), n, r.rss_first_frame_mb, r.rss_frame_100_mb, r.rss_last_frame_mb, growth_kb,
                peak_resident_set_mb(), r.vertices, r.triangles, phase_median(r.phases, &FramePhases::events_ms),
                phase_median(r.phases, &FramePhases::ui_ms), phase_median(r.phases, &FramePhases::render_ms),
                phase_median(r.phases, &FramePhases::finish_ms), phase_median(r.phases, &FramePhases::cpu_ms));
  return line;
}

}  // namespace pipelab::viz
