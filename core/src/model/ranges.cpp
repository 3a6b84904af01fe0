// ranges.cpp — range checks of the real-valued settings and %g numbers (model/ranges.h).
#include "pipelab/model/ranges.h"

#include <cmath>
#include <cstdio>

#include "pipelab/error.h"

namespace pipelab {

std::string format_g(double value) {
  // %g: 6 significant digits, exponent form outside [1e-4, 1e6): at most ~13 characters.
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void check_in_range(const SettingRange& r, double value) {
  const std::string within = "[" + format_g(r.min) + ", " + format_g(r.max) + "]";
  // "0 or [1e-06, 1e+06]" where 0 is a value of its own (an ideal link), not the low end.
  const bool zero_apart = r.zero_allowed && r.min > 0;
  const std::string hint = std::string("use ") + (zero_apart ? "0 or " : "") + "a value within " + within +
                           ", e.g. " + r.flag + " " + r.example + " (docs/cli.md gives every range)";
  if (!std::isfinite(value)) PIPELAB_USAGE_ERROR(r.flag, format_g(value) + " is not finite", hint);
  if (r.zero_allowed && value == 0) return;
  if (value < r.min || value > r.max)
    PIPELAB_USAGE_ERROR(r.flag, format_g(value) + (zero_apart ? " is neither 0 nor within " : " is outside ") + within,
                        hint);
}

}  // namespace pipelab
