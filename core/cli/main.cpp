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
// The flags live in command_line.h (library pipelab_cli, shared with the fuzzer), the
// subcommands in commands.h; main() parses, dispatches, and is the one place that
// catches and prints errors.
#include <iostream>
#include <string>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/parse_errors.h"
#include "pipelab/error.h"

int main(int argc, char** argv) {
  using namespace pipelab;
  using namespace pipelab::cli;

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
    std::cerr << "pipelab: error: " << describe_parse_error(app, e) << std::endl;
    return 2;
  }

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
    std::cerr << "pipelab: error: " << e.message() << " (hint: " << e.hint() << ")" << std::endl;
    return 2;
  } catch (const Error& e) {
    std::cerr << "pipelab: error: " << e.message() << (e.hint().empty() ? "" : " (hint: " + e.hint() + ")")
              << (e.where().empty() ? "" : " [" + e.where() + "]") << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pipelab: internal error: " << e.what() << std::endl;
    return 1;
  }
}
