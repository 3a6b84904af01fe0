// test_spmd_numerics.cpp — the stages as processes (mpirun) compute what one device does:
// for naive, GPipe, 1F1B, interleaved 1F1B (2 chunks per rank) and data parallelism (one
// replica per rank, its all-reduce an MPI_Allreduce) at 2 and 4 ranks, and for every
// schedule of the registry side by side at 4 ranks,
// the loss equals the in-process threaded run's to the last bits, and the gathered
// gradients and parameters pass the transparency check against the single-device
// reference step; the loss is also checked here against reference_step() itself.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "mpi_runner.h"
#include "pipelab/model/model.h"

namespace pipelab::mpi_test {
namespace {

// Small enough for a few hundred ms a launch on 2 cores; one timed step, no warm-up.
const char* const kModelFlags = "--backend cpu --gemm reference --layers 8 --width 64 --hidden 128 --batch 32 "
                                "--warmup 0 --repeat 1 --watchdog-s 20 -q --json";

// The model of kModelFlags: L, d, h, B (seed and learning rate the defaults).
ModelSpec test_model() { return ModelSpec{8, 64, 128, 32}; }

nlohmann::json parse_json(const MpiRun& r) {
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n" << r.out << "\nstderr:\n" << r.err;
    return nlohmann::json::object();
  }
}

class SpmdTransparency : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(SpmdTransparency, ProcessesComputeWhatThreadsAndOneDeviceCompute) {
  PIPELAB_REQUIRE_MPIRUN();
  const auto& [schedule, ranks] = GetParam();
  const std::string args = "run " + std::string(kModelFlags) + " --schedule " + schedule + " -K " + std::to_string(ranks) +
                           // naive is M = 1, data-parallel M = K (one share per replica)
                           (schedule == "naive" || schedule == "data-parallel" ? "" : " -M 4") +
                           (schedule == "interleaved-1f1b" ? " --chunks 2" : "");  // v = 2 chunks per rank
  const MpiRun processes = pipelab_ranks(ranks, args);
  ASSERT_EQ(processes.exit_code, 0) << processes.err;
  const MpiRun threads = launch(pipelab_binary() + " " + args);
  ASSERT_EQ(threads.exit_code, 0) << threads.err;
  const nlohmann::json p = parse_json(processes), t = parse_json(threads);
  ASSERT_TRUE(p.contains("runs") && t.contains("runs"));
  const nlohmann::json& run = p["runs"][0];

  // Ran as processes: one rank per stage, each with its host.
  ASSERT_TRUE(run.contains("ranks")) << "no ranks in the JSON of an mpirun run";
  ASSERT_EQ(run["ranks"].size(), static_cast<std::size_t>(ranks));
  for (const auto& r : run["ranks"]) EXPECT_FALSE(r["host"].get<std::string>().empty());
  EXPECT_FALSE(t["runs"][0].contains("ranks")) << "an in-process run reports ranks";

  // The same per-stage arithmetic in the same order: the same loss, bit for bit (data
  // parallelism too: each replica's share of the loss, summed in rank order; its
  // gradients are summed in MPI's order, to rounding: the transparency check below).
  EXPECT_EQ(run["loss"].get<double>(), t["runs"][0]["loss"].get<double>());
  // Against the single-device reference step, computed here, not by the binary: the
  // batch-mean loss over all rows, summed in another order (to rounding).
  const double reference = reference_step(test_model()).loss;
  EXPECT_NEAR(run["loss"].get<double>(), reference, 1e-5 * std::abs(reference));
  // Gradients and updated parameters, gathered from every rank, vs the same reference.
  EXPECT_TRUE(p["transparency"]["ok"].get<bool>()) << p["transparency"].dump();
  EXPECT_LE(p["transparency"]["max_rel_diff"].get<double>(), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Schedules, SpmdTransparency,
                         ::testing::Combine(::testing::Values("naive", "gpipe", "1f1b", "interleaved-1f1b", "data-parallel"),
                                            ::testing::Values(2, 4)),
                         [](const auto& info) {
                           const std::string schedule = std::get<0>(info.param);  // test names: no digit first
                           const std::string name = schedule == "1f1b"               ? "OneFOneB"
                                                    : schedule == "interleaved-1f1b" ? "InterleavedOneFOneB"
                                                    : schedule == "data-parallel"    ? "DataParallel"
                                                                                     : schedule;
                           return name + "Np" + std::to_string(std::get<1>(info.param));
                         });

TEST(SpmdTransparency, EveryRegistryScheduleAtFourRanks) {
  PIPELAB_REQUIRE_MPIRUN();
  const MpiRun r = pipelab_ranks(
      4, "compare " + std::string(kModelFlags) + " -K 4 -M 4 --schedules naive,gpipe,1f1b,zb-h1,zb-h2,data-parallel");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = parse_json(r);
  ASSERT_EQ(j["schedules"].size(), 6u) << r.out;
  for (const auto& row : j["schedules"]) {
    EXPECT_TRUE(row["transparency"]["ok"].get<bool>()) << row["schedule"] << ": " << row["transparency"].dump();
    EXPECT_EQ(row["ranks"].size(), 4u) << row["schedule"];
  }
}

}  // namespace
}  // namespace pipelab::mpi_test
