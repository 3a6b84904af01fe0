// fuzz/harness/cli_config.h — the `pipelab` command line on arbitrary arguments.
//
// The input is split into arguments at '\n' (at most 48, each at most 200 bytes).
// The harness links pipelab_cli, the CLI's own command line (core/cli/command_line.h):
// it parses with the very CommandLine main() builds, so it fuzzes the real flag
// definitions and string-to-config code (CommandLine::parse, finish_config,
// parse_int_list, and for devices and bench finish_devices_config and
// finish_bench_options), then validate_config and to_json. The subcommands themselves
// (core/cli/commands.h) are not called: they would run steps and write files; a small
// config runs one step on sim here instead.
// Properties:
//   1. Parsing returns a config or a CLI11 ParseError or a pipelab::UsageError —
//      nothing else, no crash, no sanitizer report (UBSan: float-to-int casts of
//      huge numbers, signed overflow).
//   2. A config validate_config accepts has a valid JSON form (to_json), and when it has
//      few actions (K·M <= 64, L <= 256) one step of it runs on sim, its utilizations
//      lie in [0, 1], its params bytes are exact, and its reports (table, JSON) work.
//   3. That step's printed numbers are all finite, its step time > 0 (check_printable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "check.h"
#include "cli/command_line.h"
#include "cli/finite_checks.h"
#include "pipelab/error.h"
#include "pipelab/report/report.h"
#include "pipelab/runtime/run.h"

namespace pipelab::fuzz {

/// Splits the input at '\n' into at most 48 arguments of at most 200 bytes.
inline std::vector<std::string> split_arguments(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < 48; ++i) {
    if (data[i] == '\n') {
      args.push_back(current);
      current.clear();
    } else if (current.size() < 200) {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (args.size() < 48 && !current.empty()) args.push_back(current);
  return args;
}

/// One step of a config with few actions on sim (whose cost does not grow with the
/// model's width or batch), and its reports.
inline void run_small_on_sim(RunConfig c) {
  const long long K = c.devices, M = c.microbatches;
  if (K * M > 64 || c.model.layers > 256) return;
  c.backend = BackendKind::Sim;
  c.watchdog_seconds = 20;
  const RunResult r = run_step(c);
  for (double u : r.metrics.utilization)
    PIPELAB_FUZZ_CHECK(!(u < 0) && !(u > 1 + 1e-9), "utilization " + std::to_string(u) + " outside [0, 1]");
  // The allocator's params bytes of each stage are 4 · P · n_s (P = 2dh + h + d), exactly,
  // counted in 128 bits so that the check itself cannot overflow. __extension__: gcc's
  // -Wpedantic (the unit tests replay this harness) accepts __int128 only so marked.
  __extension__ typedef unsigned __int128 uint128;
  const uint128 d = static_cast<unsigned>(c.model.width), h = static_cast<unsigned>(c.model.hidden);
  for (int s = 0; s < r.partition.stages(); ++s) {
    const uint128 expected = 4 * (2 * d * h + h + d) * static_cast<unsigned>(r.partition.layer_count(s));
    PIPELAB_FUZZ_CHECK(expected == r.metrics.peak_memory_by_category[s][0],
                       "stage " + std::to_string(s) + " params bytes " +
                           std::to_string(r.metrics.peak_memory_by_category[s][0]) +
                           " are not 4·(2dh+h+d)·layers (the byte count overflows 64 bits)");
  }
  // 3. Every number the CLI would print is finite and the step time > 0: the ranges of
  //    validate_config (model/ranges.h) promise it, check_printable (cli/finite_checks.h)
  //    is what the commands assert before printing.
  try {
    cli::check_printable(r);
  } catch (const Error& e) {
    PIPELAB_FUZZ_CHECK(false, "a validated config printed a non-finite number: " + e.message());
  }
  const std::string table = format_run(r, std::nullopt);
  const std::string json = single_run_json(r, std::nullopt).dump();
  PIPELAB_FUZZ_CHECK(!table.empty() && !json.empty(), "empty report");
}

inline void fuzz_cli_config(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> args = split_arguments(data, size);
  std::vector<std::string> storage = {"pipelab"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());

  // The same command line as main() (core/cli/command_line.h).
  cli::CommandLine cli;
  cli::Subcommand subcommand = cli::Subcommand::Devices;
  try {
    subcommand = cli.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    PIPELAB_FUZZ_CHECK(!cli.app.help().empty(), "empty help");
    return;
  } catch (const CLI::CallForAllHelp&) {
    return;
  } catch (const CLI::ParseError&) {
    return;  // main() prints it and exits with status 2
  }

  try {
    std::vector<RunConfig> configs;
    switch (subcommand) {
      case cli::Subcommand::Run:
        configs.push_back(cli::finish_config(cli.run_flags, false));
        break;
      case cli::Subcommand::Compare: {
        RunConfig c = cli::finish_config(cli.compare_flags, false);
        c.schedule = ScheduleKind::Gpipe;
        configs.push_back(c);
        break;
      }
      case cli::Subcommand::Sweep: {
        const RunConfig base = cli::finish_config(cli.sweep_flags, true);
        for (int m : cli::parse_int_list(cli.sweep_flags.microbatches, "--microbatches")) {
          RunConfig c = base;
          c.microbatches = m;
          configs.push_back(c);
        }
        break;
      }
      case cli::Subcommand::Advise: {
        // advise runs every schedule at each M on the sim: check each config it would run.
        const RunConfig base = cli::finish_config(cli.advise_flags, true);
        for (int m : cli::parse_int_list(cli.advise_flags.microbatches, "--microbatches")) {
          RunConfig c = base;
          c.microbatches = m;
          configs.push_back(c);
        }
        break;
      }
      case cli::Subcommand::Devices:
        cli::finish_devices_config(cli);
        break;
      case cli::Subcommand::Bench:
        cli::finish_bench_options(cli.bench_flags);
        break;
    }
    for (RunConfig& c : configs) {
      validate_config(c);
      const nlohmann::json j = nlohmann::json::parse(to_json(c), nullptr, /*allow_exceptions=*/false);
      PIPELAB_FUZZ_CHECK(j.is_object(), "to_json is not a JSON object: " + to_json(c));
      run_small_on_sim(c);
    }
  } catch (const UsageError& e) {
    PIPELAB_FUZZ_CHECK(!e.flag().empty() && !e.hint().empty(), std::string("usage error without flag or hint: ") + e.what());
  }
}

}  // namespace pipelab::fuzz
