// bench_report.cpp — `pipelab bench` as tables (nccl-tests style: `#` header lines,
// a units row, fixed-width columns) and as JSON. Theory columns say "theory".
#include <cstdio>
#include <sstream>
#include <string>

#include "pipelab/bench.h"
#include "pipelab/report/report.h"

namespace pipelab {

namespace {

std::string parts_list(const std::vector<BenchPart>& parts) {
  std::string s;
  for (BenchPart p : parts) s += (s.empty() ? "" : ",") + std::string(to_string(p));
  return s;
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
  o << "# model " << describe_config(c) << ", " << (c.cuda.tf32 ? "TF32 GEMMs" : "fp32") << ", gemm "
    << to_string(c.cuda.gemm) << "; every time is the median of " << r.options.steps << " timed steps after "
    << step_plan(c).warmup << " warm-up step(s)\n";
  o << "# napkin math: 12*L*B*d*h = " << format_number("%.2f", flops / 1e12) << " TFLOP of GEMMs per step; params + grads "
    << format_number("%.1f", param_gb) << " GB; H100 SXM fp32 peak ~67 TFLOP/s (TF32 ~495), i.e. >= "
    << format_number("%.0f", flops / 67e12 * 1e3) << " ms per fp32 step on a whole H100 (theory)\n";
  if (!r.pipeline.empty()) {
    o << "#\n# [pipeline] " << r.placement << "\n";
    o << "# schedule     M   step time     min  speedup    ideal  of ideal   bubble  bubble  mean util  comm time"
         "  peak mem  achieved\n";
    o << "#                       (ms)    (ms)  (x naive) (theory)      (%)      (%)  (%, th.)       (%)       (ms)"
         "     (MiB)  (TFLOP/s)\n";
    for (const PipelineBenchRow& row : r.pipeline) {
      double min_ms = row.step_ms.empty() ? 0 : row.step_ms.front();
      for (double t : row.step_ms) min_ms = std::min(min_ms, t);
      char line[256];
      std::snprintf(line, sizeof line,
                    "  %-8s %4d %11.3f %7.3f %8.2f %8.2f %9.1f %8.1f %7.1f %10.1f %10.3f %9.0f %9.2f\n",
                    row.schedule.c_str(), row.microbatches, row.median_ms, min_ms, row.speedup, row.ideal_speedup,
                    row.percent_of_ideal, 100 * row.bubble, 100 * row.bubble_theory, 100 * row.mean_utilization,
                    row.comm_ms, row.peak_mib, row.tflops);
      o << line;
    }
    o << "# speedup = naive step / this step (measured); ideal K*M/(M+K-1) and bubble (K-1)/(M+K-1) are theory\n";
  }
  if (!r.kernels.empty()) {
    o << "#\n# [kernels] GEMM C(m,n) = A(m,k) * B(n,k)^T, fp32" << (c.cuda.tf32 ? " (cuBLAS may use TF32)" : "")
      << ", CUDA events, fresh uniform(-1,1) operands\n";
    o << "#  variant      m      n      k      time   achieved  vs cuBLAS  rel diff\n";
    o << "#                                    (ms)  (TFLOP/s)        (x)  (vs cuBLAS)\n";
    for (const GemmBenchRow& row : r.kernels) {
      char line[200];
      std::snprintf(line, sizeof line, "  %-7s %6d %6d %6d %9.3f %10.2f %10.3f %9.1e\n", row.variant.c_str(), row.m,
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
  if (!r.pipeline.empty()) j["placement"] = r.placement;
  for (const PipelineBenchRow& row : r.pipeline)
    j["pipeline"].push_back({{"schedule", row.schedule},
                             {"microbatches", row.microbatches},
                             {"step_ms", row.step_ms},
                             {"median_ms", row.median_ms},
                             {"speedup", row.speedup},
                             {"ideal_speedup_theory", row.ideal_speedup},
                             {"percent_of_ideal", row.percent_of_ideal},
                             {"bubble", row.bubble},
                             {"bubble_theory", row.bubble_theory},
                             {"mean_utilization", row.mean_utilization},
                             {"comm_ms", row.comm_ms},
                             {"peak_mib", row.peak_mib},
                             {"achieved_tflops", row.tflops}});
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
