// cli/bench_flags.cpp — `pipelab bench`'s flags and their BenchOptions (command_line.h):
// the backend, the model (the cuda bench model, or off cuda the backend's run default),
// the parts, the weak table's rows per micro-batch, and every setting another backend owns
// refused by name.
#include <algorithm>
#include <string>

#include "cli/command_line.h"
#include "pipelab/error.h"
#include "pipelab/model/model.h"  // default_cpu_model

namespace pipelab::cli {


void add_bench_flags(CLI::App& cmd, BenchFlags& f) {
  RunConfig& c = f.options.base;
  cmd.add_option("--backend", f.backend,
                 "cuda (the GPU), cpu (device threads, measured) or sim (modelled): cpu and sim run the "
                 "pipeline and weak parts")
      ->capture_default_str();
  cmd.add_option("-K,--devices", c.devices, "pipeline stages K")->capture_default_str();
  cmd.add_option("-M,--microbatches", f.microbatches, "GPipe's M values, comma-separated")->capture_default_str();
  cmd.add_option("--microbatch-rows", f.microbatch_rows,
                 "weak: b rows per micro-batch, B = M*b (default 512 on cuda, 64 on cpu and sim)")
      ->check(CLI::Range(1, kMaxBatch));
  // The cuda bench model; on cpu and sim, unless one is typed, their run defaults (model.h).
  f.model_options = {
      cmd.add_option("--layers", c.model.layers, "L residual MLP blocks (cuda default)")->capture_default_str(),
      cmd.add_option("--width", c.model.width, "d (cuda default)")->capture_default_str(),
      cmd.add_option("--hidden", c.model.hidden, "h (cuda default)")->capture_default_str(),
      cmd.add_option("--batch", c.model.batch, "B of the pipeline (strong scaling) part (cuda default)")
          ->capture_default_str()};
  cmd.add_option("--sim-costs", f.sim_costs, "sim: flops or unit (F = I = W = 1, B = 2: the theory's costs)")
      ->capture_default_str();
  cmd.add_option("--seed", c.model.seed, "seed of parameters and data")->capture_default_str();
  cmd.add_option("--placement", f.placement, "auto|gpus|partitions|streams")->capture_default_str();
  cmd.add_option("--gemm", f.gemm,
                 "GEMM of the pipeline runs: cuda cublas|vectorized|register|tiled|naive (default cublas), "
                 "cpu reference|blas");
  cmd.add_flag("--tf32", c.cuda.tf32, "let cuBLAS (and torch) use TF32 tensor cores");
  cmd.add_option("--steps", f.options.steps, "timed steps per row (the median is reported)")->capture_default_str();
  cmd.add_option("--warmup", c.warmup_steps, "untimed warm-up steps per configuration (default 1)")
      ->check(CLI::Range(0, kMaxWarmupSteps));
  f.parts_option = cmd.add_option("--parts", f.parts,
                                  "any of pipeline,weak,kernels,overhead,torch (default off cuda: pipeline,weak)")
                       ->capture_default_str();
  cmd.add_flag("--vs-torch", f.vs_torch, "also run bench/torch_baseline.py (adds the torch part)");
  cmd.add_option("--python", f.options.python, "interpreter with PyTorch, for --vs-torch")->capture_default_str();
  cmd.add_option("--torch-script", f.options.torch_script, "path of bench/torch_baseline.py")->capture_default_str();
  cmd.add_option("--watchdog-s", c.watchdog_seconds, "abort a run if no action finishes for this long")
      ->capture_default_str();
  cmd.add_flag("--json", f.json, "print one JSON object instead of the tables");
  cmd.add_option("--out", f.out_path, "also write the JSON to this file");
  cmd.add_flag("-q,--quiet", f.quiet, "no progress messages on stderr");
}

BenchFlags::BenchFlags() {
  options.base.model = default_bench_model();
  options.base.devices = 4;
  // The source tree this binary was built from (core/CMakeLists.txt sets it for
  // pipelab_cli): where bench/torch_baseline.py lives.
  options.torch_script = std::string(PIPELAB_SOURCE_DIR) + "/bench/torch_baseline.py";
}

BenchOptions finish_bench_options(const BenchFlags& f) {
  BenchOptions o = f.options;
  o.base.backend = backend_from_string(f.backend);
  if (o.base.backend == BackendKind::Auto)
    PIPELAB_USAGE_ERROR("--backend", "pipelab bench takes no auto: its tables are of one named backend",
                        "name one: --backend cuda (the default), cpu or sim");
  const bool on_cuda = o.base.backend == BackendKind::Cuda;
  o.base.schedule = ScheduleKind::Gpipe;
  o.base.cuda.placement = placement_from_string(f.placement);
  o.base.sim.costs = sim_costs_from_string(f.sim_costs);
  // A setting of another backend would change nothing: refused, as run's are (flag_rules.h).
  const auto refuse_unless = [&](bool given, const char* flag, BackendKind owner) {
    if (given && o.base.backend != owner)
      PIPELAB_USAGE_ERROR(flag, std::string("sets the ") + to_string(owner) + " backend, and this bench runs on " +
                                    to_string(o.base.backend),
                          std::string("drop it, or add --backend ") + to_string(owner));
  };
  refuse_unless(f.placement != "auto", "--placement", BackendKind::Cuda);
  refuse_unless(o.base.cuda.tf32, "--tf32", BackendKind::Cuda);
  refuse_unless(f.vs_torch, "--vs-torch", BackendKind::Cuda);
  refuse_unless(f.sim_costs != "flops", "--sim-costs", BackendKind::Sim);
  if (on_cuda)
    o.base.cuda.gemm = gemm_from_string(f.gemm.empty() ? "cublas" : f.gemm);
  else
    set_gemm_from_string(o.base, o.base.backend, f.gemm);  // cpu: reference|blas; sim: none
  o.microbatches = parse_int_list(f.microbatches, "--microbatches");
  o.base.microbatches = o.microbatches.front();
  o.microbatch_rows = f.microbatch_rows > 0 ? f.microbatch_rows : on_cuda ? 512 : 64;
  // Off the GPU the bench model (6.6 TFLOP a step) would take minutes a step: unless one
  // is typed, the backend's run default (cpu: default_cpu_model, sim: the ModelSpec's).
  bool model_given = false;
  for (const CLI::Option* option : f.model_options) model_given = model_given || option->count() > 0;
  if (!on_cuda && !model_given) {
    const ModelSpec chosen = o.base.backend == BackendKind::Cpu ? default_cpu_model() : ModelSpec{};
    o.base.model.layers = chosen.layers;
    o.base.model.width = chosen.width;
    o.base.model.hidden = chosen.hidden;
    o.base.model.batch = chosen.batch;
  }
  const bool parts_given = f.parts_option != nullptr && f.parts_option->count() > 0;
  o.parts.clear();
  for (const std::string& name : split_commas(parts_given || on_cuda ? f.parts : std::string("pipeline,weak"))) {
    const BenchPart part = bench_part_from_string(name);
    if (std::find(o.parts.begin(), o.parts.end(), part) == o.parts.end()) o.parts.push_back(part);
  }
  if (f.vs_torch && std::find(o.parts.begin(), o.parts.end(), BenchPart::Torch) == o.parts.end())
    o.parts.push_back(BenchPart::Torch);
  return o;
}

}  // namespace pipelab::cli
