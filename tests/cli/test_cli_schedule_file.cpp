// test_cli_schedule_file.cpp — `pipelab run --schedule-file` and `--describe` end to end:
// a hand-written GPipe file runs like --schedule gpipe on sim, passes transparency on
// cpu, writes a trace the reader loads; bad files and conflicting flags exit 2 naming
// the file and line; --describe prints what --schedule-file reads back.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "pipelab/trace/trace_reader.h"

namespace pipelab::cli_test {
namespace {

const std::string kExample = std::string(PIPELAB_SOURCE_DIR) + "/labs/tools/schedules/gpipe-k2-m2.txt";

// A file in the test's temporary folder holding `text`; returns its path.
std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CliScheduleFile, HandWrittenGpipeRunsLikeTheGeneratorOnSim) {
  const CliRun file = pipelab("run --backend sim --json -q --schedule-file " + kExample);
  const CliRun gen = pipelab("run --backend sim --json -q --schedule gpipe -K 2 -M 2");
  ASSERT_EQ(file.exit_code, 0) << file.err;
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const auto a = nlohmann::json::parse(file.out)["runs"][0];
  const auto b = nlohmann::json::parse(gen.out)["runs"][0];
  EXPECT_EQ(a["schedule"], "custom");
  EXPECT_EQ(a["schedule_file"], kExample);
  EXPECT_EQ(a["devices"], 2);
  EXPECT_EQ(a["microbatches"], 2);
  // The same actions in the same order on the same cost model: the same virtual time.
  EXPECT_EQ(a["step_time_ms"], b["step_time_ms"]);
  EXPECT_EQ(a["bubble_fraction"], b["bubble_fraction"]);
  EXPECT_EQ(a["peak_memory_bytes"], b["peak_memory_bytes"]);
  EXPECT_EQ(a["theory"]["bubble_fraction"], b["theory"]["bubble_fraction"]);
  EXPECT_EQ(b.count("schedule_file"), 0u) << "a registry schedule's JSON is as it was";
}

TEST(CliScheduleFile, CpuRunPassesTransparency) {
  const CliRun r = pipelab("run --backend cpu --json -q --layers 4 --width 32 --hidden 64 --batch 8 "
                           "--warmup 0 --repeat 1 --schedule-file " + kExample);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["transparency"]["ok"], true) << r.out;
}

TEST(CliScheduleFile, TraceCarriesACustomScheduleTheReaderLoads) {
  const std::string trace = ::testing::TempDir() + "/schedule-file-trace.json";
  const CliRun r = pipelab("run --backend sim -q --schedule-file " + kExample + " --trace " + trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Trace t = read_chrome_trace_file(trace);
  EXPECT_EQ(t.meta.schedule_kind, ScheduleKind::Custom);
  EXPECT_EQ(t.meta.devices, 2);
  EXPECT_EQ(t.meta.microbatches, 2);
  EXPECT_NE(t.meta.config_json.find("\"schedule_file\""), std::string::npos);
}

TEST(CliScheduleFile, ABadFileExitsTwoNamingFileLineAndToken) {
  const std::string path = write_file("wrong-line.txt", "0F0 0F1 0B1 0B0 OPT\n1F0 0F1 1B1 1B0 OPT\n");
  const CliRun r = pipelab("run --backend sim --schedule-file " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--schedule-file: " + path + ":2:5: '0F1' names stage 0 but is on stage 1's line"),
            std::string::npos)
      << r.err;
  const CliRun missing = pipelab("run --backend sim --schedule-file " + ::testing::TempDir() + "/absent.txt");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent.txt': No such file or directory"), std::string::npos) << missing.err;
}

TEST(CliScheduleFile, ConflictingFlagsAreRefusedWithTheFilesValues) {
  CliRun r = pipelab("run --backend sim --schedule gpipe --schedule-file " + kExample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--schedule-file: replaces --schedule"), std::string::npos) << r.err;
  r = pipelab("run --backend sim -K 3 --schedule-file " + kExample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-K 3 conflicts with the schedule file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(K = 2)"), std::string::npos) << r.err;
  r = pipelab("run --backend sim -M 4 --schedule-file " + kExample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("which has M = 2"), std::string::npos) << r.err;
  r = pipelab("run --backend sim --remat --schedule-file " + kExample);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--remat: "), std::string::npos) << r.err;
  // The file's own values, typed, are fine.
  EXPECT_EQ(pipelab("run --backend sim -q -K 2 -M 2 --schedule-file " + kExample).exit_code, 0);
}

TEST(CliScheduleFile, DescribePrintsWhatTheFileFlagReadsBack) {
  const CliRun described = pipelab("run --backend sim --describe --schedule 1f1b -K 3 -M 4 --remat -q");
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_NE(described.out.find("stages 3 microbatches 4 remat\n"
                               "0F0 0F1 0F2 0R0 0B0 0F3 0R1 0B1 0R2 0B2 0R3 0B3 OPT\n"),
            std::string::npos)
      << described.out;
  const std::string path = write_file("described.txt", described.out);
  const CliRun again = pipelab("run --backend sim --describe -q --schedule-file " + path);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  // Everything but the first comment line, which names the schedule (1f1b+remat, custom+remat).
  const auto body = [](const std::string& text) { return text.substr(text.find('\n') + 1); };
  EXPECT_EQ(body(again.out), body(described.out));
  // ... and it runs like the generator.
  const CliRun file = pipelab("run --backend sim --json -q --schedule-file " + path);
  const CliRun gen = pipelab("run --backend sim --json -q --schedule 1f1b -K 3 -M 4 --remat");
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(nlohmann::json::parse(file.out)["runs"][0]["step_time_ms"],
            nlohmann::json::parse(gen.out)["runs"][0]["step_time_ms"]);
}

TEST(CliScheduleFile, DescribeRunsNothing) {
  const CliRun r = pipelab("run --backend sim --describe --json --schedule gpipe");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--json: has no effect with --describe"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pipelab::cli_test
