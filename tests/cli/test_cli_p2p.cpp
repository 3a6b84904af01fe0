// test_cli_p2p.cpp — `--p2p async|batched|blocking` on run, compare and sweep: the
// schedule is proven deadlock-free under that model before anything runs (exit 2 with
// the message otherwise), and the JSON says which model and both bubble conventions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "cli/cli_runner.h"

namespace pipelab::cli_test {
namespace {

TEST(CliP2p, OneFOneBUnderBlockingIsRefusedNamingBothStages) {
  const CliRun r = pipelab("run --backend sim --schedule 1f1b -K 2 -M 2 --p2p blocking -q");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << "refused before it ran: " << r.out;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  // The message worked out by hand in tests/unit/test_p2p.cpp, behind the flag's name.
  EXPECT_NE(r.err.find("--p2p: deadlock under blocking p2p: stage 0 blocked at SendAct1 s0 (action #3, 0-based) "
                       "waiting for stage 1 to reach RecvAct1 s1; stage 1 blocked at SendGrad0 s1"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hint: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--p2p batched"), std::string::npos) << r.err;
}

TEST(CliP2p, BatchedAndAsyncRunOneFOneBAndSayWhichModel) {
  for (const char* model : {"async", "batched"}) {
    const CliRun r = pipelab(std::string("run --backend sim --schedule 1f1b -K 4 -M 8 --json -q --p2p ") + model);
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["runs"][0]["p2p"], model);
  }
  // The default is async.
  const CliRun d = pipelab("run --backend sim --schedule 1f1b -K 2 -M 2 --json -q");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(nlohmann::json::parse(d.out)["runs"][0]["p2p"], "async");
}

TEST(CliP2p, CompareAndSweepTakeTheFlag) {
  // naive and GPipe are deadlock-free under every model (tests/unit/test_p2p.cpp).
  const CliRun c = pipelab("compare --backend sim -K 4 -M 8 --p2p blocking --json -q");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const nlohmann::json doc = nlohmann::json::parse(c.out);  // named: the loop must not outlive it
  for (const auto& run : doc["runs"]) EXPECT_EQ(run["p2p"], "blocking");
  const CliRun s = pipelab("sweep --backend sim -K 4 -M 1,2,4 --p2p batched --json -q");
  ASSERT_EQ(s.exit_code, 0) << s.err;
}

TEST(CliP2p, AnUnknownModelIsBadInputNamingTheFlag) {
  const CliRun r = pipelab("run --backend sim --p2p sync");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--p2p: unknown p2p model 'sync'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("async, batched, blocking"), std::string::npos) << r.err;
}

TEST(CliP2p, JsonGivesBothBubbleConventions) {
  // Balanced GPipe K = 4, M = 8 on the sim: theory (K-1)/(M+K-1) = 3/11 of the step and
  // (K-1)/M = 3/8 of the busy time (Megatron's (p-1)/m).
  const CliRun r = pipelab("run --backend sim --schedule gpipe -K 4 -M 8 --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out)["runs"][0];
  EXPECT_NEAR(j["theory"]["bubble_fraction"].get<double>(), 3.0 / 11.0, 1e-12);
  EXPECT_NEAR(j["theory"]["bubble_over_busy"].get<double>(), 3.0 / 8.0, 1e-12);
  // Measured: the same idle time in the two units, bubble / (1 - bubble).
  const double bubble = j["bubble_fraction"].get<double>();
  EXPECT_NEAR(j["bubble_over_busy"].get<double>(), bubble / (1.0 - bubble), 1e-9);
}

}  // namespace
}  // namespace pipelab::cli_test
