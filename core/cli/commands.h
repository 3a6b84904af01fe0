// cli/commands.h — the subcommands of `pipelab`: each turns its parsed flags into a
// config (command_line.h), runs, prints its table or JSON on stdout and returns the exit
// code. Progress goes to stderr unless --quiet.
//
//   pipelab run     one step of one schedule; 1 if the transparency check failed
//   pipelab compare naive MP vs GPipe side by side; 1 if the transparency check failed;
//                   with --schedules a,b,c every listed schedule, one row each
//   pipelab sweep   naive, then GPipe over a list of M (table, --json or --csv)
//   pipelab devices which backends can run here, and why not
//   pipelab bench   GPU benchmarks (pipelab_bench)
//
// Bad input throws pipelab::UsageError before any output or run; main() prints it.
#pragma once

#include <string>

#include "cli/command_line.h"

namespace pipelab::cli {

/// `pipelab run`: one step; exit 1 if its numerics differ from the reference.
int cmd_run(CommonFlags& flags);
/// `pipelab compare`: naive (M = 1) and GPipe, or with --schedules every listed schedule
/// (schedule_table.h); exit 1 if a transparency check failed.
int cmd_compare(CommonFlags& flags);
/// `pipelab sweep`: `csv_flag` is whether --csv was given, `csv_path` its FILE ("" or
/// "-": stdout).
int cmd_sweep(CommonFlags& flags, const std::string& csv_path, bool csv_flag);
/// `pipelab devices`: the backends and, for `config` (K, placement), the GPU part.
/// `pipelab advise`: every schedule × M × remat on the sim, the fastest that fit
/// --device-memory-mib (runtime/advise.h). Exit 0, or 1 when nothing fits.
int cmd_advise(CommonFlags& flags, int top);

int cmd_devices(const RunConfig& config);
/// `pipelab bench`: the benchmark tables (or JSON; --out also writes it to a file).
int cmd_bench(const BenchFlags& flags);

}  // namespace pipelab::cli
