// test_cli_weak_scaling.cpp — issue 16, deliverable 5: `--microbatch-rows b` fixes the rows
// of every micro-batch (B = M·b) on run and compare, and `pipelab bench` prints a strong-
// and a weak-scaling table on every backend. On the sim at the theory's unit costs both
// tables meet their ideal K·M/(M+K−1) exactly (written out here, not read from the code);
// on cpu the rows are measured, and only their bookkeeping is checked.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace {

using pipelab::cli_test::pipelab;

// Exit 2, one line on stderr naming `flag` first and containing `says`, with a hint.
void expect_usage_error(const std::string& args, const std::string& flag, const std::string& says) {
  const auto r = pipelab(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find("error: " + flag), std::string::npos) << args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find("hint"), std::string::npos) << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
}

TEST(MicrobatchRows, TheBatchIsMTimesB) {
  // GPipe M = 4: B = 64; naive (M = 1): B = b; data-parallel (one share per device, K = 2): B = 2b.
  const struct {
    const char* args;
    int microbatches, batch;
  } cases[] = {{"run --backend sim -K 4 -M 4 --microbatch-rows 16", 4, 64},
               {"run --backend sim -K 4 --schedule naive --microbatch-rows 16", 1, 16},
               {"run --backend sim -K 2 -M 2 --schedule data-parallel --microbatch-rows 16", 2, 32},
               {"run --backend cpu -K 2 -M 3 --layers 2 --width 8 --hidden 16 --microbatch-rows 5", 3, 15}};
  for (const auto& c : cases) {
    const auto r = pipelab(std::string(c.args) + " --json -q");
    ASSERT_EQ(r.exit_code, 0) << c.args << "\n" << r.err;
    const auto run = nlohmann::json::parse(r.out)["runs"][0];
    EXPECT_EQ(run["microbatches"], c.microbatches) << c.args;
    EXPECT_EQ(run["batch"], c.batch) << c.args;
    EXPECT_EQ(run["microbatch_rows"], c.batch / c.microbatches) << c.args;
  }
  // Without the flag the JSON has the batch and no microbatch_rows.
  const auto plain = pipelab("run --backend sim -M 4 --json -q");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(nlohmann::json::parse(plain.out)["runs"][0].contains("microbatch_rows"));
  // compare: every row on the same B = M·b (naive's one micro-batch holds all of it).
  const auto cmp = pipelab("compare --backend sim -K 2 -M 4 --microbatch-rows 8 --json -q");
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  const auto j = nlohmann::json::parse(cmp.out);
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) EXPECT_EQ(run["batch"], 32);
}

TEST(MicrobatchRows, BadInputIsRefusedNamingTheFlag) {
  expect_usage_error("run --backend sim -M 4 --microbatch-rows 16 --batch 64", "--microbatch-rows",
                     "conflicts with --batch");
  expect_usage_error("sweep --backend sim --microbatch-rows 16", "--microbatch-rows", "not on `pipelab sweep`");
  expect_usage_error("advise --microbatch-rows 16", "--microbatch-rows", "not on `pipelab advise`");
  // 16384 · 2^20 overflows an int: refused, not wrapped.
  expect_usage_error("run --backend sim -K 1 -M 16384 --microbatch-rows 1048576 --layers 1", "--microbatch-rows",
                     "= 17179869184 is above the batch limit");
  const auto zero = pipelab("run --backend sim --microbatch-rows 0");
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  EXPECT_NE(zero.err.find("--microbatch-rows"), std::string::npos) << zero.err;
}

// The ideal of both tables, from docs/gpipe.md: K·M/(M+K−1).
double ideal(int K, int M) { return static_cast<double>(K) * M / (M + K - 1); }

TEST(BenchScaling, UnitCostSimMeetsTheIdealInBothTables) {
  const int K = 4, b = 16;
  const auto r = pipelab("bench --backend sim --sim-costs unit -K 4 -M 1,2,4,8 --layers 8 --width 32 --hidden 64 "
                         "--batch 240 --microbatch-rows 16 --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["parts"], nlohmann::json::parse(R"(["pipeline", "weak"])")) << "off cuda: the two scaling tables";
  EXPECT_EQ(j["microbatch_rows"], b);
  ASSERT_EQ(j["pipeline"].size(), 5u);  // naive, then M = 1, 2, 4, 8
  ASSERT_EQ(j["weak"].size(), 5u);
  const int ms[] = {1, 1, 2, 4, 8};
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    const auto& strong = j["pipeline"][i];
    const auto& weak = j["weak"][i];
    const int M = ms[i];
    const double want = i == 0 ? 1.0 : ideal(K, M);
    EXPECT_EQ(strong["batch"], 240);
    EXPECT_EQ(weak["batch"], i == 0 ? b : M * b) << "naive on one micro-batch of b rows, then B = M*b";
    for (const auto* row : {&strong, &weak}) {
      EXPECT_NEAR((*row)["speedup"].get<double>(), want, 1e-9);
      EXPECT_NEAR((*row)["ideal_speedup_theory"].get<double>(), want, 1e-12);
      EXPECT_NEAR((*row)["percent_of_ideal"].get<double>(), 100.0, 1e-7);
      // rows/s = B / step.
      EXPECT_NEAR((*row)["rows_per_s"].get<double>(),
                  (*row)["batch"].get<double>() / ((*row)["median_ms"].get<double>() * 1e-3),
                  1e-9 * (*row)["rows_per_s"].get<double>());
      // dW intensity at B/M rows: 2·b·d·h / (4·(2·d·h + b·(d + h))), d = 32, h = 64.
      const double rows = (*row)["batch"].get<double>() / (*row)["microbatches"].get<double>();
      EXPECT_NEAR((*row)["dw_flop_per_byte_theory"].get<double>(),
                  2 * rows * 32 * 64 / (4 * (2 * 32 * 64 + rows * (32 + 64))), 1e-12);
    }
  }
  // Weak scaling's step grows with B: M = 8 holds 8 times naive's rows.
  EXPECT_GT(j["weak"][4]["median_ms"].get<double>(), j["weak"][0]["median_ms"].get<double>());
}

TEST(BenchScaling, CpuPrintsBothTablesMeasured) {
  const auto r = pipelab("bench --backend cpu -K 2 -M 1,2 --layers 2 --width 16 --hidden 32 --batch 16 "
                         "--microbatch-rows 8 --steps 1 --warmup 0 -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# [pipeline] strong scaling, B = 16 fixed: 2 device threads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# [weak] weak scaling, every micro-batch b = 8 rows, B = M*b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu backend, one thread per device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# dW per micro-batch of b rows (theory)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[kernels]"), std::string::npos) << "the GPU's parts do not run on cpu";
}

TEST(BenchScaling, BadInputIsRefusedNamingTheFlag) {
  expect_usage_error("bench --backend cpu --parts pipeline,kernels", "--parts", "the kernels part measures the GPU");
  expect_usage_error("bench --backend sim --tf32", "--tf32", "sets the cuda backend");
  expect_usage_error("bench --backend cpu --sim-costs unit", "--sim-costs", "sets the sim backend");
  expect_usage_error("bench --backend auto", "--backend", "takes no auto");
  expect_usage_error("bench --backend sim --gemm cublas", "--gemm", "sim");
  expect_usage_error("bench --backend sim --parts weak -M 2048 --microbatch-rows 1024", "--microbatch-rows",
                     "B = M*b = 2048*1024 = 2097152 is above the batch limit");
}

}  // namespace
