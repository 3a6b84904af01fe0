// test_cli_data_parallel.cpp — the baselines and schedules beyond GPipe at the CLI. Issue 15's check, end to end: `pipelab compare --backend cpu
// --schedules data-parallel,naive,gpipe -K 4` with a cap between the pipeline's and data
// parallelism's per-device peak refuses data parallelism with the bytes and runs the
// others; without the cap all three pass transparency, and data parallelism shows its
// all-reduce on the comm lane. The cap is chosen from parameter bytes written out here
// (4 bytes per parameter, 2dh + h + d parameters per block), not from the program.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

using pipelab::cli_test::pipelab;

// L = 8 blocks of d = 32, h = 128: 2·32·128 + 128 + 32 = 8352 parameters, 33408 bytes a block.
const std::string kModel = "--backend cpu -K 4 -M 8 --layers 8 --width 32 --hidden 128 --batch 32 --repeat 1 --warmup 0";
constexpr double kBlockMib = 4.0 * (2 * 32 * 128 + 128 + 32) / 1048576.0;

TEST(DataParallelCli, WithoutACapAllThreeAreTheSingleDeviceStep) {
  const auto r = pipelab("compare --schedules data-parallel,naive,gpipe " + kModel + " --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["schedules"].size(), 3u);
  EXPECT_EQ(j["transparency"]["ok"], true);
  const auto& dp = j["schedules"][0];
  EXPECT_EQ(dp["schedule"], "data-parallel");
  EXPECT_EQ(dp["microbatches"], 4) << "one share per device";
  EXPECT_EQ(dp["theory"]["bubble_fraction"], 0.0);
  EXPECT_GT(dp["measured"]["comm_time_ms"].get<double>(), 0.0) << "the all-reduce took time";
  // Each device sent 2(K-1)/K of every layer's gradients: 8 blocks, K = 4.
  EXPECT_EQ(dp["measured"]["comm_bytes"].get<double>(), 4 * (2.0 * 3 / 4) * 8 * 33408);
  for (const auto& row : j["schedules"]) EXPECT_TRUE(row["transparency"]["ok"].get<bool>()) << row["schedule"];
}

TEST(DataParallelCli, ACapBetweenThePeaksRefusesOnlyDataParallelism) {
  // Data parallelism holds params + grads of all 8 blocks (16 block-sizes) per device, a
  // pipeline stage of 2 blocks 4 of them; the stash of B = 32 rows is far below either gap.
  const double cap = 10 * kBlockMib;
  const auto r = pipelab("compare --schedules data-parallel,naive,gpipe " + kModel + " --device-memory-mib " +
                         std::to_string(cap) + " --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["schedules"].size(), 2u);
  EXPECT_EQ(j["schedules"][0]["schedule"], "naive");
  EXPECT_EQ(j["schedules"][1]["schedule"], "gpipe");
  ASSERT_EQ(j["refused"].size(), 1u);
  EXPECT_EQ(j["refused"][0]["schedule"], "data-parallel");
  const std::string why = j["refused"][0]["reason"];
  EXPECT_NE(why.find("params 0.25 MiB, grads 0.25 MiB"), std::string::npos) << why;
  // Named alone, it is refused before anything runs, with the fix.
  const auto alone = pipelab("run --schedule data-parallel --backend cpu -K 4 --layers 8 --width 32 --hidden 128 "
                             "--batch 32 --device-memory-mib " + std::to_string(cap));
  EXPECT_EQ(alone.exit_code, 2) << alone.err;
  EXPECT_NE(alone.err.find("--schedule gpipe"), std::string::npos) << alone.err;
}

TEST(DataParallelCli, RefusesFlagsThatWouldNotApply) {
  const auto m = pipelab("run --backend sim --schedule data-parallel -K 4 -M 8");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("--microbatches"), std::string::npos) << m.err;
  const auto p = pipelab("run --backend sim --schedule data-parallel -K 4 --partition balanced");
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("--partition"), std::string::npos) << p.err;
  const auto k4 = pipelab("run --backend sim --schedule data-parallel -K 4 -M 4 -q");
  EXPECT_EQ(k4.exit_code, 0) << "-M K says just what data-parallel does: " << k4.err;
}

}  // namespace

namespace {

using pipelab::cli_test::pipelab;

// Interleaved 1F1B's flags (docs/interleaved.md): each bad one exits 2 naming the flag.
TEST(InterleavedCli, RefusesChunksThatWouldNotApplyOrCannotRun) {
  const auto other = pipelab("run --backend sim --schedule gpipe --chunks 3");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("--chunks: has no effect on --schedule gpipe"), std::string::npos) << other.err;
  const auto m = pipelab("run --backend sim --schedule interleaved-1f1b -K 4 -M 6");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("--microbatches: interleaved-1f1b with 2 chunks needs M a multiple of K"), std::string::npos)
      << m.err;
  EXPECT_NE(m.err.find("-M 8"), std::string::npos) << m.err;
  const auto layers = pipelab("run --backend sim --schedule interleaved-1f1b -K 4 --chunks 9");
  EXPECT_EQ(layers.exit_code, 2);
  EXPECT_NE(layers.err.find("--chunks: K·v = 4·9 virtual stages but only 16 layers"), std::string::npos) << layers.err;
  const auto zero = pipelab("run --backend sim --schedule interleaved-1f1b --chunks 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--chunks"), std::string::npos) << zero.err;
}

TEST(InterleavedCli, DescribeWritesTheChunksAndTheJsonCarriesThem) {
  const auto d = pipelab("run --backend sim --schedule interleaved-1f1b -K 2 -M 2 --describe");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("0F0c1"), std::string::npos) << d.out;
  const auto j = pipelab("run --backend sim --schedule interleaved-1f1b -K 2 -M 4 --chunks 3 --layers 6 --json -q");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["runs"][0]["chunks"], 3) << "the run names its chunks";
}

}  // namespace
