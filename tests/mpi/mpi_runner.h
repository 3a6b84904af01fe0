// tests/mpi/mpi_runner.h — runs this build's `pipelab` under mpirun (Open MPI) and captures
// its exit status, stdout, stderr and wall time. Every launch is bounded: `timeout` kills
// mpirun and its ranks past the limit, so a test that would hang fails instead.
//
// The flags every launch gets, and why: --allow-run-as-root (CI runs as root);
// --oversubscribe (4 ranks on a 2-core machine); mpi_yield_when_idle 1 (a rank blocked
// inside MPI, e.g. in MPI_Finalize, yields its core instead of spinning on it);
// --bind-to none (Open MPI binds each of 2 ranks to a core: on a machine busy with other
// tests a bound rank waits for its one core, where an unbound one moves to a free one).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace pipelab::mpi_test {

/// What one launch did.
struct MpiRun {
  int exit_code = -1;   ///< mpirun's exit status (-1 if it did not exit normally)
  std::string out;      ///< stdout (rank 0's: the others are silent)
  std::string err;      ///< stderr of every rank and of mpirun
  double seconds = 0;   ///< wall time of the whole launch
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// "" where the tests can launch ranks, else why not (the test then skips with it).
inline std::string why_no_mpirun() {
#ifndef PIPELAB_HAVE_MPI
  return "this build has no multi-process mode (no MPI at configure time: scripts/install-deps installs Open MPI)";
#else
  if (std::system("mpirun --version 2>/dev/null | grep -q 'Open MPI'") != 0)
    return "no Open MPI mpirun on PATH (these tests use its flags)";
  return "";
#endif
}

/// The mpirun prefix with the flags every launch gets (see the top of this file).
inline std::string mpirun() {
  return "mpirun --allow-run-as-root --oversubscribe --mca mpi_yield_when_idle 1 --bind-to none ";
}

/// This build's bin/pipelab.
inline std::string pipelab_binary() { return std::string(PIPELAB_BINARY_DIR) + "/bin/pipelab"; }

/// A shell command line (an mpirun launch, or plain pipelab), killed after `limit_s`.
inline MpiRun launch(const std::string& command, int limit_s = 60) {
  const std::string dir = ::testing::TempDir();
  const std::string tag = std::to_string(getpid());
  const std::string out = dir + "/pipelab_mpi_out_" + tag, err = dir + "/pipelab_mpi_err_" + tag;
  const std::string cmd = "timeout -s KILL " + std::to_string(limit_s) + " " + command + " >" + out + " 2>" + err;
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(cmd.c_str());
  MpiRun r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

/// `mpirun -np ranks pipelab <args>`.
inline MpiRun pipelab_ranks(int ranks, const std::string& args, int limit_s = 60) {
  return launch(mpirun() + "-np " + std::to_string(ranks) + " " + pipelab_binary() + " " + args, limit_s);
}

}  // namespace pipelab::mpi_test

/// Skips the test, with the reason, where ranks cannot be launched.
#define PIPELAB_REQUIRE_MPIRUN()                                      \
  do {                                                               \
    const std::string why = ::pipelab::mpi_test::why_no_mpirun();    \
    if (!why.empty()) GTEST_SKIP() << why;                           \
  } while (0)
