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
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "pipelab/bench.h"
#include "pipelab/error.h"
#include "pipelab/report/report.h"
#include "pipelab/runtime/run.h"
#include "pipelab/trace/trace_json.h"

#ifndef PIPELAB_SOURCE_DIR  // set by core/CMakeLists.txt; the fuzz harness has none
#define PIPELAB_SOURCE_DIR "."
#endif

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
  std::vector<CLI::Option*> model_options;  // --layers --width --hidden --batch
};

void add_common_flags(CLI::App& cmd, CommonFlags& f, bool with_schedule) {
  cmd.add_option("--backend", f.backend, "auto|sim|cpu|cuda (auto = cuda if a GPU is usable, else cpu)")
      ->capture_default_str();
  cmd.add_option("-K,--devices", f.config.devices, "number of devices K (pipeline stages)")->capture_default_str();
  cmd.add_option("-M,--microbatches", f.microbatches,
                 "micro-batches M (sweep: a comma-separated list, e.g. 1,2,4,8,16,32)")
      ->capture_default_str();
  if (with_schedule) cmd.add_option("--schedule", f.schedule, "naive|gpipe|1f1b")->capture_default_str();
  const ModelSpec gpu = default_cuda_model();
  auto shape = [&](const char* what, int gpu_default) {
    return std::string(what) + " (cuda default " + std::to_string(gpu_default) + ")";
  };
  f.model_options = {
      cmd.add_option("--layers", f.config.model.layers, shape("L residual MLP blocks", gpu.layers))
          ->capture_default_str(),
      cmd.add_option("--width", f.config.model.width, shape("d, the width (and number of classes)", gpu.width))
          ->capture_default_str(),
      cmd.add_option("--hidden", f.config.model.hidden, shape("h, the hidden size of each block", gpu.hidden))
          ->capture_default_str(),
      cmd.add_option("--batch", f.config.model.batch, shape("B, samples per step", gpu.batch))
          ->capture_default_str()};
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
  cmd.add_option("--warmup", f.config.cuda.warmup_steps,
                 "cuda: untimed warm-up steps before the measured one (parameters left as initialised)")
      ->capture_default_str();
  cmd.add_option("--watchdog-s", f.config.watchdog_seconds, "abort if no action finishes for this long")
      ->capture_default_str();
  cmd.add_option("--trace", f.config.trace_path,
                 "write the Chrome trace JSON here (compare/sweep: one file per run, suffixed)");
  cmd.add_flag("--json", f.json, "print one JSON object instead of the table");
  cmd.add_flag("-q,--quiet", f.quiet, "no progress messages on stderr");
}

// "a,b,,c" → {"a", "b", "", "c"} (empty items kept: the caller reports them).
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = text.find(',', pos);
    items.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) return items;
    pos = comma + 1;
  }
}

// "1,2,4" → {1, 2, 4}; errors name the flag.
std::vector<double> parse_number_list(const std::string& text, const char* flag) {
  std::vector<double> values;
  for (const std::string& item : split_commas(text)) {
    try {
      std::size_t used = 0;
      values.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      PIPELAB_USAGE_ERROR(flag, "'" + item + "' is not a number", "give a comma-separated list, e.g. 1,2,4,8");
    }
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

void progress(const CommonFlags& f, const std::string& message) {
  if (!f.quiet) std::cerr << "pipelab: " << message << std::endl;
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
  // On the cuda backend, with no model flag given, the GPU-sized default model (config.h
  // says why); any one model flag keeps the cpu defaults for the others.
  bool model_given = false;
  for (const CLI::Option* option : f.model_options) model_given = model_given || option->count() > 0;
  if (!model_given && (c.backend == BackendKind::Cuda || c.backend == BackendKind::Auto) &&
      backend_availability().cuda) {
    const ModelSpec gpu = default_cuda_model();
    c.model.layers = gpu.layers;
    c.model.width = gpu.width;
    c.model.hidden = gpu.hidden;
    c.model.batch = gpu.batch;
    progress(f, "cuda: the GPU-sized default model L=" + std::to_string(gpu.layers) + " d=" +
                    std::to_string(gpu.width) + " h=" + std::to_string(gpu.hidden) + " B=" +
                    std::to_string(gpu.batch) + " (give --layers/--width/--hidden/--batch to choose)");
  }
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

int cmd_run(CommonFlags& f) {
  RunConfig c = finish_config(f, false);
  validate_config(c);
  if (!c.trace_path.empty()) check_writable(c.trace_path);
  progress(f, std::string("running ") + to_string(c.schedule) + " on " + to_string(resolve_backend(c.backend)));
  const RunResult r = run_step(c);
  std::optional<double> diff;
  if (r.numerics) {
    progress(f, describe(reference_kind(r.config)) + " (transparency check)");
    diff = max_relative_difference(*r.numerics, transparency_reference(r.config));
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
  sweep_configs(base, ms);  // checks every M before any output or run
  resolve_backend(base.backend);
  if (!base.trace_path.empty()) check_writable(suffixed(base.trace_path, "naive"));
  if (csv_flag && !csv_path.empty() && csv_path != "-") {
    std::ofstream probe(csv_path, std::ios::app);
    if (!probe) PIPELAB_USAGE_ERROR("--csv", "cannot write '" + csv_path + "'", "check the directory exists");
  }
  const int total = static_cast<int>(ms.size()) + 1;
  const std::vector<RunResult> runs =
      run_sweep(base, ms, [&](std::size_t i, std::size_t, const RunConfig& next) {
        progress_bar(f, static_cast<int>(i), total,
                     next.schedule == ScheduleKind::Naive ? "naive" : "gpipe M=" + std::to_string(next.microbatches));
      });
  progress_bar(f, total, total, "done");
  if (!base.trace_path.empty()) {
    for (const RunResult& r : runs)
      write_chrome_trace_file(r.trace, suffixed(base.trace_path, r.schedule.name() + "-M" +
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
  std::cout << describe_gpu_backend(config);
  return 0;
}

// `pipelab bench` flags: the model defaults to default_bench_model() (GEMMs dominate).
struct BenchFlags {
  BenchOptions options;
  std::string microbatches = "1,2,4,8,16,32";
  std::string parts = "pipeline,kernels,overhead";
  std::string placement = "auto";
  std::string gemm = "cublas";
  bool vs_torch = false;
  bool json = false;
  bool quiet = false;
  std::string out_path;
  BenchFlags() {
    options.base.model = default_bench_model();
    options.base.devices = 4;
    // The source tree this binary was built from: where bench/torch_baseline.py lives.
    options.torch_script = std::string(PIPELAB_SOURCE_DIR) + "/bench/torch_baseline.py";
  }
};

void add_bench_flags(CLI::App& cmd, BenchFlags& f) {
  RunConfig& c = f.options.base;
  cmd.add_option("-K,--devices", c.devices, "pipeline stages K")->capture_default_str();
  cmd.add_option("-M,--microbatches", f.microbatches, "GPipe's M values, comma-separated")->capture_default_str();
  cmd.add_option("--layers", c.model.layers, "L residual MLP blocks")->capture_default_str();
  cmd.add_option("--width", c.model.width, "d")->capture_default_str();
  cmd.add_option("--hidden", c.model.hidden, "h")->capture_default_str();
  cmd.add_option("--batch", c.model.batch, "B")->capture_default_str();
  cmd.add_option("--seed", c.model.seed, "seed of parameters and data")->capture_default_str();
  cmd.add_option("--placement", f.placement, "auto|gpus|partitions|streams")->capture_default_str();
  cmd.add_option("--gemm", f.gemm, "GEMM of the pipeline runs: cublas|tiled|naive")->capture_default_str();
  cmd.add_flag("--tf32", c.cuda.tf32, "let cuBLAS (and torch) use TF32 tensor cores");
  cmd.add_option("--steps", f.options.steps, "timed steps per row (the median is reported)")->capture_default_str();
  cmd.add_option("--warmup", c.cuda.warmup_steps, "untimed warm-up steps per configuration")->capture_default_str();
  cmd.add_option("--parts", f.parts, "any of pipeline,kernels,overhead,torch")->capture_default_str();
  cmd.add_flag("--vs-torch", f.vs_torch, "also run bench/torch_baseline.py (adds the torch part)");
  cmd.add_option("--python", f.options.python, "interpreter with PyTorch, for --vs-torch")->capture_default_str();
  cmd.add_option("--torch-script", f.options.torch_script, "path of bench/torch_baseline.py")->capture_default_str();
  cmd.add_option("--watchdog-s", c.watchdog_seconds, "abort a run if no action finishes for this long")
      ->capture_default_str();
  cmd.add_flag("--json", f.json, "print one JSON object instead of the tables");
  cmd.add_option("--out", f.out_path, "also write the JSON to this file");
  cmd.add_flag("-q,--quiet", f.quiet, "no progress messages on stderr");
}

int cmd_bench(BenchFlags& f) {
  BenchOptions o = f.options;
  o.base.backend = BackendKind::Cuda;
  o.base.schedule = ScheduleKind::Gpipe;
  o.base.cuda.placement = placement_from_string(f.placement);
  o.base.cuda.gemm = gemm_from_string(f.gemm);
  o.microbatches = parse_int_list(f.microbatches, "--microbatches");
  o.base.microbatches = o.microbatches.front();
  o.parts.clear();
  for (const std::string& name : split_commas(f.parts)) {
    const BenchPart part = bench_part_from_string(name);
    if (std::find(o.parts.begin(), o.parts.end(), part) == o.parts.end()) o.parts.push_back(part);
  }
  if (f.vs_torch && std::find(o.parts.begin(), o.parts.end(), BenchPart::Torch) == o.parts.end())
    o.parts.push_back(BenchPart::Torch);
  if (!f.out_path.empty()) {
    std::ofstream probe(f.out_path, std::ios::app);
    if (!probe) PIPELAB_USAGE_ERROR("--out", "cannot write '" + f.out_path + "'", "check the directory exists");
  }
  const BenchReport report = run_bench(o, [&](const std::string& m) {
    if (!f.quiet) std::cerr << "pipelab: bench: " << m << std::endl;
  });
  const nlohmann::json j = bench_json(report);
  if (!f.out_path.empty()) std::ofstream(f.out_path) << j.dump(2) << "\n";
  if (f.json)
    std::cout << j.dump(2) << std::endl;
  else
    std::cout << format_bench(report);
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
  CLI::App* bench = nullptr;
  BenchFlags bench_flags;
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
    bench = app.add_subcommand("bench", "GPU benchmarks: pipeline speedup vs theory, GEMM kernels, tracing "
                                        "overhead, PyTorch baseline (tables + --json)");
    add_bench_flags(*bench, bench_flags);
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
    if (cli.bench->parsed()) return cmd_bench(cli.bench_flags);
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
