// config.cpp — the name tables of the config enums, validation of a RunConfig, its JSON form.
#include "pipelab/model/config.h"

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "pipelab/error.h"
#include "pipelab/model/ranges.h"
#include "pipelab/name_table.h"

namespace pipelab {

namespace {
// One name table per enum: to_string, the parsers below, JSON and hints read these.
constexpr EnumName<BackendKind> kBackendNames[] = {
    {BackendKind::Auto, "auto"}, {BackendKind::Sim, "sim"}, {BackendKind::Cpu, "cpu"}, {BackendKind::Cuda, "cuda"}};
constexpr EnumName<CudaPlacement> kPlacementNames[] = {{CudaPlacement::Auto, "auto"},
                                                       {CudaPlacement::Gpus, "gpus"},
                                                       {CudaPlacement::Partitions, "partitions"},
                                                       {CudaPlacement::Streams, "streams"}};
constexpr EnumName<CudaTransport> kTransportNames[] = {{CudaTransport::Peer, "peer"}, {CudaTransport::Nccl, "nccl"}};
// Fastest first: cuBLAS, then the teaching kernels v4 .. v1 (kernels/cuda/gemm_*.cu).
constexpr EnumName<CudaGemm> kGemmNames[] = {{CudaGemm::Cublas, "cublas"},
                                             {CudaGemm::Vectorized, "vectorized"},
                                             {CudaGemm::Register, "register"},
                                             {CudaGemm::Tiled, "tiled"},
                                             {CudaGemm::Naive, "naive"}};
constexpr EnumName<SimCosts> kSimCostsNames[] = {{SimCosts::Flops, "flops"}, {SimCosts::Unit, "unit"}};
}  // namespace

const char* to_string(BackendKind k) { return name_of(kBackendNames, k); }

BackendKind backend_from_string(const std::string& name) {
  if (const auto k = value_named(kBackendNames, name)) return *k;
  PIPELAB_USAGE_ERROR("--backend", "unknown backend '" + name + "'",
                      "use one of " + list_names(kBackendNames) + " (`pipelab devices` lists what is available)");
}

const char* to_string(CudaPlacement p) { return name_of(kPlacementNames, p); }

CudaPlacement placement_from_string(const std::string& name) {
  if (const auto p = value_named(kPlacementNames, name)) return *p;
  PIPELAB_USAGE_ERROR("--placement", "unknown placement '" + name + "'",
                      "use auto, gpus (one GPU per device), partitions (SM partitions of one GPU) or streams");
}

const char* to_string(CudaTransport t) { return name_of(kTransportNames, t); }

CudaTransport transport_from_string(const std::string& name) {
  if (const auto t = value_named(kTransportNames, name)) return *t;
  PIPELAB_USAGE_ERROR("--transport", "unknown transport '" + name + "'", "use peer (cudaMemcpyPeerAsync) or nccl");
}

const char* to_string(SimCosts c) { return name_of(kSimCostsNames, c); }

SimCosts sim_costs_from_string(const std::string& name) {
  if (const auto c = value_named(kSimCostsNames, name)) return *c;
  PIPELAB_USAGE_ERROR("--sim-costs", "unknown cost model '" + name + "'",
                      "use flops (each action's FLOP count) or unit (F = I = W = 1, B = 2: the theory's costs)");
}

const char* to_string(CudaGemm g) { return name_of(kGemmNames, g); }

CudaGemm gemm_from_string(const std::string& name) {
  if (const auto g = value_named(kGemmNames, name)) return *g;
  PIPELAB_USAGE_ERROR("--gemm", "unknown GEMM '" + name + "'", "use one of " + list_names(kGemmNames));
}

void set_gemm_from_string(RunConfig& c, BackendKind backend, const std::string& name) {
  namespace kc = kernels::cpu;
  if (name.empty()) return;  // the backend's default
  const std::string cpu_names = kc::gemm_impl_names(), cuda_names = list_names(kGemmNames);
  const std::string every = "--gemm on cpu: " + cpu_names + "; on cuda: " + cuda_names;
  const std::optional<kc::GemmImpl> cpu_gemm = kc::gemm_impl_named(name);
  const std::optional<CudaGemm> cuda_gemm = value_named(kGemmNames, name);
  const auto set_cpu = [&] {
    if (!kc::gemm_impl_available(*cpu_gemm))
      PIPELAB_USAGE_ERROR("--gemm", "the cpu GEMM '" + name + "' is not in this build: " +
                                        kc::gemm_impl_unavailable_reason(*cpu_gemm),
                          "install libopenblas-pthread-dev (scripts/install-deps), reconfigure and "
                          "rebuild; or use --gemm reference");
    c.cpu.gemm = *cpu_gemm;
  };
  switch (backend) {
    case BackendKind::Cpu:
      if (!cpu_gemm)
        PIPELAB_USAGE_ERROR("--gemm",
                            "the cpu backend has no GEMM '" + name + "'" +
                                (cuda_gemm ? " (" + name + " is a cuda GEMM)" : std::string()),
                            "use one of " + cpu_names + " with --backend cpu (" + every + ")");
      set_cpu();
      return;
    case BackendKind::Cuda:
      if (!cuda_gemm)
        PIPELAB_USAGE_ERROR("--gemm",
                            "the cuda backend has no GEMM '" + name + "'" +
                                (cpu_gemm ? " (" + name + " is a cpu GEMM)" : std::string()),
                            "use one of " + cuda_names + " with --backend cuda (" + every + ")");
      c.cuda.gemm = *cuda_gemm;
      return;
    case BackendKind::Sim:
      PIPELAB_USAGE_ERROR("--gemm", "the sim backend runs no GEMMs (it models their cost), so --gemm " + name +
                                        " has nothing to choose",
                          "drop --gemm, or run on --backend cpu or cuda (" + every + ")");
    case BackendKind::Auto:
      // Not resolved by the caller: the name picks the family; the backend that runs uses it.
      if (cpu_gemm) {
        set_cpu();
      } else if (cuda_gemm) {
        c.cuda.gemm = *cuda_gemm;
      } else {
        PIPELAB_USAGE_ERROR("--gemm", "unknown GEMM '" + name + "'", every);
      }
      return;
  }
}

namespace {
void require_positive(int value, const char* flag, const char* what) {
  if (value < 1)
    PIPELAB_USAGE_ERROR(flag, std::string(what) + " must be at least 1, got " + std::to_string(value),
                        std::string("pass ") + flag + " N with N >= 1");
}
}  // namespace

int batch_of_microbatch_rows(int microbatches, int rows_per_microbatch) {
  const long long batch = static_cast<long long>(microbatches) * rows_per_microbatch;
  if (batch > kMaxBatch)
    PIPELAB_USAGE_ERROR("--microbatch-rows",
                        "B = M*b = " + std::to_string(microbatches) + "*" + std::to_string(rows_per_microbatch) +
                            " = " + std::to_string(batch) + " is above the batch limit of " +
                            std::to_string(kMaxBatch),
                        "use fewer rows per micro-batch or fewer micro-batches (docs/limits.md)");
  return static_cast<int>(batch);
}

void validate_config(const RunConfig& c) {
  require_positive(c.model.layers, "--layers", "the number of layers");
  require_positive(c.model.width, "--width", "the width");
  require_positive(c.model.hidden, "--hidden", "the hidden size");
  require_positive(c.model.batch, "--batch", "the batch size");
  const auto require_at_most = [](int value, int limit, const char* flag) {
    if (value > limit)
      PIPELAB_USAGE_ERROR(flag, std::to_string(value) + " is above the limit of " + std::to_string(limit),
                          "see docs/limits.md for the enforced bounds");
  };
  require_at_most(c.model.layers, kMaxLayers, "--layers");
  require_at_most(c.model.width, kMaxWidth, "--width");
  require_at_most(c.model.hidden, kMaxHidden, "--hidden");
  require_at_most(c.model.batch, kMaxBatch, "--batch");
  // Parameter bytes = 4 · L · block_param_count, in double: no overflow while checking
  // (block_param_count itself is at most 2·65536·262144 + …, far inside 64 bits).
  const double model_bytes = 4.0 * c.model.layers * static_cast<double>(block_param_count(c.model));
  if (model_bytes > kMaxModelBytes)
    PIPELAB_USAGE_ERROR("--width", "the model would have " + format_g(model_bytes / 1073741824.0) +
                                       " GiB of parameters, above the 1 TiB limit",
                        "use smaller --width, --hidden or --layers");
  if (c.devices < 1)
    PIPELAB_USAGE_ERROR("--devices", "K must be at least 1, got " + std::to_string(c.devices),
                        "pass --devices K with 1 <= K <= --layers");
  // The sim's limits are higher (event engine); auto may pick cpu, so it gets cpu's.
  const bool sim = c.backend == BackendKind::Sim;
  const int max_devices = sim ? kMaxSimDevices : kMaxDevices;
  const int max_microbatches = sim ? kMaxSimMicrobatches : kMaxMicrobatches;
  if (c.devices > max_devices)
    PIPELAB_USAGE_ERROR("--devices", "K = " + std::to_string(c.devices) + " is above the limit of " +
                                         std::to_string(max_devices) + (sim ? " on sim" : ""),
                        sim ? "use at most 1024 devices on sim"
                            : "use at most 64 devices (--backend sim takes up to 1024)");
  if (c.devices > c.model.layers)
    PIPELAB_USAGE_ERROR("--devices",
                        "K = " + std::to_string(c.devices) + " devices but only " +
                            std::to_string(c.model.layers) + " layers: every stage needs a layer",
                        "use --devices <= --layers, or more --layers");
  if (c.chunks < 1 || c.chunks > kMaxChunks)
    PIPELAB_USAGE_ERROR("--chunks", "v = " + std::to_string(c.chunks) + " chunks per device, outside 1.." +
                                        std::to_string(kMaxChunks),
                        "give each device 1..64 model chunks");
  if (c.microbatches < 1)
    PIPELAB_USAGE_ERROR("--microbatches", "M must be at least 1, got " + std::to_string(c.microbatches),
                        "pass --microbatches M with 1 <= M <= --batch");
  if (c.microbatches > max_microbatches)
    PIPELAB_USAGE_ERROR("--microbatches", "M = " + std::to_string(c.microbatches) + " is above the limit of " +
                                              std::to_string(max_microbatches) + (sim ? " on sim" : ""),
                        sim ? "use at most 16384 micro-batches on sim"
                            : "use at most 4096 micro-batches (--backend sim takes up to 16384)");
  if (c.microbatches > c.model.batch)
    PIPELAB_USAGE_ERROR("--microbatches",
                        "M = " + std::to_string(c.microbatches) + " micro-batches but the batch has only " +
                            std::to_string(c.model.batch) + " samples: a micro-batch would be empty",
                        "use --microbatches <= --batch, or a larger --batch");
  // Every real-valued setting in its range (model/ranges.h says why they keep the
  // durations finite and non-zero); a non-finite value is named as such.
  check_in_range(kDeviceTflopsRange, c.sim.device_tflops);
  check_in_range(kLinkGbpsRange, c.sim.link_gbps);
  check_in_range(kLinkLatencyUsRange, c.sim.link_latency_us);
  if (!c.sim.stage_skew.empty()) {
    if (static_cast<int>(c.sim.stage_skew.size()) != c.devices)
      PIPELAB_USAGE_ERROR("--stage-skew",
                          "needs one factor per stage: got " + std::to_string(c.sim.stage_skew.size()) +
                              " for K = " + std::to_string(c.devices),
                          "e.g. --stage-skew 1,1,2,1 for K = 4");
    for (double f : c.sim.stage_skew) check_in_range(kStageSkewRange, f);
  }
  check_in_range(kWatchdogSecondsRange, c.watchdog_seconds);
  check_in_range(kLearningRateRange, c.model.learning_rate);
  check_in_range(kDeviceMemoryMibRange, c.device_memory_mib);
  if (c.warmup_steps < -1 || c.warmup_steps > kMaxWarmupSteps)
    PIPELAB_USAGE_ERROR("--warmup",
                        "must be between 0 and " + std::to_string(kMaxWarmupSteps) + ", got " +
                            std::to_string(c.warmup_steps),
                        "1 (the default on cpu and cuda) pays the one-time costs before the timed steps");
  if (c.repeat_steps != -1 && (c.repeat_steps < 1 || c.repeat_steps > kMaxTimedSteps))
    PIPELAB_USAGE_ERROR("--repeat",
                        "must be between 1 and " + std::to_string(kMaxTimedSteps) + ", got " +
                            std::to_string(c.repeat_steps),
                        "5 timed steps (the cpu default) give a median and a spread");
  if ((c.backend == BackendKind::Cpu || c.backend == BackendKind::Auto) &&
      !kernels::cpu::gemm_impl_available(c.cpu.gemm))
    PIPELAB_USAGE_ERROR("--gemm",
                        std::string("the cpu GEMM '") + to_string(c.cpu.gemm) + "' is not in this build: " +
                            kernels::cpu::gemm_impl_unavailable_reason(c.cpu.gemm),
                        "install libopenblas-pthread-dev (scripts/install-deps) and rebuild, or use --gemm reference");
  if (c.cuda.transport == CudaTransport::Nccl &&
      (c.cuda.placement == CudaPlacement::Partitions || c.cuda.placement == CudaPlacement::Streams))
    PIPELAB_USAGE_ERROR("--transport",
                        std::string("nccl needs one GPU per device, not --placement ") + to_string(c.cuda.placement),
                        "use --placement gpus (or auto) with --transport nccl, or --transport peer");
}

std::string to_json(const RunConfig& c) {
  nlohmann::json j;
  j["layers"] = c.model.layers;
  j["width"] = c.model.width;
  j["hidden"] = c.model.hidden;
  j["batch"] = c.model.batch;
  j["seed"] = c.model.seed;
  j["learning_rate"] = c.model.learning_rate;
  j["devices"] = c.devices;
  j["microbatches"] = c.microbatches;
  j["schedule"] = to_string(c.schedule);
  // Only for a schedule from a file: every other config's JSON stays as it was.
  if (!c.schedule_file.empty()) j["schedule_file"] = c.schedule_file;
  j["remat"] = c.remat;
  // Only with --w-batch: every other config's JSON stays as it was.
  if (c.w_batch) j["w_batch"] = true;
  // Only with --microbatch-rows: every other config's JSON stays as it was.
  if (c.microbatch_rows > 0) j["microbatch_rows"] = c.microbatch_rows;
  // Only with chunks: every other config's JSON stays as it was.
  if (c.chunks > 1) j["chunks"] = c.chunks;
  j["p2p"] = to_string(c.p2p);
  j["backend"] = to_string(c.backend);
  j["partition"] = to_string(c.partition);
  j["sim"] = {{"costs", to_string(c.sim.costs)},
              {"device_tflops", c.sim.device_tflops},
              {"link_gbps", c.sim.link_gbps},
              {"link_latency_us", c.sim.link_latency_us},
              {"stage_skew", c.sim.stage_skew},
              {"count_loss", c.sim.count_loss},
              {"count_optimizer", c.sim.count_optimizer}};
  j["cuda"] = {{"placement", to_string(c.cuda.placement)},
               {"transport", to_string(c.cuda.transport)},
               {"gemm", to_string(c.cuda.gemm)},
               {"tf32", c.cuda.tf32},
               {"instrument", c.cuda.instrument}};
  // Only with --cuda-split-backward: every other config's JSON stays as it was.
  if (c.cuda.split_backward) j["cuda"]["split_backward"] = true;
  j["cpu"] = {{"gemm", to_string(c.cpu.gemm)}};
  j["warmup_steps"] = c.warmup_steps;
  j["repeat_steps"] = c.repeat_steps;
  // Only with a cap: every other config's JSON stays as it was.
  if (c.device_memory_mib > 0) j["device_memory_mib"] = c.device_memory_mib;
  return j.dump();
}

}  // namespace pipelab
