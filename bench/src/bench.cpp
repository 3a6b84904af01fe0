// bench.cpp — `pipelab bench`: the pipeline, overhead and torch parts (the GEMM part
// is in cuda/gemm_bench.cpp). Definitions and what each number means: bench.h.
#include "pipelab/bench.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include "pipelab/backends/cuda/environment.h"
#include "pipelab/backends/cuda/placement.h"
#include "pipelab/error.h"
#include "pipelab/name_table.h"
#include "pipelab/report/metrics.h"
#include "pipelab/report/report.h"  // format_number
#include "pipelab/runtime/run.h"

namespace pipelab {

namespace {
constexpr EnumName<BenchPart> kBenchPartNames[] = {{BenchPart::Pipeline, "pipeline"},
                                                   {BenchPart::Weak, "weak"},
                                                   {BenchPart::Kernels, "kernels"},
                                                   {BenchPart::Overhead, "overhead"},
                                                   {BenchPart::Torch, "torch"}};
}  // namespace

const char* to_string(BenchPart part) { return name_of(kBenchPartNames, part); }

BenchPart bench_part_from_string(const std::string& name) {
  if (const auto p = value_named(kBenchPartNames, name)) return *p;
  PIPELAB_USAGE_ERROR("--parts", "unknown part '" + name + "'",
                      "use a comma-separated list of " + list_names(kBenchPartNames));
}

ModelSpec default_bench_model() {
  ModelSpec m;
  m.layers = 8;
  m.width = 4096;
  m.hidden = 16384;
  m.batch = 1024;
  return m;
}

double dw_flop_per_byte(const ModelSpec& model, int rows) {
  // 2·b·d·h FLOPs over 4 bytes × (dW read + written: 2·d·h, da: b·h, x: b·d) (bench.h).
  const double b = rows, d = model.width, h = model.hidden;
  return 2.0 * b * d * h / (4.0 * (2.0 * d * h + b * (d + h)));
}

double dw_memory_bound_rows(const ModelSpec& model, double flop_per_byte) {
  // 2bdh = β·4·(2dh + b(d+h))  ⇔  b·(2dh − 4β(d+h)) = 8βdh.
  const double d = model.width, h = model.hidden, beta = flop_per_byte;
  const double denominator = 2.0 * d * h - 4.0 * beta * (d + h);
  return denominator > 0 ? 8.0 * beta * d * h / denominator : std::numeric_limits<double>::infinity();
}

namespace {

PipelineBenchRow pipeline_row(const RunConfig& config, int steps) {
  const RepeatedRun run = run_repeated(config, steps);
  const StepMetrics& m = run.median.metrics;
  PipelineBenchRow row;
  row.schedule = to_string(config.schedule);
  row.microbatches = run.median.schedule.microbatches;
  row.batch = config.model.batch;
  row.step_ms = run.step_ms;
  row.median_ms = median_of(run.step_ms);
  row.rows_per_s = row.median_ms > 0 ? row.batch / (row.median_ms * 1e-3) : 0;
  row.dw_flop_per_byte = dw_flop_per_byte(config.model, row.batch / row.microbatches);
  row.bubble = m.bubble_fraction;
  row.mean_utilization = m.mean_utilization;
  row.comm_ms = m.comm_time_ms;
  for (std::uint64_t bytes : m.peak_memory_bytes)
    row.peak_mib = std::max(row.peak_mib, static_cast<double>(bytes) / (1024.0 * 1024.0));
  const int K = config.devices, M = row.microbatches;
  const Theory theory = fill_drain_theory(K, M);
  row.bubble_theory = theory.bubble_fraction;
  // Naive runs the K stages one after another; GPipe overlaps them: ideally the step
  // shrinks from K·(F+B) to (M+K−1)·(F+B)/M, a speedup of K·M/(M+K−1): K times the
  // theory utilization M/(M+K−1).
  row.ideal_speedup = config.schedule == ScheduleKind::Naive ? 1.0 : K * theory.utilization;
  row.tflops = row.median_ms > 0 ? step_gemm_flops(config.model) / (row.median_ms * 1e-3) / 1e12 : 0;
  return row;
}

// Each row's speedup: its throughput over the first row's (naive), B / step time; with B
// fixed (strong scaling) that is naive's step time over the row's. Then as a percent of
// the row's ideal.
void relate_to_naive(std::vector<PipelineBenchRow>& rows) {
  const double naive_rows_per_s = rows.front().rows_per_s;
  for (PipelineBenchRow& row : rows) {
    row.speedup = naive_rows_per_s > 0 ? row.rows_per_s / naive_rows_per_s : 0;
    row.percent_of_ideal = row.ideal_speedup > 0 ? 100.0 * row.speedup / row.ideal_speedup : 0;
  }
}

// Weak scaling's runs: naive on one micro-batch of b rows, then GPipe at B = M·b per M;
// all validated (B within its limit, ...) before the first runs.
std::vector<RunConfig> weak_scaling_configs(const RunConfig& base, const std::vector<int>& microbatch_counts,
                                            int rows) {
  if (rows < 1 || rows > kMaxBatch)
    PIPELAB_USAGE_ERROR("--microbatch-rows", "must be between 1 and " + std::to_string(kMaxBatch),
                        "e.g. --microbatch-rows 512 (the issue's weak-scaling target) or 64 on cpu");
  std::vector<RunConfig> configs;
  RunConfig naive = base;
  naive.schedule = ScheduleKind::Naive;
  naive.microbatches = 1;
  naive.model.batch = rows;
  configs.push_back(naive);
  for (int m : microbatch_counts) {
    RunConfig c = base;
    c.schedule = ScheduleKind::Gpipe;
    c.microbatches = m;
    c.model.batch = batch_of_microbatch_rows(m, rows);
    configs.push_back(c);
  }
  for (const RunConfig& c : configs) validate_config(c);
  return configs;
}

// "cpu backend, 4 device threads on 2 hardware threads" / "sim backend, 10 TFLOP/s ...".
std::string describe_host_backend(const RunConfig& c) {
  if (c.backend == BackendKind::Sim)
    return "sim backend, " + format_number("%g", c.sim.device_tflops) + " TFLOP/s per device (" +
           to_string(c.sim.costs) + " costs): a model, not a measurement";
  return "cpu backend, one thread per device, on " + std::to_string(std::thread::hardware_concurrency()) +
         " hardware threads";
}

// Runs `command`, returns its stdout; throws with the output's tail if it fails.
std::string run_command(const std::string& command, const std::string& what, const std::string& hint) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) PIPELAB_THROW("cannot start " + what, hint);
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  if (status != 0) {
    const std::string tail = out.size() > 600 ? out.substr(out.size() - 600) : out;
    PIPELAB_THROW(what + " failed (status " + std::to_string(status) + "): " + tail, hint);
  }
  return out;
}

// Single quotes for the shell.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

TorchBench torch_part(const BenchOptions& o, const std::function<void(const std::string&)>& say) {
  if (o.torch_script.empty() || !std::ifstream(o.torch_script))
    PIPELAB_USAGE_ERROR("--torch-script", "cannot read '" + o.torch_script + "'",
                        "give the path of bench/torch_baseline.py in the pipelab sources");
  TorchBench t;
  RunConfig one = o.base;  // K = 1 on the whole GPU: pipelab's kernels against PyTorch's
  one.devices = 1;
  one.microbatches = 1;
  one.schedule = ScheduleKind::Naive;
  one.cuda.placement = CudaPlacement::Auto;
  one.cuda.transport = CudaTransport::Peer;
  say("torch: pipelab K=1 M=1");
  const RepeatedRun run = run_repeated(one, o.steps);
  t.pipelab_ms = median_of(run.step_ms);
  const ModelSpec& m = o.base.model;
  std::ostringstream cmd;
  cmd << quoted(o.python) << " " << quoted(o.torch_script) << " --json --layers " << m.layers << " --width "
      << m.width << " --hidden " << m.hidden << " --batch " << m.batch << " --seed " << m.seed << " --lr "
      << m.learning_rate << " --warmup " << step_plan(o.base).warmup << " --steps " << o.steps
      << (o.base.cuda.tf32 ? " --tf32" : "");
  say("torch: " + cmd.str());
  const std::string out = run_command(cmd.str(), "bench/torch_baseline.py",
                                      "it needs PyTorch with CUDA (python3 -c 'import torch'); or drop --vs-torch");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(out.substr(out.find('{')));
    t.torch_ms = j.at("step_ms").at("median").get<double>();
    t.torch_loss = j.at("first_step_loss").get<double>();
    t.torch_version = j.at("torch").get<std::string>();
  } catch (const std::exception& e) {
    PIPELAB_THROW(std::string("cannot read torch_baseline.py's JSON: ") + e.what(), "run it by hand with --json");
  }
  t.ratio = t.torch_ms > 0 ? t.pipelab_ms / t.torch_ms : 0;
  return t;
}

}  // namespace

BenchReport run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  BenchReport r;
  r.options = options;
  RunConfig base = options.base;
  const bool on_cuda = base.backend == BackendKind::Cuda;
  auto wants = [&](BenchPart p) {
    return std::find(options.parts.begin(), options.parts.end(), p) != options.parts.end();
  };
  // Every bad option is reported before the GPU is even looked at.
  if (base.backend != BackendKind::Cuda && base.backend != BackendKind::Cpu && base.backend != BackendKind::Sim)
    PIPELAB_USAGE_ERROR("--backend", "pipelab bench runs on cuda, cpu or sim, not " + std::string(to_string(base.backend)),
                        "name one: --backend cuda (the default), cpu or sim");
  for (BenchPart p : {BenchPart::Kernels, BenchPart::Overhead, BenchPart::Torch})
    if (!on_cuda && wants(p))
      PIPELAB_USAGE_ERROR("--parts", std::string("the ") + to_string(p) + " part measures the GPU, not the " +
                                         to_string(base.backend) + " backend",
                          "use --parts pipeline,weak with --backend " + std::string(to_string(base.backend)) +
                              ", or --backend cuda on a machine with a GPU");
  if (options.steps < 1 || options.steps > kMaxTimedSteps)
    PIPELAB_USAGE_ERROR("--steps", "must be between 1 and " + std::to_string(kMaxTimedSteps),
                        "3 to 10 timed steps give a stable median");
  if (options.microbatches.empty())
    PIPELAB_USAGE_ERROR("--microbatches", "needs at least one M", "e.g. -M 1,2,4,8,16,32");
  // Each table's configurations, validated (M <= B, ...) before anything runs.
  const std::vector<RunConfig> pipeline_configs =
      wants(BenchPart::Pipeline) ? sweep_configs(base, options.microbatches) : std::vector<RunConfig>{};
  if (wants(BenchPart::Pipeline) || wants(BenchPart::Overhead)) validate_config(base);
  const std::vector<RunConfig> weak_configs =
      wants(BenchPart::Weak) ? weak_scaling_configs(base, options.microbatches, options.microbatch_rows)
                             : std::vector<RunConfig>{};
  if (on_cuda) {
    const BackendAvailability available = backend_availability();
    if (!available.cuda)
      PIPELAB_USAGE_ERROR("bench", "pipelab bench measures the cuda backend, and no GPU is usable here: " +
                                       available.cuda_reason,
                          "run it on a machine with an NVIDIA GPU; without one, `pipelab bench --backend cpu` "
                          "(measured) or --backend sim (modelled) prints the pipeline and weak tables");
  } else {
    r.device = describe_host_backend(base);
    r.placement = std::to_string(base.devices) + (base.backend == BackendKind::Cpu ? " device threads" : " simulated devices");
  }
#if PIPELAB_HAVE_CUDA
  const CudaEnvironment env = on_cuda ? probe_cuda(false) : CudaEnvironment{};
  if (on_cuda && !env.gpus.empty()) {
    const CudaGpuInfo& g = env.gpus.front();
    r.device = g.name + ", " + std::to_string(g.sm_count) + " SMs, compute capability " +
               std::to_string(g.cc_major) + "." + std::to_string(g.cc_minor) + ", CUDA driver " +
               std::to_string(env.driver_version / 1000) + "." + std::to_string(env.driver_version % 1000 / 10);
  }
  if (on_cuda) r.placement = plan_placement(base, env).why;
#endif
  // Only the GPU probe and the GEMM part call into the cuda backend directly; the rest
  // goes through run_repeated(), which the availability check above has cleared.
  if (wants(BenchPart::Pipeline)) {
    for (const RunConfig& c : pipeline_configs) {
      say(c.schedule == ScheduleKind::Naive
              ? "pipeline: naive K=" + std::to_string(c.devices)
              : "pipeline: gpipe K=" + std::to_string(c.devices) + " M=" + std::to_string(c.microbatches));
      r.pipeline.push_back(pipeline_row(c, options.steps));
    }
    relate_to_naive(r.pipeline);
  }
  if (wants(BenchPart::Weak)) {
    for (const RunConfig& c : weak_configs) {
      say("weak: " + std::string(c.schedule == ScheduleKind::Naive ? "naive" : "gpipe") + " K=" +
          std::to_string(c.devices) + " M=" + std::to_string(c.microbatches) + " B=" + std::to_string(c.model.batch));
      r.weak.push_back(pipeline_row(c, options.steps));
    }
    // Naive on one micro-batch of b rows: the same GEMMs per micro-batch, so the ideal is
    // the pipeline's overlap alone, K·M/(M+K−1) (theory).
    relate_to_naive(r.weak);
  }
  if (wants(BenchPart::Kernels)) {
    // The model's own first GEMM, x·W1ᵀ, for the whole batch and for one of 16
    // micro-batches, and a square one.
    const ModelSpec& m = base.model;
    const std::vector<std::array<int, 3>> shapes{
        {m.batch, m.hidden, m.width}, {std::max(1, m.batch / 16), m.hidden, m.width}, {4096, 4096, 4096}};
    say("kernels: GEMM cublas / vectorized / register / tiled / naive at 3 shapes");
#if PIPELAB_HAVE_CUDA
    r.kernels = bench_gemm(shapes, std::max(3, options.steps), base.cuda.tf32);
#else
    (void)shapes;
#endif
  }
  if (wants(BenchPart::Overhead)) {
    const int M = options.microbatches.empty() ? 8 : options.microbatches.back();
    RunConfig traced = base;
    traced.schedule = ScheduleKind::Gpipe;
    traced.microbatches = M;
    RunConfig untraced = traced;
    untraced.cuda.instrument = false;
    OverheadBench o;
    o.microbatches = M;
    say("overhead: gpipe M=" + std::to_string(M) + " with tracing");
    o.traced_ms = median_of(run_repeated(traced, options.steps).step_ms);
    say("overhead: gpipe M=" + std::to_string(M) + " with --no-trace");
    o.untraced_ms = median_of(run_repeated(untraced, options.steps).step_ms);
    o.overhead_percent = o.untraced_ms > 0 ? 100.0 * (o.traced_ms - o.untraced_ms) / o.untraced_ms : 0;
    r.overhead = o;
  }
  if (wants(BenchPart::Torch)) r.torch = torch_part(r.options, say);
  return r;
}

}  // namespace pipelab
