// pipelab/bench.h — `pipelab bench`: what the kit achieves on a real GPU.
//
// Four parts, each a table (and JSON):
//   pipeline  K logical devices (default: 4 SM partitions of one GPU), naive and GPipe
//             for M = 1, 2, 4, ..., 32 on a model big enough that GEMMs dominate:
//             step time, speedup over naive, measured bubble next to the theory
//             (K−1)/(M+K−1), and the speedup as a percent of the ideal K·M/(M+K−1);
//   kernels   the three GEMMs (naive, tiled, cuBLAS) in TFLOP/s at three shapes, as a
//             fraction of cuBLAS;
//   overhead  the same GPipe step with and without the per-action CUDA events and
//             NVTX ranges (--no-trace): what the instrumentation costs;
//   torch     (--vs-torch) bench/torch_baseline.py, the same model as a plain
//             PyTorch step on one GPU, against pipelab K = 1 on the whole GPU.
// Every time is the median of `steps` timed steps after the config's warm-up step(s);
// nothing is hard-coded and every ratio is of two measured times, except the columns
// labelled "theory". Speed lives here, not in the tests (docs/testing.md).
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipelab/model/config.h"
#include "pipelab/model/model.h"
#include "pipelab/statistics.h"

namespace pipelab {

/// The parts of `pipelab bench` (--parts).
enum class BenchPart {
  Pipeline,  ///< naive and GPipe over M: speedup, bubble, percent of the ideal
  Kernels,   ///< GEMM naive / tiled / cuBLAS in TFLOP/s
  Overhead,  ///< one GPipe step with and without CUDA events + NVTX
  Torch,     ///< pipelab K=1 against bench/torch_baseline.py
};
/// "pipeline", "kernels", "overhead", "torch".
const char* to_string(BenchPart part);
/// The inverse of to_string(); UsageError naming --parts otherwise.
BenchPart bench_part_from_string(const std::string& name);

/// What `pipelab bench` runs.
struct BenchOptions {
  /// Model, K, placement, GEMM, TF32, warm-up. The backend is always cuda.
  RunConfig base;
  std::vector<int> microbatches{1, 2, 4, 8, 16, 32};  ///< pipeline: GPipe's M values
  int steps = 3;                                      ///< timed steps per row (median)
  /// Which parts run, in this order (default: all but torch, which needs PyTorch).
  std::vector<BenchPart> parts{BenchPart::Pipeline, BenchPart::Kernels, BenchPart::Overhead};
  std::string python = "python3";   ///< torch: the interpreter that has torch
  std::string torch_script;         ///< torch: path of bench/torch_baseline.py
};

/// The model `pipelab bench` uses unless told otherwise: GEMMs dominate the step
/// (L=8 d=4096 h=16384 B=1024: 6.6 TFLOP of GEMMs per step, 8.6 GB of parameters
/// and gradients).
ModelSpec default_bench_model();

/// One row of the pipeline table.
struct PipelineBenchRow {
  std::string schedule;         ///< "naive" or "gpipe"
  int microbatches = 1;         ///< M
  std::vector<double> step_ms;  ///< every timed step (ms)
  double median_ms = 0;         ///< median step time
  double speedup = 0;           ///< naive median / this median
  double ideal_speedup = 1;     ///< theory: K·M/(M+K−1) (1 for naive)
  double percent_of_ideal = 0;  ///< 100 · speedup / ideal_speedup
  double bubble = 0;            ///< measured bubble fraction of the median step
  double bubble_theory = 0;     ///< theory: (K−1)/(M+K−1)
  double mean_utilization = 0;  ///< measured, median step
  double comm_ms = 0;           ///< measured transfer time, median step
  double peak_mib = 0;          ///< measured peak memory of the busiest device
  double tflops = 0;            ///< step_gemm_flops / median time (whole step, all devices)
};

/// One row of the GEMM table.
struct GemmBenchRow {
  std::string variant;   ///< "naive", "tiled", "cublas"
  int m = 0;  ///< rows of C and A: C (m, n) = A (m, k) · B (n, k)ᵀ
  int n = 0;  ///< columns of C, rows of B
  int k = 0;  ///< the summed dimension
  double median_ms = 0;  ///< median of the timed runs (CUDA events)
  double tflops = 0;     ///< 2·m·n·k / median time
  double vs_cublas = 0;  ///< this TFLOP/s / cuBLAS's at the same shape
  double rel_diff = 0;   ///< ‖C − C_cuBLAS‖ / ‖C_cuBLAS‖: a sanity check, not a test
};

/// The instrumentation's cost.
struct OverheadBench {
  int microbatches = 0;       ///< the GPipe run measured
  double traced_ms = 0;       ///< median step with CUDA events + NVTX
  double untraced_ms = 0;     ///< median step with --no-trace (host-clock spans)
  double overhead_percent = 0;  ///< 100 · (traced − untraced) / untraced
};

/// pipelab K = 1 against bench/torch_baseline.py on the same GPU.
struct TorchBench {
  double pipelab_ms = 0;       ///< pipelab cuda K=1 M=1 median step
  double torch_ms = 0;         ///< torch_baseline.py median step
  double ratio = 0;            ///< pipelab / torch (below 1: pipelab is faster)
  double torch_loss = 0;       ///< first-step loss of torch_baseline.py (pipelab run --json "loss" is the same step)
  std::string torch_version;   ///< as torch reports it
};

/// Everything one `pipelab bench` measured.
struct BenchReport {
  BenchOptions options;      ///< as run
  std::string device;        ///< GPU name, SMs, driver (describe line)
  std::string placement;     ///< the pipeline's placement as planned (with SMs per device)
  std::vector<PipelineBenchRow> pipeline;  ///< naive first, then GPipe per M (empty if not run)
  std::vector<GemmBenchRow> kernels;       ///< per shape: cuBLAS, tiled, naive (empty if not run)
  std::optional<OverheadBench> overhead;   ///< when the overhead part ran
  std::optional<TorchBench> torch;         ///< when the torch part ran
};

/// Run the parts in options.parts. Needs the cuda backend and a GPU (UsageError
/// naming --backend otherwise, with the reason). `progress` gets a line per row.
BenchReport run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& progress = {});

/// The GEMM part alone: each variant at each shape (m, n, k), `reps` timed runs after
/// one warm-up, fresh random operands. Needs a GPU (defined with the cuda backend).
std::vector<GemmBenchRow> bench_gemm(const std::vector<std::array<int, 3>>& shapes, int reps, bool tf32);

/// The human tables: a `#` header with the napkin math, then one table per part.
std::string format_bench(const BenchReport& report);
/// The same as one JSON object (schema in docs/cli.md).
nlohmann::json bench_json(const BenchReport& report);

}  // namespace pipelab
