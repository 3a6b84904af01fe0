// cli/command_line.cpp — the flag definitions of every subcommand but bench (bench_flags.cpp)
// and the string-to-config code (command_line.h says who shares them).
//
// [SECTION] flags of run, compare and sweep
// [SECTION] the app: subcommands and parse()
// [SECTION] lists: --microbatches, --stage-skew, --parts
// [SECTION] flags → RunConfig
#include "cli/command_line.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "cli/flag_rules.h"              // check_flags_apply
#include "pipelab/backends/backends.h"  // backend_availability
#include "pipelab/error.h"
#include "pipelab/model/model.h"         // default_cuda_model, default_cpu_model
#include "pipelab/model/ranges.h"        // check_in_range, format_g
#include "pipelab/runtime/run.h"        // scheduled_microbatches
#include "pipelab/schedule/registry.h"   // schedule_from_string
#include "pipelab/schedule/schedule_file.h"  // read_schedule_file

namespace pipelab::cli {
namespace {

// [SECTION] flags of run, compare and sweep

void add_common_flags(CLI::App& cmd, CommonFlags& f, bool with_schedule) {
  f.command = &cmd;
  cmd.add_option("--backend", f.backend, "auto|sim|cpu|cuda (auto = cuda if a GPU is usable, else cpu)")
      ->capture_default_str();
  cmd.add_option("-K,--devices", f.config.devices, "number of devices K (pipeline stages)")->capture_default_str();
  cmd.add_option("-M,--microbatches", f.microbatches,
                 "micro-batches M (sweep: a comma-separated list, e.g. 1,2,4,8,16,32)")
      ->capture_default_str();
  if (with_schedule) {
    cmd.add_option("--schedule", f.schedule, schedule_names("|"))->capture_default_str();
    cmd.add_option("--schedule-file", f.schedule_file,
                   "run the schedule in this text file instead (K, M, remat from the file; docs/schedule-file.md)");
    cmd.add_flag("--describe", f.describe, "print the schedule in the schedule-file format and exit without running");
  }
  // Every backend runs asynchronously; this names the model the schedule must also be
  // deadlock-free under (docs/p2p.md), checked before anything runs.
  cmd.add_option("--p2p", f.p2p,
                 "async|batched|blocking: prove the schedule deadlock-free under this p2p model "
                 "(async: sends never wait; batched: adjacent sends/recvs posted together; blocking: "
                 "rendezvous)")
      ->capture_default_str();
  const ModelSpec cpu = default_cpu_model(), gpu = default_cuda_model();
  auto shape = [&](const char* what, int cpu_default, int gpu_default) {
    return std::string(what) + " (cpu default " + std::to_string(cpu_default) + ", cuda default " +
           std::to_string(gpu_default) + ")";
  };
  f.model_options = {
      cmd.add_option("--layers", f.config.model.layers, shape("L residual MLP blocks", cpu.layers, gpu.layers))
          ->capture_default_str(),
      cmd.add_option("--width", f.config.model.width,
                     shape("d, the width (and number of classes)", cpu.width, gpu.width))
          ->capture_default_str(),
      cmd.add_option("--hidden", f.config.model.hidden,
                     shape("h, the hidden size of each block", cpu.hidden, gpu.hidden))
          ->capture_default_str(),
      cmd.add_option("--batch", f.config.model.batch, shape("B, samples per step", cpu.batch, gpu.batch))
          ->capture_default_str()};
  cmd.add_option("--seed", f.config.model.seed, "cpu, cuda: seed of parameters and data")->capture_default_str();
  cmd.add_option("--lr", f.learning_rate, "SGD learning rate (cpu, cuda), 0..1000")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_flag("--remat", f.config.remat, "re-materialization: stash only stage inputs, recompute before B");
  cmd.add_flag("--w-batch", f.config.w_batch,
               "sim, cpu: each stage's weight gradient as one W over the whole batch, after its last I "
               "(B split into I and W; docs/w-batch.md)");
  cmd.add_option("--microbatch-rows", f.config.microbatch_rows,
                 "run, compare: b rows in every micro-batch, B = M*b (weak scaling; instead of --batch), 1..2^20")
      ->check(CLI::Range(1, kMaxBatch));
  f.config.chunks = 2;  // the default of the schedules that take chunks; the others run 1
  cmd.add_option("--chunks", f.config.chunks,
                 "interleaved-1f1b: model chunks per device (virtual stages), 1..64; M a multiple of K")
      ->capture_default_str();
  cmd.add_option("--partition", f.partition, "even|balanced (min-max stage cost)")->capture_default_str();
  cmd.add_option("--sim-costs", f.sim_costs,
                 "sim: flops (each action's FLOP count) or unit (F = R = I = W = 1 per layer, B = 2, loss and "
                 "optimizer free: the registry theory's costs)")
      ->capture_default_str();
  cmd.add_option("--device-tflops", f.device_tflops, "sim: compute rate per device (TFLOP/s), 1e-6..1e6")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_option("--link-gbps", f.link_gbps, "sim: link bandwidth in Gbit/s, 0 (= ideal) or 1e-6..1e6")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_option("--link-latency-us", f.link_latency_us, "sim: per-transfer latency in us, 0..1e6")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_option("--stage-skew", f.stage_skew, "sim: per-stage compute multipliers, e.g. 1,1,2,1");
  cmd.add_option("--placement", f.placement,
                 "cuda: auto|gpus|partitions|streams (auto: a GPU per device if there are K, else K SM "
                 "partitions of one GPU, else K streams)")
      ->capture_default_str();
  cmd.add_option("--transport", f.transport, "cuda, placement gpus: peer|nccl")->capture_default_str();
  // Empty by default = the backend's default GEMM (set_gemm_from_string): blas where
  // built, else reference, on cpu; cublas on cuda. The flag names a GEMM of the backend
  // that runs.
  cmd.add_option("--gemm", f.gemm,
                 "cpu: reference|blas (default blas where built, else reference); "
                 "cuda: cublas|vectorized|register|tiled|naive (default cublas; register and vectorized "
                 "compiled, not yet run on a GPU)");
  cmd.add_flag("--tf32", f.config.cuda.tf32, "cuda: let cuBLAS use TF32 tensor cores (checked at TF32 tolerance)");
  cmd.add_flag("--no-trace", f.no_trace,
               "cuda: no CUDA events or NVTX ranges (host-clock spans), to measure their overhead");
  cmd.add_flag("--cuda-split-backward", f.config.cuda.split_backward,
               "cuda: run I and W (the split backward of zb-h1, zb-h2) instead of refusing them; "
               "compiled, NOT yet run on a GPU");
  cmd.add_option("--warmup", f.config.warmup_steps,
                 "untimed warm-up steps before the timed ones (default: cpu 1, cuda 1, sim 0)")
      ->check(CLI::Range(0, kMaxWarmupSteps));
  cmd.add_option("--repeat", f.config.repeat_steps,
                 "timed steps; the median one is reported, compare pairs them (default: cpu 5, cuda 3, sim 1)")
      ->check(CLI::Range(1, kMaxTimedSteps));
  cmd.add_option("--watchdog-s", f.watchdog_seconds,
                 "cpu, cuda: abort if no action finishes for this many seconds, 1e-3..1e6")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_option("--device-memory-mib,--memory-cap-mib", f.device_memory_mib,
                 "memory of each device in MiB; a run whose predicted per-device peak exceeds it is refused "
                 "(0 = no cap)")
      ->type_name("FLOAT")
      ->capture_default_str();
  cmd.add_option("--trace", f.config.trace_path,
                 "write the Chrome trace JSON here (compare/sweep: one file per run, suffixed)");
  cmd.add_flag("--json", f.json, "print one JSON object instead of the table");
  cmd.add_flag("-q,--quiet", f.quiet, "no progress messages on stderr");
}

}  // namespace

// [SECTION] the app: subcommands and parse()

CommandLine::CommandLine() {
  app.require_subcommand(1);
  run = app.add_subcommand("run", "one training step of one schedule");
  add_common_flags(*run, run_flags, true);
  compare = app.add_subcommand("compare", "naive model parallelism vs GPipe, side by side");
  add_common_flags(*compare, compare_flags, false);
  compare->add_option("--schedules", compare_flags.schedules,
                      "compare these schedules instead, paired, speedups over the first: a comma-separated "
                      "list of " + schedule_names(", ") + " (e.g. naive,gpipe,1f1b)");
  // Hidden (group ""): a --schedule typed on compare is refused with a hint, not unknown.
  compare->add_option("--schedule", compare_flags.refused_schedule)->group("");
  compare->add_option("--schedule-file", compare_flags.schedule_file,
                      "with --schedules: add this file's schedule as the last row (its K, M and remat hold for all)");
  sweep = app.add_subcommand("sweep", "GPipe over a list of micro-batch counts");
  sweep_flags.microbatches = "1,2,4,8,16,32";  // before add_common_flags: --help shows it
  add_common_flags(*sweep, sweep_flags, false);
  csv = sweep->add_option("--csv", csv_path, "write CSV (to FILE, or stdout without one)")->expected(0, 1);
  sweep->add_option("--plot", sweep_flags.plot_path,
                    "draw measured speedup and bubble against M beside the theory curves (an SVG file)");
  advise = app.add_subcommand("advise", "which schedule, M and remat: the fastest configurations that fit "
                                        "--device-memory-mib, on the sim's cost model (or --backend cpu: "
                                        "replayed from measured costs)");
  advise_flags.microbatches = "1,2,4,8,16,32,64";  // before add_common_flags: --help shows it
  advise_flags.backend = "sim";
  add_common_flags(*advise, advise_flags, false);
  advise->add_option("--top", advise_top, "how many fitting configurations to list")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  devices = app.add_subcommand("devices", "which backends can run here, and why not");
  devices->add_option("-K,--devices", devices_config.devices, "show the cuda placement for K devices")
      ->capture_default_str();
  devices->add_option("--placement", devices_placement, "auto|gpus|partitions|streams")->capture_default_str();
  devices->add_option("--transport", devices_transport, "peer|nccl")->capture_default_str();
  bench = app.add_subcommand("bench", "benchmarks: strong and weak scaling vs theory (any backend); on the "
                                      "GPU also GEMM kernels, tracing overhead, PyTorch baseline (tables + --json)");
  add_bench_flags(*bench, bench_flags);
}

Subcommand CommandLine::parse(int argc, char** argv) {
  app.parse(argc, argv);
  // require_subcommand(1): exactly one of them parsed.
  if (run->parsed()) return Subcommand::Run;
  if (compare->parsed()) return Subcommand::Compare;
  if (sweep->parsed()) return Subcommand::Sweep;
  if (advise->parsed()) return Subcommand::Advise;
  if (bench->parsed()) return Subcommand::Bench;
  return Subcommand::Devices;
}

// [SECTION] lists: --microbatches, --stage-skew, --parts

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

double parse_number(const std::string& text, const char* flag) {
  // strtod, not std::stod: stod throws the same out_of_range for 1e400 (overflow) and
  // 1e-400 (underflow); strtod returns ±HUGE_VAL for the one and a tiny value for the
  // other, which the setting's range then refuses with the value itself.
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size())
    PIPELAB_USAGE_ERROR(flag, "'" + text + "' is not a number", "e.g. 2.5, 1e-3 or 10");
  if (errno == ERANGE && std::isinf(value))
    PIPELAB_USAGE_ERROR(flag, "'" + text + "' is out of range: beyond the largest double (about 1.8e308)",
                        "docs/cli.md gives the range of every flag");
  return value;
}

std::vector<double> parse_number_list(const std::string& text, const char* flag) {
  std::vector<double> values;
  for (const std::string& item : split_commas(text)) {
    try {
      values.push_back(parse_number(item, flag));
    } catch (const UsageError& e) {
      // The item's own message, with a hint about lists.
      PIPELAB_USAGE_ERROR(flag, e.message().substr(e.flag().size() + 2), "give a comma-separated list, e.g. 1,2,4,8");
    }
  }
  return values;
}

std::vector<int> parse_int_list(const std::string& text, const char* flag) {
  std::vector<int> out;
  for (double v : parse_number_list(text, flag)) {
    // Range first: casting an out-of-range double to an integer is undefined behaviour.
    if (!(v >= -1e9 && v <= 1e9))
      PIPELAB_USAGE_ERROR(flag, "'" + format_g(v) + "' is out of range", "e.g. 1,2,4,8");
    if (v != std::floor(v))
      PIPELAB_USAGE_ERROR(flag, "'" + format_g(v) + "' is not a whole number", "e.g. 1,2,4,8");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

// [SECTION] flags → RunConfig

namespace {

// --schedule-file: the file is the schedule, so K, M and remat are its own; a typed flag
// that says otherwise is refused with the file's value rather than silently overridden.
void take_schedule_file(const CommonFlags& f, RunConfig& c) {
  const auto typed = [&](const char* name) {
    const CLI::Option* option = f.command ? f.command->get_option_no_throw(name) : nullptr;
    return option != nullptr && option->count() > 0;
  };
  if (typed("--schedule"))
    PIPELAB_USAGE_ERROR("--schedule-file", "replaces --schedule: give one of them",
                        "drop --schedule " + f.schedule + " to run the file, or drop --schedule-file");
  Schedule s;
  try {
    s = read_schedule_file(f.schedule_file);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError("--schedule-file", e.message(), e.hint(), __FILE__, __LINE__);
  }
  const std::string file = "the schedule file '" + f.schedule_file + "'";
  if (typed("--devices") && c.devices != s.stages)
    PIPELAB_USAGE_ERROR("--devices", "-K " + std::to_string(c.devices) + " conflicts with " + file + ", which has " +
                                         std::to_string(s.stages) + " stage lines (K = " + std::to_string(s.stages) + ")",
                        "drop -K: with --schedule-file, K is the file's");
  if (typed("--microbatches") && c.microbatches != s.microbatches)
    PIPELAB_USAGE_ERROR("--microbatches", "-M " + std::to_string(c.microbatches) + " conflicts with " + file +
                                              ", which has M = " + std::to_string(s.microbatches),
                        "drop -M: with --schedule-file, M is the file's (its header, or its largest micro-batch + 1)");
  // (compare's --chunks is for its interleaved-1f1b row; the file row keeps its own.)
  if (typed("--chunks") && c.chunks != s.chunks && f.command && f.command->get_name() == "run")
    PIPELAB_USAGE_ERROR("--chunks", "--chunks " + std::to_string(c.chunks) + " conflicts with " + file +
                                        ", which holds " + std::to_string(s.chunks) + " model chunk" +
                                        (s.chunks == 1 ? "" : "s") + " per device",
                        "drop --chunks: with --schedule-file, the chunks are the file's (its header's 'chunks v', or "
                        "its largest c<N> + 1)");
  if (typed("--remat") && !s.remat)
    PIPELAB_USAGE_ERROR("--remat", file + " has no R (recompute) actions, so it does not re-materialize",
                        "drop --remat, or write an R before each B in the file (docs/schedule-file.md)");
  c.schedule = ScheduleKind::Custom;
  c.schedule_file = f.schedule_file;
  c.devices = s.stages;
  c.microbatches = s.microbatches;
  c.remat = s.remat;
  c.w_batch = c.w_batch || s.w_batch;  // a file's whole-batch W's ("0W") are --w-batch's
}

}  // namespace

void progress(const CommonFlags& f, const std::string& message) {
  if (!f.quiet) std::cerr << "pipelab: " << message << std::endl;
}

namespace {

// --microbatch-rows b: B = M·b, with M as scheduled (naive 1, data-parallel K).
void apply_microbatch_rows(const CommonFlags& f, RunConfig& c) {
  const std::string command = f.command ? f.command->get_name() : "";
  if (command == "sweep" || command == "advise")
    PIPELAB_USAGE_ERROR("--microbatch-rows",
                        "not on `pipelab " + command + "`: its rows compare step times at one batch size B",
                        "for weak scaling (B = M*b) use `pipelab bench --parts weak --microbatch-rows b` "
                        "(--backend cpu or sim without a GPU), or run/compare with -M and --microbatch-rows");
  for (const CLI::Option* option : f.model_options)
    if (option->get_name() == "--batch" && option->count() > 0)
      PIPELAB_USAGE_ERROR("--microbatch-rows", "conflicts with --batch: the batch is B = M*b",
                          "give one of them: --batch B (the micro-batches split it) or --microbatch-rows b");
  c.model.batch = batch_of_microbatch_rows(c.microbatches, c.microbatch_rows);
}

}  // namespace

RunConfig finish_config(CommonFlags& f, bool allow_list) {
  RunConfig c = f.config;
  c.backend = backend_from_string(f.backend);
  c.schedule = schedule_from_string(f.schedule);
  c.p2p = p2p_model_from_string(f.p2p);
  c.partition = partition_from_string(f.partition);
  const std::vector<int> ms = parse_int_list(f.microbatches, "--microbatches");
  if (ms.size() != 1 && !allow_list)
    PIPELAB_USAGE_ERROR("--microbatches", "takes one number here", "lists are for `pipelab sweep`");
  c.microbatches = ms.front();
  if (!f.schedule_file.empty()) take_schedule_file(f, c);
  if (!f.stage_skew.empty()) c.sim.stage_skew = parse_number_list(f.stage_skew, "--stage-skew");
  c.sim.costs = sim_costs_from_string(f.sim_costs);
  c.sim.device_tflops = parse_number(f.device_tflops, "--device-tflops");
  c.sim.link_gbps = parse_number(f.link_gbps, "--link-gbps");
  c.sim.link_latency_us = parse_number(f.link_latency_us, "--link-latency-us");
  c.watchdog_seconds = parse_number(f.watchdog_seconds, "--watchdog-s");
  c.device_memory_mib = parse_number(f.device_memory_mib, "--device-memory-mib");
  // In range before the cast to the model's float: 1e39 would become inf there.
  const double learning_rate = parse_number(f.learning_rate, "--lr");
  check_in_range(kLearningRateRange, learning_rate);
  c.model.learning_rate = static_cast<float>(learning_rate);
  c.cuda.placement = placement_from_string(f.placement);
  c.cuda.transport = transport_from_string(f.transport);
  c.cuda.instrument = !f.no_trace;
  refuse_w_batch_on(c, c.backend);  // --backend cuda --w-batch: said before a GPU is looked for
  // The backend that will run: auto is cuda when a GPU is usable, else cpu.
  const bool gpu_usable = (c.backend == BackendKind::Cuda || c.backend == BackendKind::Auto) &&
                          backend_availability().cuda;
  const BackendKind runs_on = c.backend != BackendKind::Auto ? c.backend
                              : gpu_usable                   ? BackendKind::Cuda
                                                             : BackendKind::Cpu;
  try {
    set_gemm_from_string(c, runs_on, f.gemm);
  } catch (const UsageError& e) {
    if (c.backend != BackendKind::Auto) throw;
    PIPELAB_USAGE_ERROR(e.flag(), e.message().substr(e.flag().size() + 2) + " (--backend auto chose " +
                                      to_string(runs_on) + ")",
                        e.hint());
  }
  check_flags_apply(f, c, runs_on);  // a typed flag that would change nothing: refused (flag_rules.h)
  // naive is M = 1 by definition (a typed -M != 1 was refused above): -M's default of 8
  // must not be checked against the batch, as in `run --schedule naive --batch 6`.
  c.microbatches = scheduled_microbatches(c);
  // With no model flag given, the backend's own default model (model.h says why): on cuda
  // the GPU-sized one, on cpu one whose micro-batches keep the GEMMs efficient. Any one
  // model flag keeps the ModelSpec defaults (which the sim uses) for the others.
  bool model_given = false;
  for (const CLI::Option* option : f.model_options) model_given = model_given || option->count() > 0;
  const bool on_cuda = runs_on == BackendKind::Cuda && gpu_usable;
  const bool default_model = !model_given && (on_cuda || runs_on == BackendKind::Cpu);
  if (default_model) {
    const ModelSpec chosen = on_cuda ? default_cuda_model() : default_cpu_model();
    c.model.layers = chosen.layers;
    c.model.width = chosen.width;
    c.model.hidden = chosen.hidden;
    c.model.batch = chosen.batch;
  }
  if (c.microbatch_rows > 0) apply_microbatch_rows(f, c);  // B = M·b replaces any default B
  if (default_model)
    progress(f, std::string(on_cuda ? "cuda: the GPU-sized" : "cpu: the cpu") + " default model L=" +
                    std::to_string(c.model.layers) + " d=" + std::to_string(c.model.width) + " h=" +
                    std::to_string(c.model.hidden) + " B=" + std::to_string(c.model.batch) +
                    (c.microbatch_rows > 0 ? " (M*b)" : "") + " (give --layers/--width/--hidden/--batch to choose)");
  return c;
}

RunConfig finish_devices_config(const CommandLine& cli) {
  RunConfig c = cli.devices_config;
  c.cuda.placement = placement_from_string(cli.devices_placement);
  c.cuda.transport = transport_from_string(cli.devices_transport);
  return c;
}

}  // namespace pipelab::cli
