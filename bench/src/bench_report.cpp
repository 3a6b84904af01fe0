// bench_report.cpp — `pipelab bench` as tables (nccl-tests style: `#` header lines,
// a units row, fixed-width columns) and as JSON. Theory columns say "theory".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "pipelab/bench.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/report/report.h"

namespace pipelab {

namespace {

std::string parts_list(const std::vector<BenchPart>& parts) {
  std::string s;
  for (BenchPart p : parts) s += (s.empty() ? "" : ",") + std::string(to_string(p));
  return s;
}

// H100 SXM spec sheet (theory wherever shown): fp32 and dense TF32 peaks, HBM3 bandwidth.
constexpr double kH100Fp32Tflops = 67.0, kH100Tf32Tflops = 495.0, kH100TBps = 3.35;

// The pipeline and weak tables share their columns: a row is one schedule at one M and B.
const char* kScalingHeader =
    "# schedule     M       B   step time     min throughput  speedup    ideal  of ideal   bubble  bubble  mean util"
    "  comm time  peak mem  achieved     dW\n"
    "#                              (ms)    (ms)   (rows/s)  (x naive) (theory)      (%)      (%)  (%, th.)       (%)"
    "       (ms)     (MiB)  (TFLOP/s)  FLOP/B\n";

std::string scaling_rows(const std::vector<PipelineBenchRow>& rows) {
  std::string out = kScalingHeader;
  for (const PipelineBenchRow& row : rows) {
    double min_ms = row.step_ms.empty() ? 0 : row.step_ms.front();
    for (double t : row.step_ms) min_ms = std::min(min_ms, t);
    char line[300];
    std::snprintf(line, sizeof line,
                  "  %-8s %4d %7d %11.3f %7.3f %10.4g %8.2f %8.2f %9.1f %8.1f %7.1f %10.1f %10.3f %9.0f %9.2f %7.1f\n",
                  row.schedule.c_str(), row.microbatches, row.batch, row.median_ms, min_ms, row.rows_per_s,
                  row.speedup, row.ideal_speedup, row.percent_of_ideal, 100 * row.bubble, 100 * row.bubble_theory,
                  100 * row.mean_utilization, row.comm_ms, row.peak_mib, row.tflops, row.dw_flop_per_byte);
    out += line;
  }
  return out;
}

// The GEMM that goes memory-bound first as micro-batches shrink: the weight gradient's
// (bench.h, dw_flop_per_byte). Device balances are spec-sheet peaks over bandwidths.
std::string dw_napkin_line(const ModelSpec& m) {
  const double fp32_balance = kH100Fp32Tflops / kH100TBps, tf32_balance = kH100Tf32Tflops / kH100TBps;
  // As b grows the intensity tends to d·h / (2·(d + h)): a balance above that is never reached.
  const auto below = [&](double balance) {
    const double rows = dw_memory_bound_rows(m, balance);
    return std::isfinite(rows) ? "b < " + format_number("%.0f", rows) + " rows"
                               : std::string("every b (this d, h reach at most ") +
                                     format_number("%.0f", m.width * double(m.hidden) / (2.0 * (m.width + m.hidden))) +
                                     " FLOP/B)";
  };
  return "# dW per micro-batch of b rows (theory): 2*b*d*h FLOPs over 4*(2*d*h + b*(d+h)) bytes (dW read and "
         "written per GEMM), about b/4 FLOP/B; memory-bound below the device's balance, on an H100 SXM "
         "(spec sheet) fp32 " + format_number("%.0f", fp32_balance) + " FLOP/B: " + below(fp32_balance) + ", TF32 " +
         format_number("%.0f", tf32_balance) + " FLOP/B: " + below(tf32_balance) + "\n";
}

// "fp32, gemm cublas" (cuda), "gemm blas" (cpu), "" (sim).
std::string precision_and_gemm(const RunConfig& c) {
  if (c.backend == BackendKind::Cuda)
    return std::string(c.cuda.tf32 ? ", TF32 GEMMs" : ", fp32") + ", gemm " + to_string(c.cuda.gemm);
  if (c.backend == BackendKind::Cpu) return std::string(", fp32, gemm ") + kernels::cpu::to_string(c.cpu.gemm);
  return "";
}

}  // namespace

std::string format_bench(const BenchReport& r) {
  const RunConfig& c = r.options.base;
  const ModelSpec& m = c.model;
  const double flops = step_gemm_flops(m);
  // Parameters and their gradients: 2 · L · (2·d·h + d + h) fp32 values.
  const double param_gb = 2.0 * m.layers * static_cast<double>(block_param_count(m)) * 4 / 1e9;
  std::ostringstream o;
  o << "# pipelab bench: " << parts_list(r.options.parts) << "\n";
  o << "# device: " << r.device << "\n";
  o << "# model " << describe_config(c) << precision_and_gemm(c) << "; every time is the median of "
    << r.options.steps << " timed steps after " << step_plan(c).warmup << " warm-up step(s)\n";
  o << "# napkin math: 12*L*B*d*h = " << format_number("%.2f", flops / 1e12) << " TFLOP of GEMMs per step; params + grads "
    << format_number("%.1f", param_gb) << " GB; H100 SXM fp32 peak ~" << format_number("%.0f", kH100Fp32Tflops)
    << " TFLOP/s (TF32 ~" << format_number("%.0f", kH100Tf32Tflops) << "), i.e. >= "
    << format_number("%.0f", flops / (kH100Fp32Tflops * 1e12) * 1e3) << " ms per fp32 step on a whole H100 (theory)\n";
  if (!r.pipeline.empty() || !r.weak.empty()) o << dw_napkin_line(m);
  if (!r.pipeline.empty()) {
    o << "#\n# [pipeline] strong scaling, B = " << c.model.batch << " fixed: " << r.placement << "\n";
    o << scaling_rows(r.pipeline);
    o << "# speedup = naive step / this step (the median steps); ideal K*M/(M+K-1) and bubble (K-1)/(M+K-1) are theory\n";
  }
  if (!r.weak.empty()) {
    o << "#\n# [weak] weak scaling, every micro-batch b = " << r.options.microbatch_rows
      << " rows, B = M*b; naive runs one micro-batch of b rows\n";
    o << scaling_rows(r.weak);
    o << "# speedup = throughput over naive's (the median steps); ideal K*M/(M+K-1) and bubble (K-1)/(M+K-1) are theory: "
         "the GEMMs per micro-batch are the same in every row, so only bubble, links and host gaps cost\n";
  }
  if (!r.kernels.empty()) {
    o << "#\n# [kernels] GEMM C(m,n) = A(m,k) * B(n,k)^T, fp32" << (c.cuda.tf32 ? " (cuBLAS may use TF32)" : "")
      << ", CUDA events, fresh uniform(-1,1) operands\n";
    o << "#  variant         m      n      k      time   achieved  vs cuBLAS  rel diff\n";
    o << "#                                       (ms)  (TFLOP/s)        (x)  (vs cuBLAS)\n";
    for (const GemmBenchRow& row : r.kernels) {
      char line[200];
      std::snprintf(line, sizeof line, "  %-10s %6d %6d %6d %9.3f %10.2f %10.3f %9.1e\n", row.variant.c_str(), row.m,
                    row.n, row.k, row.median_ms, row.tflops, row.vs_cublas, row.rel_diff);
      o << line;
    }
  }
  if (r.overhead) {
    const OverheadBench& v = *r.overhead;
    o << "#\n# [overhead] GPipe M=" << v.microbatches
      << ": per-action CUDA events + NVTX ranges vs --no-trace (host-clock spans)\n";
    o << "#   traced (ms)  untraced (ms)  overhead (%)\n";
    char line[160];
    std::snprintf(line, sizeof line, "  %12.3f %14.3f %13.2f\n", v.traced_ms, v.untraced_ms, v.overhead_percent);
    o << line;
  }
  if (r.torch) {
    const TorchBench& t = *r.torch;
    o << "#\n# [torch] pipelab cuda K=1 (whole GPU) vs bench/torch_baseline.py (torch " << t.torch_version
      << "), same model, data and precision\n";
    o << "#  pipelab (ms)  torch (ms)  pipelab/torch  torch first loss\n";
    char line[160];
    std::snprintf(line, sizeof line, "  %13.3f %11.3f %14.3f %17.6f\n", t.pipelab_ms, t.torch_ms, t.ratio,
                  t.torch_loss);
    o << line;
  }
  return o.str();
}

namespace {

nlohmann::json scaling_row_json(const PipelineBenchRow& row) {
  return {{"schedule", row.schedule},
          {"microbatches", row.microbatches},
          {"batch", row.batch},
          {"step_ms", row.step_ms},
          {"median_ms", row.median_ms},
          {"rows_per_s", row.rows_per_s},
          {"speedup", row.speedup},
          {"ideal_speedup_theory", row.ideal_speedup},
          {"percent_of_ideal", row.percent_of_ideal},
          {"bubble", row.bubble},
          {"bubble_theory", row.bubble_theory},
          {"mean_utilization", row.mean_utilization},
          {"comm_ms", row.comm_ms},
          {"peak_mib", row.peak_mib},
          {"achieved_tflops", row.tflops},
          {"dw_flop_per_byte_theory", row.dw_flop_per_byte}};
}

}  // namespace

nlohmann::json bench_json(const BenchReport& r) {
  nlohmann::json j;
  j["tool"] = "pipelab bench";
  j["device"] = r.device;
  j["config"] = nlohmann::json::parse(to_json(r.options.base));
  j["steps"] = r.options.steps;
  j["step_gemm_flops"] = step_gemm_flops(r.options.base.model);
  j["parts"] = nlohmann::json::array();
  for (BenchPart p : r.options.parts) j["parts"].push_back(to_string(p));
  j["pipeline"] = nlohmann::json::array();
  if (!r.pipeline.empty() || !r.weak.empty()) j["placement"] = r.placement;
  for (const PipelineBenchRow& row : r.pipeline) j["pipeline"].push_back(scaling_row_json(row));
  j["weak"] = nlohmann::json::array();
  if (!r.weak.empty()) j["microbatch_rows"] = r.options.microbatch_rows;
  for (const PipelineBenchRow& row : r.weak) j["weak"].push_back(scaling_row_json(row));
  j["kernels"] = nlohmann::json::array();
  for (const GemmBenchRow& row : r.kernels)
    j["kernels"].push_back({{"variant", row.variant},
                            {"m", row.m},
                            {"n", row.n},
                            {"k", row.k},
                            {"median_ms", row.median_ms},
                            {"tflops", row.tflops},
                            {"vs_cublas", row.vs_cublas},
                            {"rel_diff_vs_cublas", row.rel_diff}});
  j["overhead"] = nullptr;
  if (r.overhead)
    j["overhead"] = {{"microbatches", r.overhead->microbatches},
                     {"traced_ms", r.overhead->traced_ms},
                     {"untraced_ms", r.overhead->untraced_ms},
                     {"overhead_percent", r.overhead->overhead_percent}};
  j["torch"] = nullptr;
  if (r.torch)
    j["torch"] = {{"pipelab_ms", r.torch->pipelab_ms},
                  {"torch_ms", r.torch->torch_ms},
                  {"pipelab_over_torch", r.torch->ratio},
                  {"torch_first_loss", r.torch->torch_loss},
                  {"torch_version", r.torch->torch_version}};
  return j;
}

}  // namespace pipelab
