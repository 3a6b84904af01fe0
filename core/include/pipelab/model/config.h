// pipelab/model/config.h — everything one run needs, with defaults and validation.
//
// RunConfig is filled by the CLI (or a test, or the visualizer) and checked by
// validate_config(), which throws pipelab::UsageError naming the flag at fault.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelab/model/model.h"  // ModelSpec
#include "pipelab/model/partition.h"
#include "pipelab/schedule/p2p.h"       // P2pModel
#include "pipelab/schedule/schedule.h"  // ScheduleKind

namespace pipelab {

/// Where the step runs.
enum class BackendKind { Auto, Sim, Cpu, Cuda };
/// "auto", "sim", "cpu" or "cuda".
const char* to_string(BackendKind kind);
/// "auto" | "sim" | "cpu" | "cuda" (throws UsageError on anything else).
BackendKind backend_from_string(const std::string& name);

/// cuda backend: where the K logical devices live (--placement).
enum class CudaPlacement {
  Auto,        ///< gpus if >= K GPUs, else partitions if green contexts can split a GPU K ways, else streams
  Gpus,        ///< one physical GPU per device
  Partitions,  ///< one GPU split into K SM partitions (CUDA green contexts)
  Streams,     ///< K streams on one GPU, sharing its SMs
};
/// "auto", "gpus", "partitions" or "streams".
const char* to_string(CudaPlacement placement);
/// "auto" | "gpus" | "partitions" | "streams" (throws UsageError("--placement")).
CudaPlacement placement_from_string(const std::string& name);

/// cuda backend, placement gpus: how activations and gradients move (--transport).
enum class CudaTransport {
  Peer,  ///< cudaMemcpyPeerAsync on the sender's copy stream (peer access where possible)
  Nccl,  ///< ncclSend / ncclRecv in one single-process communicator
};
/// "peer" or "nccl".
const char* to_string(CudaTransport transport);
/// "peer" | "nccl" (throws UsageError("--transport")).
CudaTransport transport_from_string(const std::string& name);

/// cuda backend: which GEMM runs (--gemm): cuBLAS, or one of the numbered teaching
/// kernels (kernels/cuda/gemm_*.cu: v1 naive, v2 tiled, v3 register, v4 vectorized).
enum class CudaGemm { Cublas, Tiled, Naive, Register, Vectorized };
/// "cublas", "tiled", "naive", "register" or "vectorized".
const char* to_string(CudaGemm gemm);
/// "cublas" | "vectorized" | "register" | "tiled" | "naive" (throws UsageError("--gemm")).
CudaGemm gemm_from_string(const std::string& name);

/// Settings of the cpu backend (ignored by sim and cuda).
struct CpuOptions {
  /// --gemm reference|blas: who computes the GEMMs (kernels/include/pipelab/kernels/cpu.h).
  kernels::cpu::GemmImpl gemm = kernels::cpu::default_gemm_impl();
};

/// Settings of the cuda backend (ignored by sim and cpu).
struct CudaOptions {
  CudaPlacement placement = CudaPlacement::Auto;  ///< --placement
  CudaTransport transport = CudaTransport::Peer;  ///< --transport
  CudaGemm gemm = CudaGemm::Cublas;               ///< --gemm
  bool tf32 = false;       ///< --tf32: cuBLAS may use TF32 tensor cores (TF32 tolerance)
  bool instrument = true;  ///< false (--no-trace): no CUDA events / NVTX; host-clock spans
  /// --cuda-split-backward: run I and W (the split backward of the zero-bubble schedules)
  /// on the GPU instead of refusing them. Off by default: compiled, not yet run on a GPU.
  bool split_backward = false;
};


/// sim: how a compute action is priced (--sim-costs).
enum class SimCosts {
  Flops,  ///< each action's FLOPs at the device rate (model/model.h's counts): F, I and W differ a little
  /// The theory's units: F, R, I and W of a layer each cost the forward's GEMM FLOPs
  /// (4·b·d·h) at the device rate, B = I + W two of them, the loss and the optimizer
  /// nothing. The registry's formulas (stated at F:I:W = 1:1:1) then hold exactly.
  Unit,
};
/// "flops" or "unit".
const char* to_string(SimCosts costs);
/// "flops" | "unit" (throws UsageError("--sim-costs")).
SimCosts sim_costs_from_string(const std::string& name);

/// Sim cost model. Links are ideal (free) unless bandwidth/latency are given.
struct SimCostModel {
  SimCosts costs = SimCosts::Flops;  ///< --sim-costs: FLOP counts, or the theory's unit costs
  double device_tflops = 10.0;  ///< compute rate of every simulated device (TFLOP/s)
  double link_gbps = 0.0;       ///< link bandwidth in Gbit/s; 0 = infinite
  double link_latency_us = 0.0; ///< per-transfer latency in µs
  /// Per-stage multiplier on compute time (empty = all 1): what-if for unbalanced stages.
  std::vector<double> stage_skew;
  /// Count the loss in the last stage's cost (true = what the cpu backend does).
  bool count_loss = true;
  /// Count the SGD update (2 FLOPs per parameter) at the end of each stage.
  bool count_optimizer = true;
};

/// One run: model, split, schedule, backend.
struct RunConfig {
  ModelSpec model;        ///< the model and its batch
  int devices = 4;        ///< K
  int microbatches = 8;   ///< M (naive forces 1)
  ScheduleKind schedule = ScheduleKind::Gpipe;  ///< which generator builds the step
  /// --schedule-file: the schedule's text file (schedule/schedule_file.h) when `schedule`
  /// is Custom, else "". devices, microbatches and remat must be the file's.
  std::string schedule_file;
  bool remat = false;     ///< re-materialization: stash only stage inputs, recompute before B
  /// --w-batch: each stage's weight gradient as one whole-batch W after all its I's
  /// (schedule/batched_weight.h); sim and cpu only.
  bool w_batch = false;
  /// --microbatch-rows b: every micro-batch holds b rows and the batch is B = M·b (M as
  /// scheduled: 1 for naive, K for data-parallel), weak scaling's fixed per-micro-batch
  /// work; 0 (the default): --batch holds and the micro-batches split it.
  int microbatch_rows = 0;
  /// --chunks: model chunks per device (virtual stages) for a schedule that uses them
  /// (interleaved-1f1b); the layers are split into K·chunks stages. 1 otherwise.
  int chunks = 1;
  /// --p2p: the p2p model the schedule is proven deadlock-free under before it runs
  /// (schedule/p2p.h). Every backend still runs it asynchronously (the executor's mailbox).
  P2pModel p2p = P2pModel::Async;
  BackendKind backend = BackendKind::Auto;            ///< where the step runs
  PartitionMethod partition = PartitionMethod::Even;  ///< how layers are split into stages
  SimCostModel sim;                                   ///< the sim backend's cost model
  CudaOptions cuda;                                   ///< the cuda backend's settings
  CpuOptions cpu;                                     ///< the cpu backend's settings
  /// --warmup: untimed steps before the timed ones; -1 = the backend's default (step_plan()).
  int warmup_steps = -1;
  /// --repeat: timed steps, the median one reported; -1 = the backend's default (step_plan()).
  int repeat_steps = -1;
  double watchdog_seconds = 60.0;  ///< executor aborts if no action finishes for this long
  /// --device-memory-mib: the memory of each device in MiB, 0 = no cap. A run whose
  /// predicted per-device peak exceeds it is refused before it starts (runtime/memory_cap.h),
  /// and each device's allocator refuses a charge past it while the step runs.
  double device_memory_mib = 0;
  std::string trace_path;          ///< "" = no trace file
};

/// Most timed steps of a run (--repeat, bench --steps).
constexpr int kMaxTimedSteps = 1000;
/// Most warm-up steps of a run (--warmup).
constexpr int kMaxWarmupSteps = 100;

/// Upper bounds enforced by validate_config (documented in docs/limits).
constexpr int kMaxDevices = 64;  ///< K on cpu and cuda (one thread or GPU stream per device)
constexpr int kMaxChunks = 64;   ///< v, model chunks per device (--chunks)
constexpr int kMaxMicrobatches = 4096;  ///< M on cpu and cuda
/// The sim runs on the single-threaded event engine (no thread per device), so it
/// takes what-if pipelines far past real hardware: K ≤ 1024, M ≤ 16384.
constexpr int kMaxSimDevices = 1024;
constexpr int kMaxSimMicrobatches = 16384;  ///< M on sim
constexpr int kMaxLayers = 4096;        ///< L
constexpr int kMaxWidth = 65536;     ///< d (and classes)
constexpr int kMaxHidden = 262144;   ///< h
constexpr int kMaxBatch = 1 << 20;   ///< B
/// Largest model (parameter bytes, fp32) a run may describe: 1 TiB. Keeps every
/// byte count of the sim and the allocators far from 64-bit overflow.
constexpr double kMaxModelBytes = 1099511627776.0;  ///< largest M (kMaxDevices: largest K)

/// `--gemm NAME` on `backend` (auto: cuda if a GPU is usable, else cpu, as decided by the
/// caller): reference|blas go to config.cpu.gemm, cublas|vectorized|register|tiled|naive to config.cuda.gemm;
/// "" leaves the backend's default (cpu: blas where built, else reference; cuda: cublas).
/// Throws UsageError("--gemm") naming the backend for a GEMM it does not have (the sim
/// has none), and for blas in a build without it (with what to install).
void set_gemm_from_string(RunConfig& config, BackendKind backend, const std::string& name);

/// Throws UsageError (flag + message + hint) for the first invalid setting.
/// Checks K >= 1, K <= layers, K <= 64, M >= 1, M <= batch, M <= 4096, positive
/// sizes, and every real-valued setting (sim rates, latency, skew, watchdog, learning
/// rate) finite and within its range (model/ranges.h), so no duration is inf, NaN or 0.
void validate_config(const RunConfig& config);

/// --microbatch-rows: B = M·b, computed in 64 bits (M ≤ 16384 and b ≤ 2^20 would overflow
/// an int); throws UsageError("--microbatch-rows") when it passes kMaxBatch.
int batch_of_microbatch_rows(int microbatches, int rows_per_microbatch);

/// The config as a JSON object (text), stored in trace metadata.
std::string to_json(const RunConfig& config);

}  // namespace pipelab
