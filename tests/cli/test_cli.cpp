// test_cli.cpp — the `pipelab` binary end to end: bad input gives one line
// naming the flag and exit code 2; the JSON of `compare` has the documented
// fields and the values theory predicts on sim.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipelab/kernels/cpu.h"  // gemm_impl_available: is blas in this build?

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs bin/pipelab with `args` (a shell-quoted string).
CliResult run_pipelab(const std::string& args) {
  const std::string dir = ::testing::TempDir();
  const std::string out = dir + "/pipelab_cli_out_" + std::to_string(getpid());
  const std::string err = dir + "/pipelab_cli_err_" + std::to_string(getpid());
  const std::string cmd = std::string(PIPELAB_BINARY_DIR) + "/bin/pipelab " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

struct BadInput {
  const char* args;
  const char* flag;  // the flag the message must name
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, ExitsTwoWithOneLineNamingTheFlag) {
  const BadInput& c = GetParam();
  const CliResult r = run_pipelab(c.args);
  EXPECT_EQ(r.exit_code, 2) << c.args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint"), std::string::npos) << r.err;
  // One line.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(BadInput{"compare --backend sim --devices 0", "--devices"},
                      BadInput{"compare --backend sim --microbatches 0", "--microbatches"},
                      BadInput{"compare --backend sim --batch 16 --microbatches 17", "--microbatches"},
                      BadInput{"compare --backend sim --layers 3 --devices 4", "--devices"},
                      BadInput{"compare --backend gpu", "--backend"},
                      BadInput{"bench --parts pipeline,foo", "--parts"},
                      BadInput{"bench --steps 0", "--steps"},
                      BadInput{"bench --microbatches 0", "--microbatches"},
                      BadInput{"bench --warmup -1", "--warmup"},
                      BadInput{"run --backend sim --trace /dev/null/x.json", "--trace"},
                      BadInput{"compare --backend sim --trace /dev/null/x.json", "--trace"},
                      BadInput{"run --backend sim --devices 1025 --layers 1100", "--devices"},
                      BadInput{"run --backend cpu --devices 65 --layers 80", "--devices"},
                      BadInput{"run --backend sim --schedule pipedream", "--schedule"},
                      BadInput{"run --backend sim --link-gbps -1", "--link-gbps"},
                      BadInput{"run --backend sim --stage-skew 1,2", "--stage-skew"},
                      BadInput{"run --backend sim --devices abc", "--devices"},
                      BadInput{"sweep --backend sim --microbatches 1,x", "--microbatches"},
                      BadInput{"run --backend sim --microbatches 1,2", "--microbatches"},
                      BadInput{"run --backend cpu --gemm cublas", "--gemm"},
                      BadInput{"compare --backend cpu --gemm tiled --layers 4", "--gemm"},
                      BadInput{"run --backend cpu --gemm fast", "--gemm"},
                      BadInput{"run --backend sim --gemm blas", "--gemm"},
                      BadInput{"run --backend cuda --gemm reference", "--gemm"},
                      BadInput{"run --backend sim --device-memory-mib 1", "--device-memory-mib"},
                      BadInput{"compare --backend sim --device-memory-mib 1", "--device-memory-mib"},
                      BadInput{"run --backend sim --device-memory-mib -5", "--device-memory-mib"},
                      BadInput{"run --backend sim --device-memory-mib x", "--device-memory-mib"},
                      BadInput{"advise --backend cuda", "--backend"},
                      BadInput{"advise --trace /tmp/x.json", "--trace"},
                      BadInput{"advise -M 0,2", "--microbatches"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

// Whether `pipelab devices` says the cuda backend can run here.
bool cuda_usable() {
  const CliResult r = run_pipelab("devices");
  return r.out.find("  cuda     yes") != std::string::npos;
}

TEST(Cli, CudaWithoutAGpuIsRefusedNamingTheReason) {
  if (cuda_usable()) GTEST_SKIP() << "a GPU is usable here: the refusal is checked on machines without one";
  for (const char* args : {"compare --backend cuda", "run --backend cuda", "sweep --backend cuda"}) {
    const CliResult r = run_pipelab(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
    EXPECT_NE(r.err.find("--backend"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no GPU is usable"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  const CliResult bench = run_pipelab("bench");
  EXPECT_EQ(bench.exit_code, 2) << bench.err;
  EXPECT_NE(bench.err.find("no GPU is usable here"), std::string::npos) << bench.err;
  EXPECT_NE(bench.err.find("bench --backend cpu"), std::string::npos) << "the hint names what runs without one";
}

TEST(Cli, CompareJsonOnSimMatchesTheory) {
  const CliResult r = run_pipelab("compare --backend sim --devices 4 --microbatches 8 --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 2u);
  const auto& naive = j["runs"][0];
  const auto& gpipe = j["runs"][1];
  EXPECT_EQ(naive["schedule"], "naive");
  EXPECT_EQ(gpipe["schedule"], "gpipe");
  EXPECT_NEAR(naive["mean_utilization"].get<double>(), 0.25, 0.005);
  EXPECT_NEAR(gpipe["mean_utilization"].get<double>(), 8.0 / 11.0, 0.005);
  EXPECT_NEAR(gpipe["theory"]["bubble_fraction"].get<double>(), 3.0 / 11.0, 1e-12);
  for (const char* key : {"devices", "microbatches", "backend", "step_time_ms", "speedup_vs_naive", "utilization",
                          "bubble_fraction", "comm_time_ms", "peak_memory_bytes"})
    EXPECT_TRUE(gpipe.contains(key)) << key;
  EXPECT_EQ(gpipe["utilization"].size(), 4u);
  EXPECT_TRUE(j["transparency"]["ok"].is_null());  // sim computes no numerics

  const CliResult slow = run_pipelab("compare --backend sim --devices 4 --microbatches 8 --json -q --link-gbps 10");
  ASSERT_EQ(slow.exit_code, 0) << slow.err;
  const auto s = nlohmann::json::parse(slow.out);
  EXPECT_LT(s["runs"][0]["mean_utilization"].get<double>(), naive["mean_utilization"].get<double>());
  EXPECT_LT(s["runs"][1]["mean_utilization"].get<double>(), gpipe["mean_utilization"].get<double>());
}

TEST(Cli, CompareOnCpuPassesTransparencyAndWritesTraces) {
  const std::string prefix = ::testing::TempDir() + "/cli_trace_" + std::to_string(getpid()) + ".json";
  const CliResult r = run_pipelab("compare --backend cpu --layers 4 --width 16 --hidden 32 --batch 24 --devices 2 "
                                  "--microbatches 3 --json -q --trace " + prefix);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["transparency"]["ok"], true);
  EXPECT_LE(j["transparency"]["max_rel_diff"].get<double>(), 1e-5);
  const std::string gpipe_trace = slurp(prefix.substr(0, prefix.size() - 5) + "-gpipe.json");
  ASSERT_FALSE(gpipe_trace.empty());
  const auto t = nlohmann::json::parse(gpipe_trace);
  EXPECT_TRUE(t.contains("traceEvents"));
}

// The trace of `run ARGS --trace FILE` (a small cpu model unless ARGS name one), parsed.
nlohmann::json run_and_read_trace(const std::string& args, CliResult* result = nullptr) {
  const std::string path = ::testing::TempDir() + "/cli_gemm_" + std::to_string(getpid()) + ".json";
  const CliResult r = run_pipelab("run " + args + " --warmup 0 --repeat 1 -q --trace " + path);
  if (result) *result = r;
  EXPECT_EQ(r.exit_code, 0) << args << "\nstderr: " << r.err;
  const std::string text = slurp(path);
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

TEST(Cli, GemmFlagNamesAGemmOfTheChosenBackend) {
  // The message says which backend lacks the GEMM, and what it has.
  const CliResult cpu = run_pipelab("run --backend cpu --gemm cublas");
  EXPECT_EQ(cpu.exit_code, 2);
  EXPECT_NE(cpu.err.find("the cpu backend has no GEMM 'cublas' (cublas is a cuda GEMM)"), std::string::npos)
      << cpu.err;
  EXPECT_NE(cpu.err.find("reference, blas"), std::string::npos) << cpu.err;
  const CliResult sim = run_pipelab("run --backend sim --gemm reference");
  EXPECT_EQ(sim.exit_code, 2);
  EXPECT_NE(sim.err.find("the sim backend runs no GEMMs"), std::string::npos) << sim.err;
  const CliResult cuda = run_pipelab("run --backend cuda --gemm blas");
  EXPECT_EQ(cuda.exit_code, 2);
  EXPECT_NE(cuda.err.find("the cuda backend has no GEMM 'blas' (blas is a cpu GEMM)"), std::string::npos)
      << cuda.err;
}

TEST(Cli, TeachingGemmsRegisterAndVectorizedAreCudaGemms) {
  // v3 and v4 of the teaching GEMMs parse as cuda GEMMs: on cpu and sim they are the usual
  // usage error (exit 2, one line, naming the backend), on every command that takes --gemm.
  for (const std::string name : {"register", "vectorized"}) {
    for (const std::string command : {"run", "compare", "sweep", "bench"}) {
      const CliResult r = run_pipelab(command + " --backend cpu --gemm " + name);
      EXPECT_EQ(r.exit_code, 2) << command << " " << name << "\nstderr: " << r.err;
      EXPECT_EQ(r.err.rfind("pipelab: error: --gemm: ", 0), 0u) << r.err;
      EXPECT_NE(r.err.find("the cpu backend has no GEMM '" + name + "' (" + name + " is a cuda GEMM)"),
                std::string::npos)
          << command << ": " << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out;
    }
    const CliResult sim = run_pipelab("compare --backend sim --gemm " + name);
    EXPECT_EQ(sim.exit_code, 2) << sim.err;
    EXPECT_NE(sim.err.find("the sim backend runs no GEMMs"), std::string::npos) << sim.err;
  }
  // The lists of cuda GEMMs name all five, in the help and in the error messages.
  const CliResult unknown = run_pipelab("run --backend cpu --gemm fast");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("cublas, vectorized, register, tiled, naive"), std::string::npos) << unknown.err;
  for (const char* command : {"run", "compare", "sweep", "bench"}) {
    const CliResult help = run_pipelab(std::string(command) + " --help");
    EXPECT_NE(help.out.find("cublas|vectorized|register|tiled|naive"), std::string::npos) << command;
  }
  EXPECT_NE(run_pipelab("run --help").out.find("register and vectorized compiled, not yet run on a GPU"),
            std::string::npos);
}

TEST(Cli, CpuDeviceNamesSayWhichGemmRan) {
  namespace kc = pipelab::kernels::cpu;
  const std::string model = "--backend cpu --layers 4 --width 16 --hidden 32 --batch 24 -K 2 -M 3";
  // (flag, what every device name must contain); no flag = the default: blas where built.
  std::vector<std::pair<std::string, std::string>> cases = {
      {"--gemm reference", "gemm reference"}, {"", std::string("gemm ") + kc::to_string(kc::default_gemm_impl())}};
  if (kc::gemm_impl_available(kc::GemmImpl::Blas)) cases.push_back({"--gemm blas", "gemm blas"});
  for (const auto& [flag, name] : cases) {
    const nlohmann::json t = run_and_read_trace(model + " " + flag);
    ASSERT_TRUE(t.contains("pipelab")) << flag;
    const auto& names = t["pipelab"]["device_names"];
    ASSERT_EQ(names.size(), 2u) << flag;
    for (const auto& n : names) EXPECT_NE(n.get<std::string>().find(name), std::string::npos) << flag << ": " << n;
    const std::string gemm = name.substr(5);  // "gemm blas" -> "blas"
    EXPECT_EQ(t["pipelab"]["config"]["cpu"]["gemm"], gemm) << flag;
  }
  if (!kc::gemm_impl_available(kc::GemmImpl::Blas)) {
    const CliResult r = run_pipelab("run " + model + " --gemm blas");
    EXPECT_EQ(r.exit_code, 2) << "blas is not in this build, so --gemm blas is a usage error";
    EXPECT_NE(r.err.find("not in this build"), std::string::npos) << r.err;
  }
}

TEST(Cli, CpuBackendWithoutModelFlagsUsesTheCpuDefaultModel) {
  CliResult r;
  const nlohmann::json cpu = run_and_read_trace("--backend cpu -K 2 --schedule naive", &r);
  ASSERT_TRUE(cpu.contains("pipelab"));
  const auto& config = cpu["pipelab"]["config"];
  EXPECT_EQ(config["layers"], 16);
  EXPECT_EQ(config["width"], 192);
  EXPECT_EQ(config["hidden"], 768);
  EXPECT_EQ(config["batch"], 512);
  // One model flag keeps the ModelSpec defaults for the others (as on cuda).
  const nlohmann::json one_flag = run_and_read_trace("--backend cpu -K 2 --layers 4 --schedule naive");
  EXPECT_EQ(one_flag["pipelab"]["config"]["width"], 256);
  EXPECT_EQ(one_flag["pipelab"]["config"]["batch"], 128);
  // The sim keeps the ModelSpec defaults: its outputs in the lab handouts depend on them.
  const nlohmann::json sim = run_and_read_trace("--backend sim");
  EXPECT_EQ(sim["pipelab"]["config"]["layers"], 16);
  EXPECT_EQ(sim["pipelab"]["config"]["width"], 256);
  EXPECT_EQ(sim["pipelab"]["config"]["hidden"], 1024);
  EXPECT_EQ(sim["pipelab"]["config"]["batch"], 128);
}

TEST(Cli, SweepPrintsOneRowPerMicrobatchCountAndCsv) {
  const CliResult r = run_pipelab("sweep --backend sim --microbatches 1,2,4 --csv -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Header + naive baseline + 3 GPipe rows.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;
  EXPECT_EQ(r.out.rfind("schedule,devices,microbatches", 0), 0u) << r.out;
}

TEST(Cli, AdviseNamesWBatchInEveryRow) {
  // --w-batch changes every candidate's programs: the rows, the trade-off lines and the
  // JSON say so (the remat column stays its own).
  const std::string args = "advise -K 2 --layers 4 --width 32 --hidden 64 --batch 16 -M 2,4 --top 2 --w-batch -q";
  const CliResult table = run_pipelab(args);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("+w-batch "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("the fastest is "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("+w-batch M="), std::string::npos) << "the summary's label" << table.out;
  const CliResult json_run = run_pipelab(args + " --json");
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  const auto j = nlohmann::json::parse(json_run.out);
  int ran = 0;
  for (const auto& c : j["candidates"]) {
    if (c.contains("unavailable")) continue;  // data-parallel: no W's to batch
    EXPECT_EQ(c["w_batch"], true) << c.dump();
    ++ran;
  }
  EXPECT_GT(ran, 0);
  const CliResult plain = run_pipelab("advise -K 2 --layers 4 --width 32 --hidden 64 --batch 16 -M 2 --top 1 -q --json");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto plain_json = nlohmann::json::parse(plain.out);  // kept alive: the loop reads into it
  for (const auto& c : plain_json["candidates"]) EXPECT_FALSE(c.contains("w_batch"));
}

TEST(Cli, AdviseListsTheFastestThatFitAndExitsOneWhenNothingDoes) {
  const CliResult fits = run_pipelab("advise -K 2 --layers 4 --width 32 --hidden 64 --batch 16 -M 1,2,4 --top 3 "
                                     "--memory-cap-mib 1 -q --json");
  ASSERT_EQ(fits.exit_code, 0) << fits.err;
  const auto j = nlohmann::json::parse(fits.out);
  EXPECT_GT(j["fitting"].get<int>(), 0);
  EXPECT_EQ(j["cost_model"], "sim");
  for (const auto& c : j["candidates"])
    if (c["fits"].get<bool>()) {
      EXPECT_LE(c["peak_memory_bytes"].get<std::uint64_t>(), j["device_memory_cap_bytes"].get<std::uint64_t>());
    }
  const CliResult none = run_pipelab("advise -K 2 --layers 4 --width 32 --hidden 64 --batch 16 -M 1,2 "
                                     "--device-memory-mib 0.001 -q");
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_NE(none.out.find("nothing fits"), std::string::npos) << none.out;
}

TEST(Cli, DevicesExplainsCuda) {
  const CliResult r = run_pipelab("devices");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("cuda"), std::string::npos);
  EXPECT_NE(r.out.find("sim"), std::string::npos);
}

TEST(Cli, OutputFilesGetTheirFolderCreated) {
  // Labs write --trace traces/NAME.json into a folder that a fresh clone lacks.
  const std::string dir = ::testing::TempDir() + "/pipelab_cli_folder_" + std::to_string(getpid());
  std::system(("rm -rf " + dir).c_str());
  const CliResult r = run_pipelab("run --backend sim -K 2 -q --trace " + dir + "/traces/k2.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::ifstream(dir + "/traces/k2.json").good());
  const CliResult sweep = run_pipelab("sweep --backend sim -K 2 -M 1,2 -q --csv " + dir + "/csv/s.csv --plot " +
                                      dir + "/svg/s.svg");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_TRUE(std::ifstream(dir + "/csv/s.csv").good());
  EXPECT_TRUE(std::ifstream(dir + "/svg/s.svg").good());
  std::system(("rm -rf " + dir).c_str());
}

TEST(Cli, NaiveIgnoresTheDefaultMicrobatchCount) {
  // -M's default (8) belongs to GPipe: naive on a 6-row batch is one micro-batch of 6.
  const CliResult r = run_pipelab("run --backend sim --schedule naive --batch 6 -K 2 --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["runs"][0]["microbatches"], 1) << r.out;
}

}  // namespace
