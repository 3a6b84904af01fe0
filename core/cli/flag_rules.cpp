// cli/flag_rules.cpp — check_flags_apply (flag_rules.h): the table of docs/cli.md
// ("Which flags apply where") in code.
#include "cli/flag_rules.h"

#include <string>

#include <CLI/CLI.hpp>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"  // schedule_info: microbatch_rule

namespace pipelab::cli {
namespace {

/// Whether the user typed `name` (e.g. "--link-gbps") on this subcommand.
bool given(const CommonFlags& f, const char* name) {
  const CLI::Option* option = f.command ? f.command->get_option_no_throw(name) : nullptr;
  return option != nullptr && option->count() > 0;
}

/// "the cpu backend (--backend auto chose it: no GPU is usable here)".
std::string backend_in_force(BackendKind runs_on, bool chosen_by_auto) {
  std::string text = std::string("the ") + to_string(runs_on) + " backend";
  if (chosen_by_auto)
    text += runs_on == BackendKind::Cuda ? " (--backend auto chose it: a GPU is usable here)"
                                         : " (--backend auto chose it: no GPU is usable here)";
  return text;
}

/// A flag of one backend only (`owner`), given while another runs: what it sets, on
/// which backend, and the fix.
void require_backend(const CommonFlags& f, const char* flag, BackendKind owner, BackendKind runs_on,
                     bool chosen_by_auto, const std::string& what) {
  if (!given(f, flag) || runs_on == owner) return;
  const std::string owner_name = to_string(owner);
  const std::string fix = owner == BackendKind::Sim
                              ? "add --backend sim to model it, or drop " + std::string(flag)
                              : "add --backend cuda on a machine with a GPU (`pipelab devices`), or drop " +
                                    std::string(flag);
  PIPELAB_USAGE_ERROR(flag,
                      "has no effect on " + backend_in_force(runs_on, chosen_by_auto) + ": " + what +
                          " exists only on the " + owner_name + " backend",
                      fix);
}

}  // namespace

void check_flags_apply(const CommonFlags& f, const RunConfig& c, BackendKind runs_on) {
  const bool by_auto = c.backend == BackendKind::Auto;
  const std::string backend = backend_in_force(runs_on, by_auto);

  // 1. The schedule. naive is one micro-batch by definition (compare and sweep run it
  //    with M = 1 beside GPipe's M; only `run` can name it). -M 1 says just that: fine.
  const MicrobatchRule rule =
      c.schedule == ScheduleKind::Custom ? MicrobatchRule::AsGiven : schedule_info(c.schedule).microbatch_rule;
  if (given(f, "--schedule") && rule == MicrobatchRule::One && given(f, "--microbatches") && c.microbatches != 1)
    PIPELAB_USAGE_ERROR("--microbatches",
                        "--schedule " + std::string(to_string(c.schedule)) +
                            " is M = 1 by definition (the whole batch goes through the stages at once): -M " +
                            std::to_string(c.microbatches) + " would not apply",
                        "drop -M, or use --schedule gpipe (or 1f1b) to split the batch into M micro-batches; "
                        "`pipelab compare -M " + std::to_string(c.microbatches) +
                            "` shows naive beside GPipe");

  //    data-parallel is one share of the batch per replica (M = K) and one stage of every
  //    layer per device (no partition to choose).
  if (given(f, "--schedule") && rule == MicrobatchRule::PerDevice) {
    if (given(f, "--microbatches") && c.microbatches != c.devices)
      PIPELAB_USAGE_ERROR("--microbatches",
                          "--schedule data-parallel splits the batch into one share per device (M = K = " +
                              std::to_string(c.devices) + "): -M " + std::to_string(c.microbatches) +
                              " would not apply",
                          "drop -M; `pipelab compare --schedules data-parallel,gpipe -M " +
                              std::to_string(c.microbatches) + "` runs GPipe with that M beside it");
    if (given(f, "--partition"))
      PIPELAB_USAGE_ERROR("--partition", "has no effect on --schedule data-parallel: every device holds every layer",
                          "drop --partition");
  }

  //    --chunks: model chunks per device, for a schedule that has them.
  if (given(f, "--schedule") && given(f, "--chunks") &&
      (c.schedule == ScheduleKind::Custom || !schedule_info(c.schedule).uses_chunks)) {
    const int fixed = c.schedule == ScheduleKind::Custom ? 0 : schedule_info(c.schedule).fixed_chunks;
    PIPELAB_USAGE_ERROR("--chunks", "has no effect on --schedule " + std::string(to_string(c.schedule)) +
                                        (fixed > 0 ? ": its devices always hold " + std::to_string(fixed) + " chunks"
                                                   : std::string(": its devices hold one stage each")),
                        "use --schedule interleaved-1f1b, or drop --chunks");
  }

  // 2. The sim's cost model: the cpu and cuda backends measure real time instead.
  require_backend(f, "--device-tflops", BackendKind::Sim, runs_on, by_auto, "a modelled compute rate");
  require_backend(f, "--sim-costs", BackendKind::Sim, runs_on, by_auto, "a modelled cost per action");
  require_backend(f, "--link-gbps", BackendKind::Sim, runs_on, by_auto, "a modelled link bandwidth");
  require_backend(f, "--link-latency-us", BackendKind::Sim, runs_on, by_auto, "a modelled link latency");
  require_backend(f, "--stage-skew", BackendKind::Sim, runs_on, by_auto, "a modelled per-stage slowdown");

  // 3. The cuda backend's own settings.
  require_backend(f, "--placement", BackendKind::Cuda, runs_on, by_auto, "placing devices on GPUs");
  require_backend(f, "--transport", BackendKind::Cuda, runs_on, by_auto, "a GPU-to-GPU transport");
  require_backend(f, "--tf32", BackendKind::Cuda, runs_on, by_auto, "cuBLAS's TF32 mode");
  require_backend(f, "--no-trace", BackendKind::Cuda, runs_on, by_auto, "CUDA event tracing");
  require_backend(f, "--cuda-split-backward", BackendKind::Cuda, runs_on, by_auto, "the GPU's split backward");
  if (runs_on == BackendKind::Cuda) {
    if (given(f, "--transport") && given(f, "--placement") &&
        (c.cuda.placement == CudaPlacement::Partitions || c.cuda.placement == CudaPlacement::Streams))
      PIPELAB_USAGE_ERROR("--transport",
                          std::string("has no effect with --placement ") + to_string(c.cuda.placement) +
                              ": all devices share one GPU, so nothing moves between GPUs",
                          "drop --transport, or use --placement gpus (one GPU per device)");
    if (given(f, "--tf32") && c.cuda.gemm != CudaGemm::Cublas)
      PIPELAB_USAGE_ERROR("--tf32",
                          std::string("has no effect with --gemm ") + to_string(c.cuda.gemm) +
                              ": only cuBLAS uses TF32 tensor cores; pipelab's own kernels are fp32",
                          "drop --tf32, or use --gemm cublas");
  }

  // 4. What the sim does not have: numerics (parameters, data, SGD), threads that could
  //    hang, steps that differ from one another (virtual time).
  if (runs_on == BackendKind::Sim) {
    const auto refuse_on_sim = [&](const char* flag, const std::string& why, const std::string& fix) {
      if (given(f, flag)) PIPELAB_USAGE_ERROR(flag, "has no effect on " + backend + ": " + why, fix);
    };
    refuse_on_sim("--seed", "it computes no numerics, so there are no parameters or data to seed",
                  "drop --seed, or use --backend cpu");
    refuse_on_sim("--lr", "it computes no numerics, so there is no SGD update to scale",
                  "drop --lr, or use --backend cpu");
    refuse_on_sim("--watchdog-s", "it runs on the single-threaded event engine, where nothing can hang",
                  "drop --watchdog-s (it guards the cpu and cuda backends)");
    // 0 warm-up steps and 1 timed step are what the sim does anyway: saying so is fine.
    if (c.warmup_steps > 0)
      refuse_on_sim("--warmup", "in virtual time there is no one-time cost to pay before the timed step",
                    "drop --warmup (the sim runs 0 warm-up steps)");
    if (c.repeat_steps > 1)
      refuse_on_sim("--repeat", "in virtual time every step is the same step, so the median is any one of them",
                    "drop --repeat (the sim runs 1 timed step)");
  }

  // 5. One device: no links to model, one stage holding every layer.
  if (c.devices == 1) {
    const auto refuse_on_one = [&](const char* flag, const std::string& why) {
      if (given(f, flag))
        PIPELAB_USAGE_ERROR(flag, "has no effect with K = 1: " + why,
                            "use -K 2 or more, or drop " + std::string(flag));
    };
    refuse_on_one("--link-gbps", "one device has no links to other devices");
    refuse_on_one("--link-latency-us", "one device has no links to other devices");
    refuse_on_one("--partition", "one stage holds every layer whichever the partition");
  }
}

}  // namespace pipelab::cli
