// cli/command_line.h — the `pipelab` command line: its flags, parsed into a RunConfig.
//
//   argv → CommandLine::parse() → Subcommand + flags (strings) → finish_config() → RunConfig
//
// The library pipelab_cli (core/CMakeLists.txt). main() (core/cli/main.cpp) and the
// fuzz harness (fuzz/harness/cli_config.h) both build one CommandLine and parse with it,
// so the fuzzer checks the very flag definitions and string-to-config code the binary
// runs. Nothing here runs a step or writes a file: that is commands.h.
//
// Flags are first parsed into strings, so that our own parsers and validate_config
// give the error messages (pipelab::UsageError naming the flag, with a hint).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "pipelab/bench.h"
#include "pipelab/model/config.h"

namespace pipelab::cli {

/// Flags shared by run, compare and sweep, as given (strings until finish_config()).
struct CommonFlags {
  std::string backend = "auto";
  std::string schedule = "gpipe";
  std::string p2p = "async";  ///< --p2p async|batched|blocking
  std::string partition = "even";
  std::string microbatches = "8";
  std::string stage_skew;
  std::string placement = "auto";
  std::string transport = "peer";
  std::string gemm;  ///< "" = the backend's default GEMM (set_gemm_from_string)
  // Real numbers as typed, so that parse_number tells '1e400' (out of range) from 'inf'
  // (not finite) and 'abc' (not a number); finish_config converts them.
  std::string sim_costs = "flops";  ///< --sim-costs flops|unit
  std::string device_tflops = "10";
  std::string link_gbps = "0";
  std::string link_latency_us = "0";
  std::string learning_rate = "0.01";
  std::string watchdog_seconds = "60";
  std::string device_memory_mib = "0";  ///< --device-memory-mib (0 = no cap)
  bool no_trace = false;
  bool json = false;
  bool quiet = false;
  std::string plot_path;  ///< sweep --plot FILE.svg ("" = no plot)
  std::string schedule_file;  ///< run --schedule-file FILE ("" = --schedule names it)
  std::string schedules;      ///< compare --schedules a,b,c (schedule_list.h; "" = naive vs GPipe)
  /// compare's hidden --schedule and --schedule-file: typed only to be refused by name
  /// (schedule_list.h); never read, so finish_config never sees them.
  std::string refused_schedule;
  bool describe = false;      ///< run --describe: print the schedule in the file format, run nothing
  RunConfig config;  ///< the flags CLI11 parses straight into their field (numbers, --remat)
  std::vector<CLI::Option*> model_options;  ///< --layers --width --hidden --batch
  CLI::App* command = nullptr;  ///< the subcommand these flags belong to: which were typed (flag_rules.h)
};

/// `pipelab bench` flags: the model defaults to default_bench_model() (GEMMs dominate).
struct BenchFlags {
  BenchOptions options;
  std::string backend = "cuda";  ///< --backend cuda|cpu|sim
  std::string sim_costs = "flops";  ///< --sim-costs (sim)
  int microbatch_rows = 0;  ///< --microbatch-rows b of the weak table (0: 512 on cuda, 64 elsewhere)
  std::string microbatches = "1,2,4,8,16,32";
  std::string parts = "pipeline,weak,kernels,overhead";
  std::string placement = "auto";
  std::string gemm;  ///< "" = the backend's default (cublas; cpu: blas where built)
  bool vs_torch = false;
  bool json = false;
  bool quiet = false;
  std::string out_path;
  std::vector<CLI::Option*> model_options;  ///< --layers --width --hidden --batch (typed or not)
  CLI::Option* parts_option = nullptr;      ///< --parts (typed or not)
  BenchFlags();
};

/// Which subcommand the command line named (exactly one is required).
enum class Subcommand { Run, Compare, Sweep, Advise, Devices, Bench };

/// The whole command line: one app, three subcommands sharing the common flags,
/// `devices` and `bench`. Not copyable: CLI11 holds pointers into the flag structs.
struct CommandLine {
  CLI::App app{"pipelab: naive model parallelism and GPipe pipeline parallelism, measured"};
  CommonFlags run_flags, compare_flags, sweep_flags, advise_flags;
  int advise_top = 5;  ///< advise --top: how many fitting configurations to list
  CLI::App* run = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* sweep = nullptr;
  CLI::App* advise = nullptr;
  CLI::App* devices = nullptr;
  CLI::App* bench = nullptr;
  BenchFlags bench_flags;
  CLI::Option* csv = nullptr;  ///< sweep --csv [FILE]
  std::string csv_path;
  RunConfig devices_config;
  std::string devices_placement = "auto", devices_transport = "peer";

  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  /// Parses argv into the flags and says which subcommand was given. Throws what
  /// CLI11 throws: CLI::CallForHelp / CallForAllHelp (app.exit() prints the help) or
  /// another CLI::ParseError (an unknown flag, a value that is not a number, ...).
  Subcommand parse(int argc, char** argv);
  /// Whether `sweep --csv` was given (with or without a FILE).
  bool csv_requested() const { return csv->count() > 0; }
};

/// "a,b,,c" → {"a", "b", "", "c"} (empty items kept: the caller reports them).
std::vector<std::string> split_commas(const std::string& text);
/// "2.5" → 2.5; "inf", "nan" as such (validate_config refuses them as not finite);
/// UsageError naming `flag` for text that is not a number, or a number beyond ±1.8e308.
double parse_number(const std::string& text, const char* flag);
/// "1,2.5,4" → {1, 2.5, 4}; UsageError naming `flag` for an item parse_number refuses.
std::vector<double> parse_number_list(const std::string& text, const char* flag);
/// "1,2,4" → {1, 2, 4}; UsageError naming `flag` for an item that is not a whole number
/// within ±1e9.
std::vector<int> parse_int_list(const std::string& text, const char* flag);

/// "pipelab: <message>" on stderr, unless --quiet.
void progress(const CommonFlags& flags, const std::string& message);

/// The config the string flags name; throws UsageError. `allow_list`: --microbatches may
/// be a list (sweep; the config gets its first M). With --schedule-file the schedule, K, M
/// and remat are the file's (a typed --schedule, or -K, -M, --remat that differ, refused). On the cuda backend (or auto with a
/// usable GPU) with no model flag given, the GPU-sized default model (said on stderr).
RunConfig finish_config(CommonFlags& flags, bool allow_list);
/// `pipelab devices`: -K with the named placement and transport; throws UsageError.
RunConfig finish_devices_config(const CommandLine& cli);
/// `pipelab bench`: the options the string flags name (backend cuda unless --backend cpu
/// or sim, schedule GPipe; off cuda the backend's run default model unless one is typed,
/// and the parts pipeline,weak; --vs-torch adds the torch part); throws UsageError.
BenchOptions finish_bench_options(const BenchFlags& flags);

/// Defines bench's flags on `cmd`, parsed into `flags` (bench_flags.cpp).
void add_bench_flags(CLI::App& cmd, BenchFlags& flags);

}  // namespace pipelab::cli
