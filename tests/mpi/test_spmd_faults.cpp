// test_spmd_faults.cpp — a fault on one rank ends every rank, in bounded time, with a
// message that names what went wrong: a rank that throws, a rank killed with SIGKILL,
// ranks started with different flags, a rank count other than K (of stages or of
// data-parallel replicas), a backend the mode lacks.
// Every launch has --watchdog-s 10 and a hard limit (mpi_runner.h); each test checks the
// time it took.
#include <gtest/gtest.h>

#include "mpi_runner.h"

namespace pipelab::mpi_test {
namespace {

const std::string kRun = "run --backend cpu --layers 8 --width 64 --hidden 128 --batch 32 --warmup 0 --repeat 1 "
                         "-q ";
// The watchdog the ranks get, but for the hang test's shorter one.
const std::string kWatchdog = "--watchdog-s 10 ";
// A fault must end the job well inside the watchdog: the ranks are told, not left waiting.
constexpr double kSecondsToEnd = 8.0;

// `ranks` ranks of a K = ranks, M = 4 run whose rank `rank` meets PIPELAB_SPMD_FAULT=<rank>:<fault>.
MpiRun run_with_fault(const std::string& fault, const std::string& watchdog, int ranks = 4, int rank = 2) {
  const std::string k = std::to_string(ranks);
  return launch(mpirun() + "-x PIPELAB_SPMD_FAULT=" + std::to_string(rank) + ":" + fault + " -np " + k + " " +
                pipelab_binary() + " " + kRun + watchdog + "-K " + k + " -M 4");
}

TEST(SpmdFaults, ARankThatThrowsEndsEveryRankNamingItself) {
  PIPELAB_REQUIRE_MPIRUN();
  const MpiRun r = run_with_fault("throw", kWatchdog);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("rank 2 (stage 2)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("injected fault"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

TEST(SpmdFaults, ARankKilledWithSigkillEndsEveryRankNamingIt) {
  PIPELAB_REQUIRE_MPIRUN();
  const MpiRun r = run_with_fault("kill", kWatchdog);
  EXPECT_NE(r.exit_code, 0);
  // mpirun's own report: "... process rank 2 with PID ... exited on signal 9 (Killed)".
  EXPECT_NE(r.err.find("rank 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("signal 9"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

TEST(SpmdFaults, ARankThatHangsEndsEveryRankWithinTheWatchdogNamingIt) {
  PIPELAB_REQUIRE_MPIRUN();
  // Alive but silent: only the watchdog (2 s here) of a rank waiting for it can tell. The
  // middle rank of three hangs: both others wait on it alone, so whichever watchdog fires
  // first names it. (With four ranks and rank 2 hanging, rank 0 can time out first, waiting
  // on rank 1, which is itself stuck on rank 2, and name rank 1: seen under ctest -j2.)
  const MpiRun r = run_with_fault("hang", "--watchdog-s 2 ", 3, 1);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("watchdog: rank "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("from rank 1 for 2 s"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 2 + kSecondsToEnd);
}

TEST(SpmdFaults, RanksStartedWithDifferentFlagsAreRefusedNamingTheFlag) {
  PIPELAB_REQUIRE_MPIRUN();
  // Open MPI's MPMD form: ranks 0 and 1 with -M 4, rank 2 with -M 2.
  const std::string run = pipelab_binary() + " " + kRun + kWatchdog + "-K 3 ";
  const MpiRun r = launch(mpirun() + "-np 2 " + run + "-M 4 : -np 1 " + run + "-M 2");
  EXPECT_EQ(r.exit_code, 2) << r.err;  // invalid input
  EXPECT_NE(r.err.find("--microbatches: rank 2 was started with --microbatches 2, rank 0 with 4"), std::string::npos)
      << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

TEST(SpmdFaults, ARankCountOtherThanKIsRefusedWithTheFix) {
  PIPELAB_REQUIRE_MPIRUN();
  const MpiRun r = pipelab_ranks(2, kRun + kWatchdog + "-K 4 -M 4");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--devices: the launcher started 2 ranks for a pipeline of K=4 stages"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("mpirun -np 4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-K 2"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

TEST(SpmdFaults, ABackendWithoutTheProcessModeIsRefused) {
  PIPELAB_REQUIRE_MPIRUN();
  const MpiRun r = pipelab_ranks(2, "run --backend sim -K 2 -M 4 -q");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--backend: the multi-process mode runs the cpu backend, not sim"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

TEST(SpmdFaults, ADataParallelRankCountOtherThanKIsRefusedWithTheFix) {
  PIPELAB_REQUIRE_MPIRUN();
  // One rank per replica: 2 ranks cannot hold 4 replicas.
  const MpiRun r = pipelab_ranks(2, kRun + kWatchdog + "-K 4 --schedule data-parallel");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--devices: the launcher started 2 ranks for data parallelism over K=4 replicas"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("mpirun -np 4"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kSecondsToEnd);
}

}  // namespace
}  // namespace pipelab::mpi_test
