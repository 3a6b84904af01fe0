// cpu_gemm_bench.cpp — the cpu backend's kernels on this machine: a benchmark, not a test.
//
//   build/bin/pipelab-cpu-bench                         # cpu default model, M = 8, every part
//   build/bin/pipelab-cpu-bench --parts gemm --layers 16 --width 256 --hidden 1024 --batch 128
//   build/bin/pipelab-cpu-bench --parts models          # the candidate cpu default models
//   build/bin/pipelab-cpu-bench --parts torch --python /usr/bin/python3   # vs PyTorch, 1 thread
//
// Parts, in this order (each a table; --json prints them as one object):
//   gemm         the six GEMMs of a block (forward 2, backward 4) at a micro-batch of B/M
//                rows and at the whole batch (B rows): GFLOP/s of the reference and of the
//                BLAS, after checking that both give the same C (‖C_blas − C_ref‖ / ‖C_ref‖);
//   elementwise  ns per element of the element-wise kernels at a micro-batch, and of the
//                bias + GELU loops written with libm's erff/expf (what they replaced);
//   step         one training step on K = 1 device (no pipeline, no contention), M = 1 and
//                M, per GEMM: median step time, the GEMM FLOP rate it implies, and how much
//                of the step the GEMMs take at the rates measured in `gemm`;
//   models       the same for a few candidate models (the cpu default model's choice);
//   torch        (needs PyTorch) bench/torch_baseline.py --device cpu on one thread against
//                pipelab K = 1, M = 1 on the same model.
// Every number is the median of --reps samples (a sample is enough calls to take ~2 ms);
// the reference and the BLAS samples alternate, so a busy machine slows both alike. The
// GEMM FLOPs are 2·m·n·k; a step's are 12·L·B·d·h (model.h, step_gemm_flops).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/runtime/run.h"
#include "pipelab/statistics.h"

namespace {

namespace k = pipelab::kernels::cpu;
using pipelab::ModelSpec;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Options {
  ModelSpec model = pipelab::default_cpu_model();
  int microbatches = 8;
  int reps = 15;
  int steps = 5;
  std::string parts = "gemm,elementwise,step";
  std::string python = "python3";
  std::string torch_script = PIPELAB_BENCH_SOURCE_DIR "/torch_baseline.py";
  bool json = false;
};

// Seconds per call of `f`: `reps` samples of enough calls to take ~2 ms, the median;
// `fs` are timed in turn within each sample round (alternating: same noise for each).
std::vector<double> seconds_per_call(const std::vector<std::function<void()>>& fs, int reps) {
  std::vector<int> calls(fs.size(), 1);
  for (std::size_t i = 0; i < fs.size(); ++i) {  // warm-up and calibration
    const auto start = Clock::now();
    fs[i]();
    const double once = std::chrono::duration<double>(Clock::now() - start).count();
    calls[i] = std::max(1, static_cast<int>(2e-3 / std::max(once, 1e-9)));
  }
  std::vector<std::vector<double>> samples(fs.size());
  for (int r = 0; r < reps; ++r)
    for (std::size_t i = 0; i < fs.size(); ++i) {
      const auto start = Clock::now();
      for (int c = 0; c < calls[i]; ++c) fs[i]();
      samples[i].push_back(std::chrono::duration<double>(Clock::now() - start).count() / calls[i]);
    }
  std::vector<double> out;
  for (auto& s : samples) out.push_back(pipelab::median_of(s));
  return out;
}

std::vector<float> random_floats(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// ---- the six GEMMs of a block (model.cpp, block_forward / block_backward) ----------

struct GemmShape {
  const char* what;  // the model's name for it
  k::Trans ta, tb;
  int m, n, k;
  float beta;  // 1: a weight gradient accumulated over micro-batches
};

std::vector<GemmShape> block_gemms(const ModelSpec& s, int b) {
  const int d = s.width, h = s.hidden;
  const k::Trans N = k::Trans::No, T = k::Trans::Yes;
  // ASCII names: the table's columns are counted in bytes.
  return {{"F a = x W1^T", N, T, b, h, d, 0.f},    {"F y = g W2^T", N, T, b, d, h, 0.f},
          {"B dW2 += dy^T g", T, N, d, h, b, 1.f}, {"B dg = dy W2", N, N, b, h, d, 0.f},
          {"B dW1 += da^T x", T, N, h, d, b, 1.f}, {"B dx = da W1", N, N, b, d, h, 0.f}};
}

struct GemmRow {
  std::string what;
  int rows = 0, m = 0, n = 0, k = 0;
  double ref_gflops = 0, blas_gflops = 0, rel_diff = 0;
};

GemmRow bench_gemm(const GemmShape& g, int rows, int reps, bool have_blas) {
  const int a_rows = g.ta == k::Trans::No ? g.m : g.k, a_cols = g.ta == k::Trans::No ? g.k : g.m;
  const int b_rows = g.tb == k::Trans::No ? g.k : g.n, b_cols = g.tb == k::Trans::No ? g.n : g.k;
  const std::vector<float> A = random_floats(std::size_t(a_rows) * a_cols, 1),
                           B = random_floats(std::size_t(b_rows) * b_cols, 2),
                           C0 = random_floats(std::size_t(g.m) * g.n, 3);
  std::vector<float> c_ref = C0, c_blas = C0;
  const auto run = [&](k::GemmImpl impl, std::vector<float>& C) {
    k::gemm(impl, g.ta, g.tb, g.m, g.n, g.k, 1.f, A.data(), a_cols, B.data(), b_cols, g.beta, C.data(), g.n);
  };
  GemmRow row{g.what, rows, g.m, g.n, g.k};
  // 1. validate: one call each from the same C, compared normwise.
  run(k::GemmImpl::Reference, c_ref);
  if (have_blas) {
    run(k::GemmImpl::Blas, c_blas);
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < c_ref.size(); ++i) {
      diff = std::max(diff, std::fabs(double(c_blas[i]) - c_ref[i]));
      norm = std::max(norm, std::fabs(double(c_ref[i])));
    }
    row.rel_diff = norm > 0 ? diff / norm : diff;
  }
  // 2. time (beta = 1 keeps accumulating into C: values stay O(k), no denormals).
  std::vector<std::function<void()>> fs{[&] { run(k::GemmImpl::Reference, c_ref); }};
  if (have_blas) fs.push_back([&] { run(k::GemmImpl::Blas, c_blas); });
  const std::vector<double> sec = seconds_per_call(fs, reps);
  const double flop = 2.0 * g.m * g.n * g.k;
  row.ref_gflops = flop / sec[0] * 1e-9;
  if (have_blas) row.blas_gflops = flop / sec[1] * 1e-9;
  return row;
}

// FLOP-weighted rate of a block's six GEMMs: total FLOPs / total time.
double block_rate(const std::vector<GemmRow>& rows, int b, bool blas) {
  double flop = 0, seconds = 0;
  for (const GemmRow& r : rows) {
    if (r.rows != b) continue;
    const double f = 2.0 * r.m * r.n * r.k, rate = (blas ? r.blas_gflops : r.ref_gflops) * 1e9;
    flop += f;
    seconds += rate > 0 ? f / rate : 0;
  }
  return seconds > 0 ? flop / seconds * 1e-9 : 0;
}

void print_gemm(const std::vector<GemmRow>& rows, bool have_blas) {
  std::printf("# gemm: the six GEMMs of a block, C (m, n) += op(A) (m, k) · op(B) (k, n); 2·m·n·k FLOPs\n");
  std::printf("# %-16s %5s %6s %6s %6s  %10s  %10s  %6s  %9s\n", "GEMM", "rows", "m", "n", "k", "reference", "blas",
              "blas/", "rel diff");
  std::printf("# %-16s %5s %6s %6s %6s  %10s  %10s  %6s  %9s\n", "", "(b)", "", "", "", "(GFLOP/s)", "(GFLOP/s)", "ref",
              "(normwise)");
  for (const GemmRow& r : rows)
    std::printf("  %-16s %5d %6d %6d %6d  %10.1f  %10.1f  %6.2f  %9.1e\n", r.what.c_str(), r.rows, r.m, r.n, r.k,
                r.ref_gflops, r.blas_gflops, r.ref_gflops > 0 ? r.blas_gflops / r.ref_gflops : 0, r.rel_diff);
  if (!have_blas)
    std::printf("# blas: not in this build (%s)\n", k::gemm_impl_unavailable_reason(k::GemmImpl::Blas).c_str());
}

// ---- element-wise kernels -------------------------------------------------------------

// The bias + GELU loops as they were before the vectorized kernels: libm's erf and exp
// per element (the baseline of the `elementwise` table).
void gelu_forward_libm(float* a, const float* bias, float* g, int rows, int cols) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      float& x = a[std::size_t(i) * cols + j];
      x += bias[j];
      g[std::size_t(i) * cols + j] = 0.5f * x * (1.0f + std::erf(x * 0.70710678f));
    }
}
void gelu_backward_libm(const float* dg, const float* a, float* da, float* dbias, int rows, int cols) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const std::size_t at = std::size_t(i) * cols + j;
      const float x = a[at];
      const float grad = 0.5f * (1.0f + std::erf(x * 0.70710678f)) + x * 0.39894228f * std::exp(-0.5f * x * x);
      da[at] = dg[at] * grad;
      dbias[j] += da[at];
    }
}

struct ElementwiseRow {
  std::string what;
  int rows = 0, cols = 0;
  double ns_per_element = 0, libm_ns_per_element = -1;  // -1: no libm version
};

std::vector<ElementwiseRow> bench_elementwise(const ModelSpec& s, int b, int reps) {
  const int d = s.width, h = s.hidden;
  const std::size_t nh = std::size_t(b) * h, nd = std::size_t(b) * d;
  // Pre-activations over (−4, 4) and a zero bias, so that repeated calls see the same values.
  std::vector<float> a = random_floats(nh, 4, -4.f, 4.f), g(nh), dg = random_floats(nh, 5), da(nh);
  std::vector<float> bias_h(h, 0.f), dbias_h(h, 0.f), bias_d(d, 0.f), dbias_d(d, 0.f);
  std::vector<float> y = random_floats(nd, 6), x = random_floats(nd, 7), dy = random_floats(nd, 8);
  const std::size_t params = pipelab::block_param_count(s);
  std::vector<float> theta = random_floats(params, 9), grad = random_floats(params, 10);
  std::vector<ElementwiseRow> out;
  const auto per_element = [&](double seconds, std::size_t n) { return seconds * 1e9 / double(n); };
  {
    const auto t = seconds_per_call({[&] { k::bias_gelu_forward(a.data(), bias_h.data(), g.data(), b, h); },
                                     [&] { gelu_forward_libm(a.data(), bias_h.data(), g.data(), b, h); }},
                                    reps);
    out.push_back({"bias_gelu_forward", b, h, per_element(t[0], nh), per_element(t[1], nh)});
  }
  {
    const auto t =
        seconds_per_call({[&] { k::bias_gelu_backward(dg.data(), a.data(), da.data(), dbias_h.data(), b, h); },
                          [&] { gelu_backward_libm(dg.data(), a.data(), da.data(), dbias_h.data(), b, h); }},
                         reps);
    out.push_back({"bias_gelu_backward", b, h, per_element(t[0], nh), per_element(t[1], nh)});
  }
  // The in-place kernels are timed in pairs, + x then − x, so that y stays what it was.
  std::vector<float> minus_x(nd);
  for (std::size_t i = 0; i < nd; ++i) minus_x[i] = -x[i];
  {
    const auto t = seconds_per_call({[&] {
                                      k::bias_residual_forward(y.data(), bias_d.data(), x.data(), b, d);
                                      k::bias_residual_forward(y.data(), bias_d.data(), minus_x.data(), b, d);
                                    }},
                                    reps);
    out.push_back({"bias_residual_forward", b, d, per_element(t[0] / 2, nd)});
  }
  {
    const auto t = seconds_per_call({[&] {
                                      k::bias_backward(dy.data(), dbias_d.data(), b, d);
                                      std::fill(dbias_d.begin(), dbias_d.end(), 0.f);
                                    }},
                                    reps);
    out.push_back({"bias_backward", b, d, per_element(t[0], nd)});
  }
  {
    const auto t = seconds_per_call({[&] {
                                      k::add_inplace(y.data(), x.data(), nd);
                                      k::add_inplace(y.data(), minus_x.data(), nd);
                                    }},
                                    reps);
    out.push_back({"add_inplace", b, d, per_element(t[0] / 2, nd)});
  }
  {
    const auto t = seconds_per_call({[&] { k::sgd_update(theta.data(), grad.data(), params, 0.f); }}, reps);
    out.push_back({"sgd_update (block)", 1, int(params), per_element(t[0], params)});
  }
  return out;
}

void print_elementwise(const std::vector<ElementwiseRow>& rows) {
  std::printf("# elementwise: the element-wise kernels at a micro-batch (sgd: one block's parameters)\n");
  std::printf("# %-22s %6s %8s  %10s  %10s  %7s\n", "kernel", "rows", "cols", "pipelab", "libm loop", "speedup");
  // libm loop: the bias + GELU loops as they were before (erff, expf per element).
  std::printf("# %-22s %6s %8s  %10s  %10s  %7s\n", "", "", "", "(ns/elem)", "(ns/elem)", "(x)");
  for (const ElementwiseRow& r : rows) {
    if (r.libm_ns_per_element >= 0)
      std::printf("  %-22s %6d %8d  %10.3f  %10.3f  %7.1f\n", r.what.c_str(), r.rows, r.cols, r.ns_per_element,
                  r.libm_ns_per_element, r.libm_ns_per_element / r.ns_per_element);
    else
      std::printf("  %-22s %6d %8d  %10.3f  %10s  %7s\n", r.what.c_str(), r.rows, r.cols, r.ns_per_element, "-", "-");
  }
}

// ---- one step on one device ---------------------------------------------------------------

struct StepRow {
  std::string model;
  std::string gemm;
  int microbatches = 1, rows = 0;
  double median_ms = 0, gemm_gflops_achieved = 0, gemm_share = 0;  // share: -1 unknown
  double loss = 0;  // the step's loss (a first step's: torch_baseline.py reports the same)
};

pipelab::RunConfig one_device(const ModelSpec& model, int microbatches, k::GemmImpl gemm, int steps) {
  pipelab::RunConfig c;
  c.model = model;
  c.devices = 1;
  c.microbatches = microbatches;
  c.schedule = microbatches == 1 ? pipelab::ScheduleKind::Naive : pipelab::ScheduleKind::Gpipe;
  c.backend = pipelab::BackendKind::Cpu;
  c.cpu.gemm = gemm;
  c.warmup_steps = 1;
  c.repeat_steps = steps;
  return c;
}

std::string model_label(const ModelSpec& m) {
  return "L=" + std::to_string(m.layers) + " d=" + std::to_string(m.width) + " h=" + std::to_string(m.hidden) +
         " B=" + std::to_string(m.batch);
}

StepRow bench_step(const ModelSpec& model, int microbatches, k::GemmImpl gemm, int steps,
                   const std::vector<GemmRow>& gemm_rows) {
  const pipelab::RepeatedRun run = pipelab::run_repeated(one_device(model, microbatches, gemm, steps), steps);
  StepRow row;
  row.model = model_label(model);
  row.gemm = k::to_string(gemm);
  row.microbatches = microbatches;
  row.rows = model.batch / microbatches;
  row.median_ms = pipelab::median_of(run.step_ms);
  if (run.median.numerics) row.loss = run.median.numerics->loss;
  const double flop = pipelab::step_gemm_flops(model);
  row.gemm_gflops_achieved = flop / (row.median_ms * 1e-3) * 1e-9;
  // The GEMMs' time at the rates measured for this row count (micro-batches of B/M rows).
  const double rate = block_rate(gemm_rows, row.rows, gemm == k::GemmImpl::Blas) * 1e9;
  row.gemm_share = rate > 0 ? flop / rate / (row.median_ms * 1e-3) : -1;
  return row;
}

void print_steps(const std::vector<StepRow>& rows) {
  std::printf("# step: one training step on K = 1 device (no pipeline); GEMM FLOPs 12·L·B·d·h per step\n");
  std::printf("# %-26s %-9s %4s %5s  %10s  %12s  %9s\n", "model", "gemm", "M", "rows", "step", "GEMM FLOPs /",
              "GEMM share");
  std::printf("# %-26s %-9s %4s %5s  %10s  %12s  %9s\n", "", "", "", "(B/M)", "(ms)", "step (GFLOP/s)", "(%)");
  for (const StepRow& r : rows) {
    std::printf("  %-26s %-9s %4d %5d  %10.1f  %12.1f  ", r.model.c_str(), r.gemm.c_str(), r.microbatches, r.rows,
                r.median_ms, r.gemm_gflops_achieved);
    if (r.gemm_share >= 0)
      std::printf("%9.0f\n", 100 * r.gemm_share);
    else
      std::printf("%9s\n", "-");
  }
  std::printf(
      "#   GEMM share = the step's GEMM FLOPs at the rates of the gemm table for its row count, over the step\n");
}

// ---- candidate cpu default models ----------------------------------------------------------

std::vector<ModelSpec> candidate_models() {
  const auto spec = [](int L, int d, int h, int B) {
    ModelSpec m;
    m.layers = L, m.width = d, m.hidden = h, m.batch = B;
    return m;
  };
  return {ModelSpec{},  // the ModelSpec defaults (the sim's): 16-row micro-batches at M = 8
          spec(16, 256, 1024, 256),
          spec(16, 256, 1024, 512),
          spec(16, 192, 768, 512),
          spec(8, 192, 768, 512),
          spec(16, 128, 512, 512),
          spec(8, 128, 512, 1024)};
}

// ---- PyTorch ------------------------------------------------------------------------------------

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Json bench_torch(const Options& o, int steps) {
  const ModelSpec& m = o.model;
  std::ostringstream cmd;
  // One thread for torch and for the BLAS it may call: the same budget as one pipelab worker.
  cmd << "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 " << quoted(o.python) << " "
      << quoted(o.torch_script) << " --device cpu --json --layers " << m.layers << " --width " << m.width
      << " --hidden " << m.hidden << " --batch " << m.batch << " --seed " << m.seed << " --warmup 1 --steps " << steps
      << " 2>&1";
  std::fprintf(stderr, "cpu-bench: %s\n", cmd.str().c_str());
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.str().c_str(), "r"), pclose);
  if (!pipe) PIPELAB_THROW("cannot start " + o.python, "give --python the interpreter that has torch");
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  const std::size_t brace = out.find('{');
  if (status != 0 || brace == std::string::npos)
    PIPELAB_THROW(
        "torch_baseline.py failed (status " + std::to_string(status) + "): " + out.substr(0, 400),
        "it needs PyTorch: Debian's python3-torch (apt install python3-torch), then --python /usr/bin/python3");
  return Json::parse(out.substr(brace));
}

// ---- main --------------------------------------------------------------------------------------

bool wants(const std::string& parts, const std::string& part) {
  return ("," + parts + ",").find("," + part + ",") != std::string::npos;
}

std::string cpu_name() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double load = -1;
  f >> load;
  return load;
}

int run(const Options& o) {
  const bool have_blas = k::gemm_impl_available(k::GemmImpl::Blas);
  const ModelSpec& m = o.model;
  const int b = std::max(1, m.batch / o.microbatches);
  Json j;
  // 1. setup: what runs here.
  std::printf("# pipelab-cpu-bench: %s, %u hardware threads, load average %.2f at start\n", cpu_name().c_str(),
              std::thread::hardware_concurrency(), load_average());
  std::printf("# gemm reference: %s; blas: %s\n", k::gemm_impl_description(k::GemmImpl::Reference).c_str(),
              k::gemm_impl_description(k::GemmImpl::Blas).c_str());
  std::printf("# model %s, M = %d (micro-batches of %d rows); every number is a median of %d samples\n",
              model_label(m).c_str(), o.microbatches, b, o.reps);
  j["machine"] = {{"cpu", cpu_name()},
                  {"hardware_threads", std::thread::hardware_concurrency()},
                  {"load_average_start", load_average()}};
  j["gemm_impls"] = {{"reference", k::gemm_impl_description(k::GemmImpl::Reference)},
                     {"blas", k::gemm_impl_description(k::GemmImpl::Blas)}};
  j["model"] = {{"layers", m.layers},
                {"width", m.width},
                {"hidden", m.hidden},
                {"batch", m.batch},
                {"microbatches", o.microbatches}};
  bool ok = true;
  std::vector<GemmRow> gemm_rows;
  // 2. the parts, each validated before it is timed.
  const bool need_gemm = wants(o.parts, "gemm") || wants(o.parts, "step");
  if (need_gemm) {
    for (int rows : b == m.batch ? std::vector<int>{b} : std::vector<int>{b, m.batch})
      for (const GemmShape& g : block_gemms(m, rows)) gemm_rows.push_back(bench_gemm(g, rows, o.reps, have_blas));
    for (const GemmRow& r : gemm_rows) ok = ok && r.rel_diff <= 1e-5;
    if (wants(o.parts, "gemm")) {
      print_gemm(gemm_rows, have_blas);
      std::printf("#   FLOP-weighted over the six: %d rows: reference %.1f, blas %.1f GFLOP/s", b,
                  block_rate(gemm_rows, b, false), block_rate(gemm_rows, b, true));
      if (b != m.batch)
        std::printf("; %d rows: reference %.1f, blas %.1f GFLOP/s", m.batch, block_rate(gemm_rows, m.batch, false),
                    block_rate(gemm_rows, m.batch, true));
      std::printf("\n");
    }
    for (const GemmRow& r : gemm_rows)
      j["gemm"].push_back({{"what", r.what},
                           {"rows", r.rows},
                           {"m", r.m},
                           {"n", r.n},
                           {"k", r.k},
                           {"reference_gflops", r.ref_gflops},
                           {"blas_gflops", r.blas_gflops},
                           {"rel_diff", r.rel_diff}});
  }
  if (wants(o.parts, "elementwise")) {
    const std::vector<ElementwiseRow> rows = bench_elementwise(m, b, o.reps);
    print_elementwise(rows);
    for (const ElementwiseRow& r : rows)
      j["elementwise"].push_back({{"kernel", r.what},
                                  {"rows", r.rows},
                                  {"cols", r.cols},
                                  {"ns_per_element", r.ns_per_element},
                                  {"libm_ns_per_element", r.libm_ns_per_element}});
  }
  if (wants(o.parts, "step")) {
    std::vector<StepRow> rows;
    for (int mb : o.microbatches == 1 ? std::vector<int>{1} : std::vector<int>{1, o.microbatches})
      for (k::GemmImpl impl : {k::GemmImpl::Reference, k::GemmImpl::Blas})
        if (k::gemm_impl_available(impl)) rows.push_back(bench_step(m, mb, impl, o.steps, gemm_rows));
    print_steps(rows);
    for (const StepRow& r : rows)
      j["step"].push_back({{"gemm", r.gemm},
                           {"microbatches", r.microbatches},
                           {"median_ms", r.median_ms},
                           {"gemm_gflops_achieved", r.gemm_gflops_achieved},
                           {"gemm_share", r.gemm_share}});
  }
  if (wants(o.parts, "models")) {
    std::printf(
        "# models: candidate cpu default models at M = %d (blas where built): their GEMMs at B/M rows, and a\n"
        "# step on K = 1 with M = 1 and with M = %d (the micro-batches' cost without a pipeline)\n",
        o.microbatches, o.microbatches);
    std::printf("# %-26s %5s %10s %10s  %10s %10s  %8s\n", "model", "rows", "GEMMs ref", "GEMMs blas", "step M=1",
                "step M", "M / M=1");
    std::printf("# %-26s %5s %10s %10s  %10s %10s  %8s\n", "", "(B/M)", "(GFLOP/s)", "(GFLOP/s)", "(ms)", "(ms)",
                "(x)");
    const k::GemmImpl impl = k::default_gemm_impl();
    for (const ModelSpec& cand : candidate_models()) {
      const int rows = std::max(1, cand.batch / o.microbatches);
      std::vector<GemmRow> g;
      for (const GemmShape& s : block_gemms(cand, rows)) g.push_back(bench_gemm(s, rows, o.reps, have_blas));
      const StepRow one = bench_step(cand, 1, impl, o.steps, g),
                    many = bench_step(cand, o.microbatches, impl, o.steps, g);
      std::printf("  %-26s %5d %10.1f %10.1f  %10.1f %10.1f  %8.2f\n", model_label(cand).c_str(), rows,
                  block_rate(g, rows, false), block_rate(g, rows, true), one.median_ms, many.median_ms,
                  many.median_ms / one.median_ms);
      j["models"].push_back({{"model", model_label(cand)},
                             {"rows", rows},
                             {"reference_gflops", block_rate(g, rows, false)},
                             {"blas_gflops", block_rate(g, rows, true)},
                             {"step_ms_m1", one.median_ms},
                             {"step_ms_m", many.median_ms}});
    }
  }
  if (wants(o.parts, "torch")) {
    const k::GemmImpl impl = k::default_gemm_impl();
    const StepRow ours = bench_step(m, 1, impl, o.steps, gemm_rows);
    const Json t = bench_torch(o, o.steps);
    const double torch_ms = t.at("step_ms").at("median").get<double>();
    std::printf("# torch: the same model and step in PyTorch %s on one thread (bench/torch_baseline.py --device cpu)\n",
                t.at("torch").get<std::string>().c_str());
    std::printf("# %-10s %-9s  %10s  %10s  %12s\n", "who", "gemm", "step", "first loss", "pipelab /");
    std::printf("# %-10s %-9s  %10s  %10s  %12s\n", "", "", "(ms)", "", "torch (x)");
    std::printf("  %-10s %-9s  %10.1f  %10.6f  %12.2f\n", "pipelab", ours.gemm.c_str(), ours.median_ms, ours.loss,
                ours.median_ms / torch_ms);
    std::printf("  %-10s %-9s  %10.1f  %10.6f  %12s\n", "torch", "-", torch_ms, t.at("first_step_loss").get<double>(),
                "1.00");
    j["torch"] = {{"pipelab_ms", ours.median_ms},
                  {"pipelab_first_step_loss", ours.loss},
                  {"torch_ms", torch_ms},
                  {"torch", t.at("torch")},
                  {"torch_first_step_loss", t.at("first_step_loss")}};
  }
  // 3. footer.
  std::printf(
      "# load average %.2f at the end; %s\n", load_average(),
      ok ? "OK (blas and reference agree on every GEMM)" : "FAILED (a GEMM's blas result differs from the reference)");
  j["ok"] = ok;
  if (o.json) std::printf("%s\n", j.dump(2).c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"pipelab-cpu-bench: the cpu backend's GEMMs, element-wise kernels and step time on this machine"};
  app.add_option("--layers", o.model.layers, "L")->capture_default_str();
  app.add_option("--width", o.model.width, "d")->capture_default_str();
  app.add_option("--hidden", o.model.hidden, "h")->capture_default_str();
  app.add_option("--batch", o.model.batch, "B")->capture_default_str();
  app.add_option("-M,--microbatches", o.microbatches, "micro-batches (GEMMs at B/M rows)")->capture_default_str();
  app.add_option("--reps", o.reps, "timed samples per number (median)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--steps", o.steps, "timed steps per step row (median)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--parts", o.parts, "any of gemm,elementwise,step,models,torch")->capture_default_str();
  app.add_option("--python", o.python, "interpreter with torch, for --parts torch")->capture_default_str();
  app.add_option("--torch-script", o.torch_script, "bench/torch_baseline.py")->capture_default_str();
  app.add_flag("--json", o.json, "also print the tables as one JSON object");
  CLI11_PARSE(app, argc, argv);
  try {
    if (o.microbatches < 1 || o.microbatches > o.model.batch)
      PIPELAB_USAGE_ERROR("--microbatches", "must be between 1 and --batch", "e.g. -M 8");
    return run(o);
  } catch (const pipelab::UsageError& e) {
    std::fprintf(stderr, "pipelab-cpu-bench: %s\n  hint: %s\n", e.what(), e.hint().c_str());
    return 2;
  } catch (const pipelab::Error& e) {
    std::fprintf(stderr, "pipelab-cpu-bench: %s\n  hint: %s\n  at %s\n", e.what(), e.hint().c_str(), e.where().c_str());
    return 1;
  }
}
