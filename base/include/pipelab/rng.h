// rng.h — a small, portable, seeded random source (internal to core/).
//
// std::normal_distribution differs between standard libraries; a kit whose
// numbers must be reproducible everywhere uses its own: SplitMix64 for bits,
// Box–Muller for normals.
#pragma once

#include <cmath>
#include <cstdint>

namespace pipelab::detail {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  /// Derive an independent stream from (seed, a, b), e.g. (seed, layer, tensor).
  Rng(std::uint64_t seed, std::uint64_t a, std::uint64_t b)
      : state_(seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full)) {
    next();
  }

  /// SplitMix64 step: 64 well-mixed bits.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal by Box–Muller: sqrt(-2 ln u1) · cos(2π u2).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace pipelab::detail
