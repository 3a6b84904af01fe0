// test_cli_gap.cpp — the gap decomposition in `pipelab compare` and `run` (docs/metrics.md):
// the JSON's terms add up to the step on every device, the speedup chain adds up to the
// measured speedup, and what is not measured is null with its reason, never 0.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace pipelab {
namespace {

using cli_test::pipelab;

double terms(const nlohmann::json& g) {
  return g["compute_ms"].get<double>() + g["optimizer_ms"].get<double>() + g["comm_ms"].get<double>() +
         g["bubble_ms"].get<double>() + g["host_ms"].get<double>();
}

TEST(CliGap, CompareJsonOnSimAddsUpAndChainsToTheSpeedup) {
  const auto r = pipelab("compare --backend sim -K 4 -M 8 --link-gbps 50 --link-latency-us 2 --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& run : j["runs"]) {
    const auto& gap = run["gap"];
    const double T = run["step_time_ms"].get<double>();
    EXPECT_NEAR(gap["step_ms"].get<double>(), T, 1e-9 * T);
    EXPECT_NEAR(terms(gap), T, 1e-9 * T);
    ASSERT_EQ(gap["per_device"].size(), 4u);
    for (const auto& d : gap["per_device"]) EXPECT_NEAR(terms(d), T, 1e-9 * T);
    // The table's bubble is everything but compute (metrics.md).
    EXPECT_NEAR(1 - gap["compute_ms"].get<double>() / T, run["bubble_fraction"].get<double>(), 1e-9);
    // The sim has no threads: not measured, said why (null, not 0).
    EXPECT_TRUE(gap["compute_split"]["off_core_ms"].is_null());
    EXPECT_TRUE(gap["compute_split"]["off_core_na"].is_string());
  }
  const auto& c = j["speedup_chain"];
  ASSERT_TRUE(c.is_object());
  const double sum = c["ideal"].get<double>() + c["naive_gaps"].get<double>() - c["bubble_above_theory"].get<double>() -
                     c["microbatch_inefficiency"].get<double>() - c["comm"].get<double>() - c["host"].get<double>() -
                     c["optimizer"].get<double>();
  EXPECT_NEAR(sum, c["measured"].get<double>(), 1e-9);
  // On the sim the two median steps are the steps: the chain ends at the table's speedup.
  EXPECT_NEAR(c["measured"].get<double>(), j["runs"][1]["speedup_vs_naive"].get<double>(), 1e-9);
  EXPECT_GT(c["comm"].get<double>(), 0);  // slow links: a loss the chain names
}

TEST(CliGap, RunPrintsTheGapAndNamesWhatIsNotMeasured) {
  const auto r = pipelab("run --backend sim --schedule 1f1b -K 2 -M 4 -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# gap, 1f1b (% of the step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("work at B rows n/a + micro-batch inefficiency n/a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("needs the naive run"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pipelab
