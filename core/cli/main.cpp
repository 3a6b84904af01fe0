// main.cpp — the `pipelab` command line.
//
//   pipelab compare [flags]   naive MP vs GPipe side by side (the main job)
//   pipelab run     [flags]   one step of one schedule
//   pipelab sweep   [flags] --microbatches 1,2,4,8,16,32
//   pipelab devices [-K N] [--placement P]   which backends can run here, and why not
//   pipelab bench   [flags]   GPU benchmarks: pipeline, GEMM kernels, tracing overhead, vs PyTorch
//
// Exit codes: 0 success; 1 a run failed or a check (transparency) failed;
// 2 invalid input (one line naming the flag, with a hint).
//
// Under mpirun or srun with more than one rank (runtime/spmd.h), main() starts MPI first,
// every rank runs the same subcommand in lockstep, rank 0 alone prints and writes files,
// and an error on any rank is reported by that rank and ends every rank (MPI_Abort).
//
// The flags live in command_line.h (library pipelab_cli, shared with the fuzzer), the
// subcommands in commands.h; main() parses, dispatches, and is the one place that
// catches and prints errors.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <memory>
#include <string>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/parse_errors.h"
#include "pipelab/error.h"
#include "pipelab/runtime/spmd.h"

namespace {

// Prints `what` (the error line without "pipelab: ") and returns `code`; in a multi-process
// run the rank reports it and ends every rank instead (spmd_abort), so none waits forever.
int fail(const std::string& what, int code) {
  if (pipelab::spmd_rank()) pipelab::spmd_abort(what, code);
  std::cerr << "pipelab: " << what << std::endl;
  return code;
}

// The ranks after 0 run the same steps but keep quiet: no progress, no output, no files
// (rank 0 writes the one merged trace). Their errors still go to stderr.
void silence_follower(pipelab::cli::CommandLine& cli) {
  for (pipelab::cli::CommonFlags* f : {&cli.run_flags, &cli.compare_flags, &cli.sweep_flags, &cli.advise_flags}) {
    f->quiet = true;
    f->config.trace_path.clear();
    f->plot_path.clear();
  }
  cli.csv_path = "-";  // sweep --csv FILE: to (silenced) stdout instead
  if (!std::freopen("/dev/null", "w", stdout)) std::cerr << "pipelab: cannot silence stdout" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pipelab;
  using namespace pipelab::cli;

  // 0. Processes: a launcher started this one as one of several ranks (runtime/spmd.h).
  std::unique_ptr<SpmdSession> session;
  if (launcher_ranks() > 1) {
    if (!spmd_built())
      return fail("error: started as one of " + std::to_string(launcher_ranks()) +
                      " ranks (mpirun/srun), but this build has no multi-process mode: " + spmd_unavailable_reason() +
                      " (hint: install openmpi-bin libopenmpi-dev with scripts/install-deps and rebuild, or run "
                      "without mpirun: the stages then run as threads of one process)",
                  1);
    try {
      session = std::make_unique<SpmdSession>(argc, argv);
    } catch (const Error& e) {
      return fail("error: " + e.message() + " (hint: " + e.hint() + ")", 1);
    }
  }

  // 1. Parse. CLI11's own errors (unknown flag, not a number) are invalid input too.
  CommandLine cli;
  CLI::App& app = cli.app;
  Subcommand subcommand = Subcommand::Devices;
  try {
    subcommand = cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An unknown flag names the closest one ("did you mean"), arguments as typed.
    return fail("error: " + describe_parse_error(app, e), 2);
  }
  if (session && session->rank().rank != 0) silence_follower(cli);

  // 2. Dispatch, 3. print what went wrong: a UsageError is bad input (2), any other
  // error a failed run (1).
  try {
    switch (subcommand) {
      case Subcommand::Run: return cmd_run(cli.run_flags);
      case Subcommand::Compare: return cmd_compare(cli.compare_flags);
      case Subcommand::Sweep: return cmd_sweep(cli.sweep_flags, cli.csv_path, cli.csv_requested());
      case Subcommand::Advise: return cmd_advise(cli.advise_flags, cli.advise_top);
      case Subcommand::Bench: return cmd_bench(cli.bench_flags);
      case Subcommand::Devices: return cmd_devices(finish_devices_config(cli));
    }
    return 1;  // not reached: the switch names every Subcommand
  } catch (const UsageError& e) {
    // Bad input is, most often, the same on every rank (one command line): the ranks after
    // 0 give rank 0 a second to report it and end the job, so it is printed once, not K times.
    if (session && session->rank().rank != 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    return fail("error: " + e.message() + " (hint: " + e.hint() + ")", 2);
  } catch (const Error& e) {
    return fail("error: " + e.message() + (e.hint().empty() ? "" : " (hint: " + e.hint() + ")") +
                    (e.where().empty() ? "" : " [" + e.where() + "]"),
                1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what(), 1);
  }
}
