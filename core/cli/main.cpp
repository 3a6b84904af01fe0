// main.cpp — the `pipelab` command line.
//
//   pipelab compare [flags]   naive MP vs GPipe side by side (the main job)
//   pipelab run     [flags]   one step of one schedule
//   pipelab sweep   [flags] --microbatches 1,2,4,8,16,32
//   pipelab devices [-K N] [--placement P]   which backends can run here, and why not
//
// Exit codes: 0 success; 1 a run failed or a check (transparency) failed;
// 2 invalid input (one line naming the flag, with a hint).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "pipelab/cuda_backend.h"
#include "pipelab/error.h"
#include "pipelab/report.h"
#include "pipelab/run.h"
#include "pipelab/trace_json.h"

namespace {

using namespace pipelab;

// Flags shared by run, compare and sweep, parsed into strings first so that
// our own validation (validate_config) gives the error messages.
struct CommonFlags {
  std::string backend = "auto";
  std::string schedule = "gpipe";
  std::string partition = "even";
  std::string microbatches = "8";
  std::string stage_skew;
  std::string placement = "auto";
  std::string transport = "peer";
  std::string gemm = "cublas";
  bool no_trace = false;
  bool json = false;
  bool quiet = false;
  RunConfig config;
};

void add_common_flags(CLI::App& cmd, CommonFlags& f, bool with_schedule) {
  cmd.add_option("--backend", f.backend, "auto|sim|cpu|cuda (auto = cuda if a GPU is usable, else cpu)")
      ->capture_default_str();
  cmd.add_option("-K,--devices", f.config.devices, "number of devices K (pipeline stages)")->capture_default_str();
  cmd.add_option("-M,--microbatches", f.microbatches,
                 "micro-batches M (sweep: a comma-separated list, e.g. 1,2,4,8,16,32)")
      ->capture_default_str();
  if (with_schedule) cmd.add_option("--schedule", f.schedule, "naive|gpipe|1f1b")->capture_default_str();
  cmd.add_option("--layers", f.config.model.layers, "L residual MLP blocks")->capture_default_str();
  cmd.add_option("--width", f.config.model.width, "d, the width (and number of classes)")->capture_default_str();
  cmd.add_option("--hidden", f.config.model.hidden, "h, the hidden size of each block")->capture_default_str();
  cmd.add_option("--batch", f.config.model.batch, "B, samples per step")->capture_default_str();
  cmd.add_option("--seed", f.config.model.seed, "seed of parameters and data")->capture_default_str();
  cmd.add_option("--lr", f.config.model.learning_rate, "SGD learning rate")->capture_default_str();
  cmd.add_flag("--remat", f.config.remat, "re-materialization: stash only stage inputs, recompute before B");
  cmd.add_option("--partition", f.partition, "even|balanced (min-max stage cost)")->capture_default_str();
  cmd.add_option("--device-tflops", f.config.sim.device_tflops, "sim: compute rate per device (TFLOP/s)")
      ->capture_default_str();
  cmd.add_option("--link-gbps", f.config.sim.link_gbps, "sim: link bandwidth in Gbit/s (0 = ideal)")
      ->capture_default_str();
  cmd.add_option("--link-latency-us", f.config.sim.link_latency_us, "sim: per-transfer latency in us")
      ->capture_default_str();
  cmd.add_option("--stage-skew", f.stage_skew, "sim: per-stage compute multipliers, e.g. 1,1,2,1");
  cmd.add_option("--placement", f.placement,
                 "cuda: auto|gpus|partitions|streams (auto: a GPU per device if there are K, else K SM "
                 "partitions of one GPU, else K streams)")
      ->capture_default_str();
  cmd.add_option("--transport", f.transport, "cuda, placement gpus: peer|nccl")->capture_default_str();
  cmd.add_option("--gemm", f.gemm, "cuda: cublas|tiled|naive")->capture_default_str();
  cmd.add_flag("--tf32", f.config.cuda.tf32, "cuda: let cuBLAS use TF32 tensor cores (checked at TF32 tolerance)");
  cmd.add_flag("--no-trace", f.no_trace,
               "cuda: no CUDA events or NVTX ranges (host-clock spans), to measure their overhead");
  cmd.add_option("--watchdog-s", f.config.watchdog_seconds, "abort if no action finishes for this long")
      ->capture_default_str();
  cmd.add_option("--trace", f.config.trace_path,
                 "write the Chrome trace JSON here (compare/sweep: one file per run, suffixed)");
  cmd.add_flag("--json", f.json, "print one JSON object instead of the table");
  cmd.add_flag("-q,--quiet", f.quiet, "no progress messages on stderr");
}

// "1,2,4" → {1, 2, 4}; errors name the flag.
std::vector<double> parse_number_list(const std::string& text, const char* flag) {
  std::vector<double> values;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    try {
      std::size_t used = 0;
      values.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      PIPELAB_USAGE_ERROR(flag, "'" + item + "' is not a number", "give a comma-separated list, e.g. 1,2,4,8");
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return values;
}

std::vector<int> parse_int_list(const std::string& text, const char* flag) {
  std::vector<int> out;
  for (double v : parse_number_list(text, flag)) {
    // Range first: casting an out-of-range double to an integer is undefined behaviour.
    if (!(v >= -1e9 && v <= 1e9))
      PIPELAB_USAGE_ERROR(flag, "'" + std::to_string(v) + "' is out of range", "e.g. 1,2,4,8");
    if (v != std::floor(v))
      PIPELAB_USAGE_ERROR(flag, "'" + std::to_string(v) + "' is not a whole number", "e.g. 1,2,4,8");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

// Turn the string flags into the config; throws UsageError.
RunConfig finish_config(CommonFlags& f, bool allow_list) {
  RunConfig c = f.config;
  c.backend = backend_from_string(f.backend);
  c.schedule = schedule_from_string(f.schedule);
  if (f.partition == "even") {
    c.partition = PartitionMethod::Even;
  } else if (f.partition == "balanced") {
    c.partition = PartitionMethod::Balanced;
  } else {
    PIPELAB_USAGE_ERROR("--partition", "unknown partition method '" + f.partition + "'", "use even or balanced");
  }
  const std::vector<int> ms = parse_int_list(f.microbatches, "--microbatches");
  if (ms.size() != 1 && !allow_list)
    PIPELAB_USAGE_ERROR("--microbatches", "takes one number here", "lists are for `pipelab sweep`");
  c.microbatches = ms.front();
  if (!f.stage_skew.empty()) c.sim.stage_skew = parse_number_list(f.stage_skew, "--stage-skew");
  c.cuda.placement = placement_from_string(f.placement);
  c.cuda.transport = transport_from_string(f.transport);
  c.cuda.gemm = gemm_from_string(f.gemm);
  c.cuda.instrument = !f.no_trace;
  return c;
}

// A trace path must be writable before we spend time running.
void check_writable(const std::string& path) {
  std::ofstream probe(path, std::ios::app);
  if (!probe)
    PIPELAB_USAGE_ERROR("--trace", "cannot write '" + path + "'",
                        "check that the directory exists and is writable");
}

// "out.json" + "gpipe" → "out-gpipe.json".
std::string suffixed(const std::string& path, const std::string& tag) {
  const std::string ext = ".json";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
    return path.substr(0, path.size() - ext.size()) + "-" + tag + ext;
  return path + "-" + tag + ".json";
}

void progress(const CommonFlags& f, const std::string& message) {
  if (!f.quiet) std::cerr << "pipelab: " << message << std::endl;
}

int cmd_run(CommonFlags& f) {
  RunConfig c = finish_config(f, false);
  validate_config(c);
  if (!c.trace_path.empty()) check_writable(c.trace_path);
  progress(f, std::string("running ") + to_string(c.schedule) + " on " + to_string(resolve_backend(c.backend)));
  const RunResult r = run_step(c);
  std::optional<double> diff;
  if (r.numerics) {
    progress(f, "single-device reference step (transparency check)");
    diff = max_relative_difference(*r.numerics, reference_step(c.model));
  }
  if (!c.trace_path.empty()) {
    write_chrome_trace_file(r.trace, c.trace_path);
    progress(f, "trace written to " + c.trace_path + " (open in https://ui.perfetto.dev or pipelab-viz)");
  }
  if (f.json) {
    std::cout << single_run_json(r, diff).dump(2) << std::endl;
  } else {
    std::cout << format_run(r, diff);
  }
  return diff && *diff > transparency_tolerance(r.config) ? 1 : 0;
}

int cmd_compare(CommonFlags& f) {
  RunConfig c = finish_config(f, false);
  validate_config(c);
  resolve_backend(c.backend);  // cuda without a GPU fails here, before any output
  std::string naive_path, gpipe_path;
  if (!c.trace_path.empty()) {
    naive_path = suffixed(c.trace_path, "naive");
    gpipe_path = suffixed(c.trace_path, "gpipe");
    check_writable(naive_path);
    check_writable(gpipe_path);
  }
  const Comparison cmp = compare(c, [&](const std::string& m) { progress(f, "running " + m); });
  if (!c.trace_path.empty()) {
    write_chrome_trace_file(cmp.naive.trace, naive_path);
    write_chrome_trace_file(cmp.gpipe.trace, gpipe_path);
    progress(f, "traces written to " + naive_path + " and " + gpipe_path);
  }
  if (f.json) {
    std::cout << comparison_json(cmp).dump(2) << std::endl;
  } else {
    std::cout << format_comparison(cmp);
  }
  return cmp.max_rel_diff && !cmp.transparency_ok ? 1 : 0;
}

// A one-line progress bar on stderr: "[####------] 3/6 M=4".
void progress_bar(const CommonFlags& f, int done, int total, const std::string& what) {
  if (f.quiet) return;
  const int width = 24;
  const int filled = total > 0 ? done * width / total : width;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '-');
  const bool tty = isatty(fileno(stderr));
  std::cerr << (tty ? "\r" : "") << "pipelab: [" << bar << "] " << done << "/" << total << " " << what
            << (tty && done < total ? "   " : "\n") << std::flush;
}

int cmd_sweep(CommonFlags& f, const std::string& csv_path, bool csv_flag) {
  RunConfig base = finish_config(f, true);
  const std::vector<int> ms = parse_int_list(f.microbatches, "--microbatches");
  // Check every M before running any.
  for (int m : ms) {
    RunConfig c = base;
    c.microbatches = m;
    validate_config(c);
  }
  resolve_backend(base.backend);
  if (!base.trace_path.empty()) check_writable(suffixed(base.trace_path, "naive"));
  if (csv_flag && !csv_path.empty() && csv_path != "-") {
    std::ofstream probe(csv_path, std::ios::app);
    if (!probe) PIPELAB_USAGE_ERROR("--csv", "cannot write '" + csv_path + "'", "check the directory exists");
  }
  std::vector<RunResult> runs;
  const int total = static_cast<int>(ms.size()) + 1;
  RunConfig naive = base;
  naive.schedule = ScheduleKind::Naive;
  progress_bar(f, 0, total, "naive");
  runs.push_back(run_step(naive));
  for (std::size_t i = 0; i < ms.size(); ++i) {
    progress_bar(f, static_cast<int>(i) + 1, total, "gpipe M=" + std::to_string(ms[i]));
    RunConfig c = base;
    c.schedule = ScheduleKind::Gpipe;
    c.microbatches = ms[i];
    runs.push_back(run_step(c));
  }
  progress_bar(f, total, total, "done");
  if (!base.trace_path.empty()) {
    for (const RunResult& r : runs)
      write_chrome_trace_file(r.trace, suffixed(base.trace_path, r.schedule.name + "-M" +
                                                                     std::to_string(r.schedule.microbatches)));
  }
  if (csv_flag) {
    if (csv_path.empty() || csv_path == "-") {
      std::cout << sweep_csv(runs);
    } else {
      std::ofstream(csv_path) << sweep_csv(runs);
      if (!f.json) std::cout << format_sweep(runs);
      progress(f, "CSV written to " + csv_path);
    }
  } else if (f.json) {
    std::cout << sweep_json(runs).dump(2) << std::endl;
  } else {
    std::cout << format_sweep(runs);
  }
  if (f.json && csv_flag && !csv_path.empty() && csv_path != "-") std::cout << sweep_json(runs).dump(2) << std::endl;
  return 0;
}

int cmd_devices(const RunConfig& config) {
  const BackendAvailability a = backend_availability();
  const unsigned threads = std::thread::hardware_concurrency();
  std::cout << "# backend  available  notes\n";
  std::cout << "  sim      yes        discrete-event simulation with a FLOP/bandwidth cost model; no numerics\n";
  std::cout << "  cpu      yes        one worker thread per device, real kernels; " << threads
            << " hardware threads here\n";
  std::cout << "  cuda     " << (a.cuda ? "yes        " : "no         ") << (a.cuda ? "" : a.cuda_reason) << "\n";
  std::cout << "# --backend auto picks: " << to_string(resolve_backend(BackendKind::Auto)) << "\n";
  std::cout << "# exercise track linked: " << PIPELAB_TRACK_NAME << "\n";
#if PIPELAB_HAVE_CUDA
  std::cout << describe_cuda(config);
#else
  (void)config;
#endif
  return 0;
}

// The whole command line: one app, three subcommands sharing the common flags, and
// `devices`. Built in one place so main() and the fuzz harness parse alike.
struct CommandLine {
  CLI::App app{"pipelab: naive model parallelism and GPipe pipeline parallelism, measured"};
  CommonFlags run_flags, compare_flags, sweep_flags;
  CLI::App* run = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* sweep = nullptr;
  CLI::App* devices = nullptr;
  CLI::Option* csv = nullptr;
  std::string csv_path;
  RunConfig devices_config;
  std::string devices_placement = "auto", devices_transport = "peer";

  CommandLine() {
    app.require_subcommand(1);
    run = app.add_subcommand("run", "one training step of one schedule");
    add_common_flags(*run, run_flags, true);
    compare = app.add_subcommand("compare", "naive model parallelism vs GPipe, side by side");
    add_common_flags(*compare, compare_flags, false);
    sweep = app.add_subcommand("sweep", "GPipe over a list of micro-batch counts");
    sweep_flags.microbatches = "1,2,4,8,16,32";  // before add_common_flags: --help shows it
    add_common_flags(*sweep, sweep_flags, false);
    csv = sweep->add_option("--csv", csv_path, "write CSV (to FILE, or stdout without one)")->expected(0, 1);
    devices = app.add_subcommand("devices", "which backends can run here, and why not");
    devices->add_option("-K,--devices", devices_config.devices, "show the cuda placement for K devices")
        ->capture_default_str();
    devices->add_option("--placement", devices_placement, "auto|gpus|partitions|streams")->capture_default_str();
    devices->add_option("--transport", devices_transport, "peer|nccl")->capture_default_str();
  }
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;
};

}  // namespace

int main(int argc, char** argv) {
  CommandLine cli;
  CLI::App& app = cli.app;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "pipelab: error: " << e.what() << " (hint: see `pipelab " <<
        (app.get_subcommands().empty() ? std::string("--help") : app.get_subcommands().front()->get_name() + " --help")
              << "`)" << std::endl;
    return 2;
  }

  try {
    if (cli.run->parsed()) return cmd_run(cli.run_flags);
    if (cli.compare->parsed()) return cmd_compare(cli.compare_flags);
    if (cli.sweep->parsed()) return cmd_sweep(cli.sweep_flags, cli.csv_path, cli.csv->count() > 0);
    cli.devices_config.cuda.placement = placement_from_string(cli.devices_placement);
    cli.devices_config.cuda.transport = transport_from_string(cli.devices_transport);
    return cmd_devices(cli.devices_config);
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
