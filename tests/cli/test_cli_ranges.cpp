// test_cli_ranges.cpp — issue 12, deliverable 2: every real-valued flag has a range
// (model/ranges.h, docs/cli.md); values that would make a duration, rate or size
// infinite, NaN or zero are refused before any work (exit 2), numbers in messages are
// %g-formatted, and the extremes of the ranges still print finite, non-zero results.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

using pipelab::cli_test::pipelab;

struct OutOfRange {
  const char* name;
  const char* args;
  const char* flag;
  const char* says;  // the message's own words, after "<flag>: "
};

class NumberOutOfRange : public ::testing::TestWithParam<OutOfRange> {};

TEST_P(NumberOutOfRange, ExitsTwoWithTheValueAndTheRange) {
  const OutOfRange& c = GetParam();
  const auto r = pipelab(c.args);
  EXPECT_EQ(r.exit_code, 2) << c.args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(std::string(c.flag) + ": " + c.says), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(hint: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_EQ(r.err.find("000000"), std::string::npos) << "numbers are %g, not %f: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NumberOutOfRange,
    ::testing::Values(
        // The cases.
        OutOfRange{"TinyDeviceRate", "run --backend sim --device-tflops 1e-310", "--device-tflops",
                   "1e-310 is outside [1e-06, 1e+06]"},
        OutOfRange{"TinyLinkRate", "run --backend sim --link-gbps 1e-310", "--link-gbps",
                   "1e-310 is neither 0 nor within [1e-06, 1e+06]"},
        OutOfRange{"HugeLatency", "run --backend sim --link-latency-us 1e308", "--link-latency-us",
                   "1e+308 is outside [0, 1e+06]"},
        OutOfRange{"HugeSkew", "run --backend sim -K 2 -M 2 --stage-skew 1e308,1e308", "--stage-skew",
                   "1e+308 is outside [0.001, 1000]"},
        OutOfRange{"HugeDeviceRate", "run --backend sim --device-tflops 1e308", "--device-tflops",
                   "1e+308 is outside [1e-06, 1e+06]"},
        OutOfRange{"InfiniteLatency", "run --backend sim --link-latency-us inf", "--link-latency-us",
                   "inf is not finite"},
        OutOfRange{"BeyondDouble", "run --backend sim --device-tflops 1e400", "--device-tflops",
                   "'1e400' is out of range: beyond the largest double"},
        OutOfRange{"BeyondDoubleInList", "run --backend sim -K 2 --stage-skew 1e400,1", "--stage-skew",
                   "'1e400' is out of range"},
        OutOfRange{"ModelTooLargeInGiB", "run --backend sim --width 65536 --hidden 262144", "--width",
                   "the model would have 2048.02 GiB of parameters"},
        // The other ends and the other flags.
        OutOfRange{"NanDeviceRate", "run --backend sim --device-tflops nan", "--device-tflops", "nan is not finite"},
        OutOfRange{"ZeroDeviceRate", "run --backend sim --device-tflops 0", "--device-tflops",
                   "0 is outside [1e-06, 1e+06]"},
        OutOfRange{"NegativeLink", "run --backend sim --link-gbps -1", "--link-gbps", "-1 is neither 0 nor within"},
        OutOfRange{"HugeLink", "run --backend sim --link-gbps 1e7", "--link-gbps", "1e+07 is neither 0 nor within"},
        OutOfRange{"NegativeLatency", "run --backend sim --link-latency-us -1", "--link-latency-us",
                   "-1 is outside [0, 1e+06]"},
        OutOfRange{"TinySkew", "run --backend sim -K 2 --stage-skew 1e-4,1", "--stage-skew",
                   "0.0001 is outside [0.001, 1000]"},
        OutOfRange{"ZeroWatchdog", "run --backend cpu --layers 2 -K 2 --watchdog-s 0", "--watchdog-s",
                   "0 is outside [0.001, 1e+06]"},
        OutOfRange{"HugeWatchdog", "run --backend cpu --layers 2 -K 2 --watchdog-s 1e308", "--watchdog-s",
                   "1e+308 is outside [0.001, 1e+06]"},
        OutOfRange{"LearningRateBeyondFloat", "run --backend cpu --layers 2 -K 2 --lr 1e39", "--lr",
                   "1e+39 is outside [0, 1000]"},
        OutOfRange{"NegativeLearningRate", "run --backend cpu --layers 2 -K 2 --lr -0.5", "--lr",
                   "-0.5 is outside [0, 1000]"},
        OutOfRange{"NotANumber", "run --backend sim --link-gbps fast", "--link-gbps", "'fast' is not a number"},
        OutOfRange{"HugeMicrobatchInList", "sweep --backend sim -M 1,1e20", "--microbatches",
                   "'1e+20' is out of range"}),
    [](const auto& info) { return std::string(info.param.name); });

// `--json` of `args`: every run's step time finite and > 0, utilizations in [0, 1].
void expect_finite_nonzero(const std::string& args) {
  const auto r = pipelab(args + " --json -q");
  ASSERT_EQ(r.exit_code, 0) << args << "\nstderr: " << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& run : j["runs"]) {
    ASSERT_TRUE(run["step_time_ms"].is_number()) << args << ": " << run["step_time_ms"];
    const double t = run["step_time_ms"].get<double>();
    EXPECT_TRUE(std::isfinite(t) && t > 0) << args << ": step time " << t;
    ASSERT_TRUE(run["mean_utilization"].is_number()) << args;
    const double u = run["mean_utilization"].get<double>();
    EXPECT_TRUE(u >= 0 && u <= 1) << args << ": utilization " << u;
    EXPECT_TRUE(run["comm_time_ms"].is_number()) << args;
  }
}

TEST(Ranges, SlowestEndsGiveFiniteTimes) {
  // The largest model within 1 TiB of parameters at full width, the whole batch range,
  // the slowest device, link and the largest skew and latency.
  expect_finite_nonzero("compare --backend sim -K 2 -M 2 --layers 7 --width 65536 --hidden 262144 --batch 1048576 "
                        "--device-tflops 1e-6 --stage-skew 1000,1000 --link-gbps 1e-6 --link-latency-us 1e6");
}

TEST(Ranges, FastestEndsGiveNonZeroTimes) {
  // The smallest action (one row, d = h = 1) on the fastest device at the smallest skew.
  expect_finite_nonzero("compare --backend sim -K 2 -M 1 --layers 2 --width 1 --hidden 1 --batch 1 "
                        "--device-tflops 1e6 --stage-skew 0.001,0.001 --link-gbps 1e6");
}

TEST(Ranges, EdgesOfEveryRangeAreAccepted) {
  for (const char* args : {"run --backend sim --device-tflops 1e-6", "run --backend sim --device-tflops 1e6",
                           "run --backend sim --link-gbps 0", "run --backend sim --link-gbps 1e-6",
                           "run --backend sim --link-gbps 1e6", "run --backend sim --link-latency-us 1e6",
                           "run --backend sim -K 2 --stage-skew 1e-3,1e3"}) {
    const auto r = pipelab(std::string(args) + " -q");
    EXPECT_EQ(r.exit_code, 0) << args << "\nstderr: " << r.err;
  }
}

}  // namespace
