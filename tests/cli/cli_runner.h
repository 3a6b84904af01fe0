// tests/cli/cli_runner.h — runs the `pipelab` binary of this build and captures its
// exit status, stdout and stderr (for the CLI tests that check messages).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace pipelab::cli_test {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  /// Lines on stderr.
  long err_lines() const { return std::count(err.begin(), err.end(), '\n'); }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// bin/pipelab with `args` (a shell-quoted string).
inline CliRun pipelab(const std::string& args) {
  const std::string dir = ::testing::TempDir();
  const std::string out = dir + "/pipelab_flags_out_" + std::to_string(getpid());
  const std::string err = dir + "/pipelab_flags_err_" + std::to_string(getpid());
  const std::string cmd = std::string(PIPELAB_BINARY_DIR) + "/bin/pipelab " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

/// Whether `pipelab devices` says the cuda backend can run here.
inline bool cuda_usable() { return pipelab("devices").out.find("  cuda     yes") != std::string::npos; }

}  // namespace pipelab::cli_test
