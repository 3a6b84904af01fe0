// test_cli_flags_apply.cpp — issue 12, deliverable 1: every flag of run, compare and
// sweep applies with the backend and schedule in force, or is refused: exit 2, one
// line naming the flag, the backend or schedule (and that --backend auto chose it),
// and the fix (core/cli/flag_rules.h; the table is in docs/cli.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

using pipelab::cli_test::pipelab;

struct Refusal {
  const char* name;  // the test's name
  const char* args;
  const char* flag;  // the flag the message must name first
  std::vector<std::string> says;  // what the message must contain, each
};

class FlagThatDoesNotApply : public ::testing::TestWithParam<Refusal> {};

TEST_P(FlagThatDoesNotApply, ExitsTwoNamingFlagBackendAndFix) {
  const Refusal& c = GetParam();
  const auto r = pipelab(c.args);
  EXPECT_EQ(r.exit_code, 2) << c.args << "\nstderr: " << r.err;
  EXPECT_EQ(r.err.rfind(std::string("pipelab: error: ") + c.flag + ": ", 0), 0u) << r.err;
  for (const std::string& s : c.says) EXPECT_NE(r.err.find(s), std::string::npos) << "missing '" << s << "' in " << r.err;
  EXPECT_NE(r.err.find("(hint: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// A small cpu model, so that a case that were wrongly accepted would still finish fast.
#define CPU_MODEL "--backend cpu --layers 4 --width 16 --hidden 32 --batch 24 -K 2 -M 3 -q "

INSTANTIATE_TEST_SUITE_P(
    Cases, FlagThatDoesNotApply,
    ::testing::Values(
        // The cases.
        Refusal{"CompareLinkGbpsWithAuto", "compare --link-gbps 10 --layers 4 -K 2 -M 2 -q", "--link-gbps",
                {"has no effect on the", "(--backend auto chose it", "only on the sim backend", "--backend sim"}},
        Refusal{"CompareStageSkewOnCpu", "compare --backend cpu --stage-skew 1,1,2,1", "--stage-skew",
                {"has no effect on the cpu backend:", "only on the sim backend", "add --backend sim"}},
        Refusal{"CompareGemmOnSim", "compare --backend sim --gemm tiled", "--gemm",
                {"the sim backend runs no GEMMs", "drop --gemm"}},
        Refusal{"RunNaiveWithM8", "run --backend sim --schedule naive -M 8", "--microbatches",
                {"--schedule naive is M = 1 by definition", "-M 8 would not apply", "--schedule gpipe"}},
        Refusal{"RunNaiveWithMAboveBatch", "run --backend sim --schedule naive -M 200", "--microbatches",
                {"M = 1 by definition"}},
        // The sim's cost model elsewhere.
        Refusal{"DeviceTflopsOnCpu", "run " CPU_MODEL "--device-tflops 5", "--device-tflops",
                {"the cpu backend:", "compute rate", "--backend sim"}},
        Refusal{"SimCostsOnCpu", "run " CPU_MODEL "--sim-costs unit", "--sim-costs",
                {"the cpu backend:", "cost per action", "--backend sim"}},
        Refusal{"SimCostsUnknown", "run --backend sim --sim-costs cheap", "--sim-costs",
                {"unknown cost model 'cheap'", "flops", "unit"}},
        Refusal{"LinkLatencyOnCpu", "run " CPU_MODEL "--link-latency-us 5", "--link-latency-us",
                {"the cpu backend:", "link latency"}},
        Refusal{"SweepLinkGbpsOnCpu", "sweep " CPU_MODEL "--link-gbps 10", "--link-gbps", {"the cpu backend:"}},
        // The cuda backend's settings elsewhere.
        Refusal{"PlacementOnSim", "run --backend sim --placement streams", "--placement",
                {"the sim backend:", "only on the cuda backend", "--backend cuda"}},
        Refusal{"TransportOnCpu", "run " CPU_MODEL "--transport nccl", "--transport", {"the cpu backend:", "cuda backend"}},
        Refusal{"Tf32OnCpu", "run " CPU_MODEL "--tf32", "--tf32", {"the cpu backend:", "TF32"}},
        Refusal{"NoTraceOnSim", "compare --backend sim --no-trace", "--no-trace", {"the sim backend:"}},
        Refusal{"CudaSplitBackwardOnCpu", "run " CPU_MODEL "--schedule zb-h1 --cuda-split-backward",
                "--cuda-split-backward", {"the cpu backend:", "split backward", "only on the cuda backend"}},
        Refusal{"CudaSplitBackwardOnSim", "compare --backend sim --schedules 1f1b,zb-h1 --cuda-split-backward",
                "--cuda-split-backward", {"the sim backend:", "--backend cuda"}},
        // What the sim does not have.
        Refusal{"SeedOnSim", "run --backend sim --seed 7", "--seed", {"the sim backend:", "no numerics"}},
        Refusal{"LrOnSim", "compare --backend sim --lr 0.1", "--lr", {"the sim backend:", "no numerics"}},
        Refusal{"WatchdogOnSim", "sweep --backend sim --watchdog-s 5", "--watchdog-s",
                {"the sim backend:", "event engine"}},
        Refusal{"WarmupOnSim", "run --backend sim --warmup 2", "--warmup", {"the sim backend:", "virtual time"}},
        Refusal{"RepeatOnSim", "run --backend sim --repeat 3", "--repeat", {"the sim backend:", "same step"}},
        // One device.
        Refusal{"LinkGbpsWithOneDevice", "run --backend sim -K 1 --link-gbps 10", "--link-gbps",
                {"K = 1", "no links", "-K 2"}},
        Refusal{"PartitionWithOneDevice", "run --backend sim -K 1 --partition balanced", "--partition",
                {"K = 1", "one stage holds every layer"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(FlagsApply, AutoSaysWhichBackendItChose) {
  const auto r = pipelab("compare --stage-skew 1,1,2,1 -q");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string chosen = pipelab::cli_test::cuda_usable() ? "the cuda backend (--backend auto chose it"
                                                              : "the cpu backend (--backend auto chose it";
  EXPECT_NE(r.err.find(chosen), std::string::npos) << r.err;
}

TEST(FlagsApply, CudaOnlyCombinationsAreRefusedOnCuda) {
  if (!pipelab::cli_test::cuda_usable()) GTEST_SKIP() << "no usable GPU: these rules need the cuda backend";
  const auto transport = pipelab("run --backend cuda --placement streams --transport peer -q");
  EXPECT_EQ(transport.exit_code, 2) << transport.err;
  EXPECT_NE(transport.err.find("--transport: has no effect with --placement streams"), std::string::npos)
      << transport.err;
  const auto tf32 = pipelab("run --backend cuda --gemm tiled --tf32 -q");
  EXPECT_EQ(tf32.exit_code, 2) << tf32.err;
  EXPECT_NE(tf32.err.find("--tf32: has no effect with --gemm tiled"), std::string::npos) << tf32.err;
}

TEST(FlagsApply, CudaSplitBackwardParsesAndWithoutAGpuIsAUsageError) {
  // The help says the flag's GPU path has not run on a GPU yet.
  const auto help = pipelab("run --help");
  EXPECT_NE(help.out.find("--cuda-split-backward"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("NOT yet run on a GPU"), std::string::npos) << help.out;
  if (pipelab::cli_test::cuda_usable()) GTEST_SKIP() << "a GPU is usable here: these would run (tests/gpu)";
  // The flag parses (no CLI11 error about it); with no GPU the run stops at --backend,
  // exit 2, one line with a hint: a clean refusal, not a crash.
  for (const char* args : {"run --backend cuda --schedule zb-h1 --cuda-split-backward -K 4 -M 8 -q",
                           "compare --backend cuda --cuda-split-backward --schedules 1f1b,zb-h1,zb-h2 -K 4 -M 8 -q"}) {
    const auto r = pipelab(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind("pipelab: error: --backend: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("no GPU is usable"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(hint: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err_lines(), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(FlagsApply, NaiveWithMOneSaysWhatNaiveIs) {
  const auto r = pipelab("run --backend sim --schedule naive -M 1 -q --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["runs"][0]["microbatches"], 1);
}

TEST(FlagsApply, CompareNeverAppliesMToNaive) {
  const auto r = pipelab("compare --backend sim -M 8 -q --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"][0]["schedule"], "naive");
  EXPECT_EQ(j["runs"][0]["microbatches"], 1) << "naive is M = 1 whatever -M says";
  EXPECT_EQ(j["runs"][1]["microbatches"], 8) << "-M is GPipe's M";
}

TEST(FlagsApply, SimDefaultsStatedAloudAreFine) {
  // --warmup 0 and --repeat 1 are what the sim does: saying so changes nothing.
  const auto r = pipelab("run --backend sim --warmup 0 --repeat 1 -q");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(FlagsApply, EveryFlagThatAppliesOnSimIsAccepted) {
  const auto r = pipelab("run --backend sim -K 2 -M 4 --schedule 1f1b --layers 4 --width 64 --hidden 128 --batch 16 "
                         "--remat --partition balanced --sim-costs unit --device-tflops 5 --link-gbps 10 --link-latency-us 2 "
                         "--stage-skew 1,2 --json -q");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(FlagsApply, EveryFlagThatAppliesOnCpuIsAccepted) {
  const auto r = pipelab("run " CPU_MODEL "--seed 3 --lr 0.1 --remat --partition balanced --gemm reference --warmup 0 "
                             "--repeat 1 --watchdog-s 30 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
