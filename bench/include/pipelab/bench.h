// pipelab/bench.h — `pipelab bench`: what the kit achieves on a real GPU.
//
// Five parts, each a table (and JSON):
//   pipeline  strong scaling: K logical devices (default: 4 SM partitions of one GPU),
//             naive and GPipe for M = 1, 2, 4, ..., 32 at one batch B, on a model big
//             enough that GEMMs dominate: step time, speedup over naive, measured bubble
//             next to the theory (K−1)/(M+K−1), and the speedup as a percent of the ideal
//             K·M/(M+K−1);
//   weak      weak scaling: every micro-batch b rows (--microbatch-rows), B = M·b, naive
//             on one micro-batch of b rows as the baseline: throughput in rows/s, its
//             ratio to naive's and that as a percent of the same ideal K·M/(M+K−1) (the
//             per-micro-batch GEMMs are the same in every row, so only the bubble, the
//             links and the host separate a row from its ideal);
//   kernels   the five GEMMs (cuBLAS and the teaching kernels vectorized, register,
//             tiled, naive) in TFLOP/s at three shapes, as a fraction of cuBLAS;
//   overhead  the same GPipe step with and without the per-action CUDA events and
//             NVTX ranges (--no-trace): what the instrumentation costs;
//   torch     (--vs-torch) bench/torch_baseline.py, the same model as a plain
//             PyTorch step on one GPU, against pipelab K = 1 on the whole GPU.
// pipeline and weak run on any backend (--backend cuda, the default; cpu measures threads,
// sim models); kernels, overhead and torch are the GPU's. Both tables carry each row's
// dW arithmetic intensity (theory, dw_flop_per_byte) beside the measurement.
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
  Pipeline,  ///< strong scaling: naive and GPipe over M at one B: speedup, bubble, percent of the ideal
  Weak,      ///< weak scaling: B = M·b, throughput against naive on b rows, percent of the ideal
  Kernels,   ///< GEMM cuBLAS / vectorized / register / tiled / naive in TFLOP/s
  Overhead,  ///< one GPipe step with and without CUDA events + NVTX
  Torch,     ///< pipelab K=1 against bench/torch_baseline.py
};
/// "pipeline", "kernels", "overhead", "torch".
const char* to_string(BenchPart part);
/// The inverse of to_string(); UsageError naming --parts otherwise.
BenchPart bench_part_from_string(const std::string& name);

/// What `pipelab bench` runs.
struct BenchOptions {
  /// Model, K, backend (cuda, cpu or sim), placement, GEMM, TF32, warm-up.
  RunConfig base;
  std::vector<int> microbatches{1, 2, 4, 8, 16, 32};  ///< pipeline and weak: GPipe's M values
  int microbatch_rows = 512;  ///< weak: b, the rows of every micro-batch (B = M·b)
  int steps = 3;                                      ///< timed steps per row (median)
  /// Which parts run, in this order (default: all but torch, which needs PyTorch; off
  /// cuda, pipeline and weak).
  std::vector<BenchPart> parts{BenchPart::Pipeline, BenchPart::Weak, BenchPart::Kernels, BenchPart::Overhead};
  std::string python = "python3";   ///< torch: the interpreter that has torch
  std::string torch_script;         ///< torch: path of bench/torch_baseline.py
};

/// The model `pipelab bench` uses unless told otherwise: GEMMs dominate the step
/// (L=8 d=4096 h=16384 B=1024: 6.6 TFLOP of GEMMs per step, 8.6 GB of parameters
/// and gradients).
ModelSpec default_bench_model();

/// Theory: the arithmetic intensity of one weight-gradient GEMM of a micro-batch of `rows`
/// = b rows, dW (h, d) += daᵀ (h, b) · x (b, d) (dW2 has the same sizes): 2·b·d·h FLOPs over
/// 4·(2·d·h + b·(d + h)) bytes of fp32 traffic (dW read and written once per GEMM, each
/// operand read once), about b/4 FLOP per byte while b ≪ d, h. Below the device's balance
/// (peak FLOP/s over memory bandwidth) that GEMM is memory-bound.
double dw_flop_per_byte(const ModelSpec& model, int rows);

/// Theory: the rows below which that GEMM is memory-bound on a device whose balance is
/// `flop_per_byte` (solving dw_flop_per_byte = balance for b: 8·β·d·h / (2·d·h − 4·β·(d + h)));
/// +infinity when no b reaches the balance.
double dw_memory_bound_rows(const ModelSpec& model, double flop_per_byte);

/// One row of the pipeline (strong scaling) or weak table.
struct PipelineBenchRow {
  std::string schedule;         ///< "naive" or "gpipe"
  int microbatches = 1;         ///< M
  int batch = 0;                ///< B of this row (weak: M·b; naive: b)
  double rows_per_s = 0;        ///< throughput: B / median step (measured)
  double dw_flop_per_byte = 0;  ///< theory: dw_flop_per_byte at this row's B/M rows
  std::vector<double> step_ms;  ///< every timed step (ms)
  double median_ms = 0;         ///< median step time
  double speedup = 0;           ///< throughput over naive's (strong: naive median / this median)
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
  std::string variant;   ///< "cublas", "vectorized", "register", "tiled", "naive"
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
  std::vector<PipelineBenchRow> weak;      ///< naive on b rows first, then GPipe per M at B = M·b
  std::vector<GemmBenchRow> kernels;       ///< per shape: cuBLAS, vectorized, register, tiled, naive (empty if not run)
  std::optional<OverheadBench> overhead;   ///< when the overhead part ran
  std::optional<TorchBench> torch;         ///< when the torch part ran
};

/// Run the parts in options.parts. kernels, overhead and torch need the cuda backend
/// (UsageError naming --parts otherwise); the cuda backend needs a GPU (UsageError naming
/// --backend otherwise, with the reason). `progress` gets a line per row.
BenchReport run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& progress = {});

/// The GEMM part alone: each variant at each shape (m, n, k), `reps` timed runs after
/// one warm-up, fresh random operands. Needs a GPU (defined with the cuda backend).
std::vector<GemmBenchRow> bench_gemm(const std::vector<std::array<int, 3>>& shapes, int reps, bool tf32);

/// The human tables: a `#` header with the napkin math, then one table per part.
std::string format_bench(const BenchReport& report);
/// The same as one JSON object (schema in docs/cli.md).
nlohmann::json bench_json(const BenchReport& report);

}  // namespace pipelab
