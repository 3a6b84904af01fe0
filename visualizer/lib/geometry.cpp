// geometry.cpp — colour mixing and comparison.
#include "pipelab_viz/geometry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace pipelab::viz {

Rgba mix(Rgba from, Rgba to, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  auto lerp = [t](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround(a + (static_cast<float>(b) - a) * t));
  };
  return {lerp(from.r, to.r), lerp(from.g, to.g), lerp(from.b, to.b), lerp(from.a, to.a)};
}

int colour_distance(Rgba a, Rgba b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

}  // namespace pipelab::viz
