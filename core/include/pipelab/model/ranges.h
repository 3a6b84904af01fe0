// pipelab/model/ranges.h — the range of every real-valued setting, and numbers in messages.
//
// validate_config (config.h) refuses a value outside its range before any work starts,
// with a UsageError naming the flag; docs/cli.md and docs/limits.md list the same ranges.
//
// Why these ranges keep every duration, rate and size finite and non-zero (sim cost
// model, backends/sim/sim_backend.cpp; model limits in config.h):
//   * Compute. A step's FLOPs are at most ~16·B·L·d·h + 22·B·L·h (F, R and B of every
//     layer, model.cpp) with L·(2dh + h + d) ≤ 2^38 parameters (kMaxModelBytes / 4) and
//     B ≤ 2^20: under 1e19 FLOPs. At the slowest device (1e-6 TFLOP/s = 1e6 FLOP/s)
//     and the largest skew (1e3) that is ≤ 1e16 s ≈ 1e22 µs: finite. The smallest
//     action (one row, d = h = 1: 16 FLOPs) at the fastest device (1e6 TFLOP/s) and the
//     smallest skew (1e-3) takes 16 / 1e18 s · 1e-3 = 1.6e-20 s = 1.6e-14 µs: positive
//     and far above the smallest normal double (2.2e-308), so the step time is never 0.
//   * Links. A transfer is latency + bytes · 8 / (Gbit/s · 1e3) µs with bytes ≤
//     B·d·4 = 2^38: at most 1e6 + 2^38 · 8 / 1e-3 ≈ 2.2e15 µs; a step has at most
//     2·(K−1)·M ≤ 3.4e7 transfers (K ≤ 1024, M ≤ 16384), so all of them in a row stay
//     under 1e23 µs: finite.
//   * So the makespan T is in (0, 1e24) µs, and utilization = busy / T, bubble and
//     speedup (a ratio of two such T) are finite. (At the extremes a 1e-14 µs span after
//     a 1e6 µs latency rounds to zero length: finite still, just invisible.)
#pragma once

#include <string>

namespace pipelab {

/// The allowed values of one real-valued setting: [min, max], and 0 where it means
/// something of its own (`--link-gbps 0` = an ideal link).
struct SettingRange {
  const char* flag;     ///< "--device-tflops"
  double min;           ///< smallest allowed value (inclusive)
  double max;           ///< largest allowed value (inclusive)
  bool zero_allowed;    ///< 0 is allowed besides [min, max]
  const char* example;  ///< a sensible value for the hint, e.g. "10"
};

/// sim: compute rate of every device: 1 MFLOP/s (a microcontroller) .. 1 EFLOP/s.
constexpr SettingRange kDeviceTflopsRange{"--device-tflops", 1e-6, 1e6, false, "10"};
/// sim: link bandwidth: 1 kbit/s .. 1 Pbit/s, or 0 = ideal (free) links.
constexpr SettingRange kLinkGbpsRange{"--link-gbps", 1e-6, 1e6, true, "10"};
/// sim: latency per transfer: 0 .. 1 s.
constexpr SettingRange kLinkLatencyUsRange{"--link-latency-us", 0, 1e6, true, "5"};
/// sim: compute-time multiplier of one stage: a thousand times faster .. slower.
constexpr SettingRange kStageSkewRange{"--stage-skew", 1e-3, 1e3, false, "1,1,2,1"};
/// Watchdog: 1 ms .. 1e6 s (11.6 days); no step of this kit needs more.
constexpr SettingRange kWatchdogSecondsRange{"--watchdog-s", 1e-3, 1e6, false, "60"};
/// --device-memory-mib: each device's memory, 1 KiB .. 1 PiB, or 0 = no cap (the default).
constexpr SettingRange kDeviceMemoryMibRange{"--device-memory-mib", 1.0 / 1024, 1024.0 * 1024 * 1024, true, "16384"};
/// SGD learning rate: 0 (no update) .. 1000. The parameters are fp32: a larger rate
/// only turns them into inf, and the transparency check into NaN.
constexpr SettingRange kLearningRateRange{"--lr", 0, 1e3, true, "0.01"};

/// `value` in %g form: "1e-310", "0.01", "2048.02", "inf", "nan" (never a 300-digit %f).
std::string format_g(double value);

/// Throws UsageError(range.flag) when `value` is not finite ("is not finite"), or outside
/// the range ("1e-310 is outside [1e-06, 1e+06]"), with the range and an example in the hint.
void check_in_range(const SettingRange& range, double value);

}  // namespace pipelab
