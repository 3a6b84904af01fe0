// frame_stats.cpp — percentiles, resident set, the --bench line (see frame_stats.h).
#include "pipelab_viz/frame_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

std::string bench_summary(const BenchRecord& r) {
  const std::size_t n = r.frame_ms.size();
  const std::vector<double> steady(r.frame_ms.begin() + (n > 1 ? 1 : 0), r.frame_ms.end());
  // Growth per frame after the first: (rss_last - rss_first) / (frames - 1), in KiB.
  const double growth_kb =
      n > 1 ? (r.rss_last_frame_mb - r.rss_first_frame_mb) * 1024.0 / static_cast<double>(n - 1) : 0;
  char line[512];
  std::snprintf(line, sizeof line,
                "pipelab-viz bench: load_s=%.3f first_frame_s=%.3f first_frame_ms=%.1f frame_ms_median=%.2f "
                "frame_ms_p90=%.2f frames=%zu rss_first_mb=%.1f rss_last_mb=%.1f rss_growth_kb_per_frame=%.1f "
                "peak_rss_mb=%.1f vertices=%ld triangles=%ld",
                r.load_s, r.first_frame_s, n > 0 ? r.frame_ms.front() : 0.0, percentile(steady, 50),
                percentile(steady, 90), n, r.rss_first_frame_mb, r.rss_last_frame_mb, growth_kb,
                peak_resident_set_mb(), r.vertices, r.triangles);
  return line;
}

}  // namespace pipelab::viz
