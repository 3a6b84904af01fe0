// time_axis.cpp — tick placement and duration formatting.
#include "pipelab_viz/time_axis.h"

#include <cmath>
#include <cstdio>

namespace pipelab::viz {

namespace {
// "µ" as UTF-8 (ImGui and SVG both take UTF-8).
constexpr const char* kMicro = "\xC2\xB5";

std::string format_tick(double t_us, double step_us, bool ms) {
  char buf[48];
  const double value = ms ? t_us / 1000.0 : t_us;
  const double step = ms ? step_us / 1000.0 : step_us;
  // As many decimals as the step needs (step 0.5 → 1 decimal, 0.02 → 2).
  int decimals = 0;
  if (step < 1.0) decimals = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (t_us == 0) return "0";
  std::snprintf(buf, sizeof buf, "%.*f %s", decimals, value, ms ? "ms" : (std::string(kMicro) + "s").c_str());
  return buf;
}
}  // namespace

std::vector<Tick> nice_ticks(double t0_us, double t1_us, int max_ticks) {
  std::vector<Tick> ticks;
  if (!(t1_us > t0_us) || max_ticks < 2) return ticks;
  const double raw = (t1_us - t0_us) / (max_ticks - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (magnitude * m >= raw) {
      step = magnitude * m;
      break;
    }
  }
  const bool ms = t1_us >= 1000.0;  // one unit for the whole axis
  const double first = std::ceil(t0_us / step - 1e-9) * step;
  for (double t = first; t <= t1_us + step * 1e-9; t += step) {
    const double snapped = std::round(t / step) * step;  // no 0.30000000000000004 labels
    ticks.push_back({snapped, format_tick(snapped, step, ms)});
  }
  return ticks;
}

std::string format_duration(double us) {
  char buf[48];
  const double a = std::fabs(us);
  if (a >= 1000.0) {
    const double ms = us / 1000.0;
    std::snprintf(buf, sizeof buf, ms >= 100 ? "%.0f ms" : ms >= 10 ? "%.1f ms" : "%.2f ms", ms);
  } else {
    std::snprintf(buf, sizeof buf, a >= 100 ? "%.1f %ss" : a >= 10 ? "%.2f %ss" : "%.3f %ss", us, kMicro);
  }
  return buf;
}

}  // namespace pipelab::viz
