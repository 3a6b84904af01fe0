// registry.cpp — the schedule table: one row per schedule, and the theory formulas.
#include "pipelab/schedule/registry.h"

#include <algorithm>
#include <cstdio>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/batched_weight.h"
#include "pipelab/schedule/data_parallel.h"
#include "pipelab/schedule/dualpipev.h"
#include "pipelab/schedule/interleaved.h"
#include "pipelab/schedule/zbv.h"
#include "pipelab/schedule/zero_bubble.h"

namespace pipelab {

Theory fill_drain_theory(int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW("fill_drain_theory needs devices >= 1 and microbatches >= 1, got devices=" +
                      std::to_string(devices) + ", microbatches=" + std::to_string(microbatches),
                  "pass the K and M of the run (naive model parallelism is M = 1)");
  // Fill-drain with balanced stages and free links: each device works M slots out of
  // the M + K - 1 slots of the forward (and again of the backward) phase; the K - 1
  // extra slots are the fill and the drain. GPipe paper: bubble share of total time.
  const double m = microbatches;
  const double k = devices;
  Theory theory;
  theory.utilization = m / (m + k - 1.0);
  theory.bubble_fraction = (k - 1.0) / (m + k - 1.0);
  // T_naive = K·M·(t_f + t_b) (one stage at a time, the cost model is linear in rows)
  // over T = (M + K - 1)·(t_f + t_b): docs/gpipe.md, "Speedup over naive".
  theory.ideal_speedup = k * m / (m + k - 1.0);
  // Fill-drain runs all M forwards before the first backward: all M are stashed.
  theory.peak_stash_microbatches = m;
  theory.schedule = "GPipe";
  theory.formula = "M/(M+K-1)";
  return theory;
}

Theory with_remat_theory(const Theory& no_remat, const CostRatio& cost) {
  const double work = cost.forward + cost.backward;  // busy per micro-batch without remat
  const double work_remat = work + cost.recompute;  // ... and with it: one more forward
  const double u = no_remat.utilization;
  // Idle per unit of no-remat work: (1 - u)/u (busy u·T, idle (1 - u)·T). Remat keeps
  // the idle time (R runs inside the wait for the gradient) and adds R to the busy time:
  // u_remat = busy_remat / (busy_remat + idle) = (F+B+R) / ((F+B+R) + (F+B)·(1 - u)/u).
  Theory theory = no_remat;
  theory.utilization = u > 0 ? work_remat / (work_remat + work * (1.0 - u) / u) : 0.0;
  theory.bubble_fraction = 1.0 - theory.utilization;
  char options[96];
  std::snprintf(options, sizeof options, "remat, F:B:R = %g:%g:%g", cost.forward, cost.backward, cost.recompute);
  theory.options = options;
  theory.formula = "(F+B+R)/((F+B+R)+(F+B)(1-u)/u), u = " + no_remat.formula;
  return theory;
}

namespace {

// ZB-V's utilization (zbv_theory) and with_remat_theory() of it: R before each I adds
// busy time 2M and no idle at F:I:W:R = 1:1:1:1 (tests/unit/test_zbv.cpp).
constexpr const char* kZbvFormula = "6M/(6M+max(K-1, 4K-2-2M))";
constexpr const char* kZbvRematFormula = "8M/(8M+max(K-1, 4K-2-2M))";
// DualPipeV's (dualpipev_theory), and with remat: R before each B or I, 2M more busy.
constexpr const char* kDualPipeVFormula = "6M/(6M+max(K-1, 5K-3-2M if M<=K else 5K-1-2M))";
constexpr const char* kDualPipeVRematFormula = "8M/(8M+max(K-1, 5K-3-2M if M<=K else 5K-1-2M))";

// Naive model parallelism is fill-drain with one micro-batch: utilization 1/K.
Theory naive_theory(int devices, int /*microbatches*/, int /*chunks*/) { return fill_drain_theory(devices, 1); }

// A row whose schedule and theory do not depend on the chunks: the function of (K, M).
template <Schedule (*f)(int, int)>
Schedule without_chunks(int devices, int microbatches, int /*chunks*/) { return f(devices, microbatches); }
template <Theory (*f)(int, int)>
Theory theory_without_chunks(int devices, int microbatches, int /*chunks*/) { return f(devices, microbatches); }

// 1F1B has fill-drain's bubble, but the first stage starts its first B after K forwards
// (ex09's warm-up), so it stashes min(K, M) micro-batches instead of M.
Theory one_f_one_b_theory(int devices, int microbatches) {
  Theory theory = fill_drain_theory(devices, microbatches);
  theory.peak_stash_microbatches = std::min(devices, microbatches);
  return theory;
}

std::vector<ScheduleInfo> make_registry() {
  return {
      // The remat formulas are with_remat_theory() of the row's: M(F+B+R) busy per device,
      // (K-1)(F+B) idle (M = 1 for naive).
      {ScheduleKind::Naive, "naive", "naive model parallelism", MicrobatchRule::One,
       [](int devices, int, int) { return naive_schedule(devices); }, naive_theory, "1/K",
       "one batch through K stages: one device busy at a time", "naive", "(F+B+R)/((F+B+R)+(K-1)(F+B))"},
      {ScheduleKind::Gpipe, "gpipe", "GPipe (fill-drain)", MicrobatchRule::AsGiven, without_chunks<gpipe_schedule>,
       theory_without_chunks<fill_drain_theory>,
       "M/(M+K-1)", "GPipe (Huang et al. 2019): bubble (K-1)/(M+K-1) of total time", "GPipe",
       "M(F+B+R)/(M(F+B+R)+(K-1)(F+B))"},
      // 1F1B reorders the same fill-drain work: the same bubble, less stash.
      {ScheduleKind::OneFOneB, "1f1b", "1F1B (PipeDream-Flush)", MicrobatchRule::AsGiven, without_chunks<one_f_one_b_schedule>,
       theory_without_chunks<one_f_one_b_theory>, "M/(M+K-1)",
       "PipeDream-Flush (Narayanan et al. 2021): the bubble of fill-drain, at most K micro-batches stashed",
       "1F1B", "M(F+B+R)/(M(F+B+R)+(K-1)(F+B))"},
      // Zero-bubble (schedule/zero_bubble.h, docs/zero-bubble.md): the theory is one step's,
      // at F:I:W = 1:1:1, exact for every K and M; the paper's bubble and where it applies
      // are in the source text. Remat: R before each I; at F:I:W:R = 1:1:1:1 the idle time
      // stays what it is without (tests), with_remat_theory's assumption.
      {ScheduleKind::ZbH1, "zb-h1", "ZB-H1 (zero bubble, 1F1B memory)", MicrobatchRule::AsGiven, without_chunks<zb_h1_schedule>,
       theory_without_chunks<zb_h1_theory>,
       "3M/max(3M+K-1, 2M+2K-1)",
       "Qi et al. 2024 (arXiv 2401.10241) ZB-H1: bubble (K-1)(T_F+T_I-T_W), exact for one step when "
       "M >= K and T_W <= min(T_F, T_I) (else (K-1)max(T_F+T_I-T_W, T_F, T_I)); at F:I:W = 1:1:1 the "
       "formula shown, also for M < K. Peak min(K, M) micro-batches in flight on every stage",
       "ZB-H1", "4M/(4M+max(K-1, 2K-1-M))",
       // B is split into I and W: R goes before each I, which ex07's with_recompute (B only) misses.
       with_recompute_before_input},
      {ScheduleKind::ZbH2, "zb-h2", "ZB-H2 (zero bubble, 2K-1 in flight)", MicrobatchRule::AsGiven, without_chunks<zb_h2_schedule>,
       theory_without_chunks<zb_h2_theory>,
       "3M/max(3M+K-1, 2M+2K-1)",
       "Qi et al. 2024 (arXiv 2401.10241) ZB-H2: bubble (K-1)(T_F+T_I-2T_W), 0 at equal costs in the "
       "steady state of many steps; one step alone keeps the last stage's (K-1)T_F ramp, so not exact "
       "here: at F:I:W = 1:1:1 the formula shown (K-1 idle for M >= 2K-2; ZB-H1's order for M < 2K-2). "
       "Peak min(2K-1, M) in flight (min(K, M) for M < 2K-2)",
       "ZB-H2", "4M/(4M+max(K-1, 2K-1-M))", with_recompute_before_input},
      // Not a pipeline: the baseline (schedule/data_parallel.h, docs/parallelism.md). Remat
      // (R just before B, on the same device) adds busy time and no idle: still 1.
      {ScheduleKind::DataParallel, "data-parallel", "data parallelism (K replicas, gradient all-reduce)",
       MicrobatchRule::PerDevice, [](int devices, int, int) { return data_parallel_schedule(devices); },
       [](int devices, int, int) { return data_parallel_theory(devices); }, "1",
       "every device holds the whole model and runs B/K rows: no device waits; the ring all-reduce "
       "of the gradients (2(K-1)/K of their bytes per device) is free only on free links",
       "data parallelism", "1"},
      // v model chunks per device (schedule/interleaved.h): fill-drain in chunk-sized steps.
      // Remat: R before each B, on its chunk.
      {ScheduleKind::Interleaved1F1B, "interleaved-1f1b", "interleaved 1F1B (v chunks per device)",
       MicrobatchRule::AsGiven, interleaved_1f1b_schedule, interleaved_1f1b_theory, "vM/(vM+K-1)",
       "Narayanan et al. 2021 (Megatron-LM, interleaved schedule): bubble over busy (K-1)/(vM), M a multiple "
       "of K; exact for one step on balanced chunks and free links",
       "interleaved 1F1B", "vM(F+B+R)/(vM(F+B+R)+(K-1)(F+B))", with_recompute_before_input, /*uses_chunks=*/true},
      // Two chunks per device in a V (schedule/zbv.h): B split into I and W, as ZB-H1/H2.
      // Remat: R before each I, on its chunk.
      {ScheduleKind::Zbv, "zbv", "ZB-V (zero bubble, two chunks per device in a V)", MicrobatchRule::AsGiven,
       [](int devices, int microbatches, int) { return zbv_schedule(devices, microbatches); },
       [](int devices, int microbatches, int) { return zbv_theory(devices, microbatches); }, kZbvFormula,
       "Qi et al. 2024 (arXiv 2401.10241) section 6, ZB-V: 2K chunks, chunk d and 2K-1-d on device d; zero "
       "bubble in the steady state at T_F = T_B = T_W; one step alone keeps the ramp of the V (docs/zero-bubble.md). "
       "Exact for one step at F:I:W = 1:1:1 on balanced chunks and free links. Peak min(2K, 2M) (chunk, micro-batch) "
       "pairs in flight on every device: K stages' activations, 1F1B's first-stage peak",
       "ZB-V", kZbvRematFormula, with_recompute_before_input, /*uses_chunks=*/false, /*fixed_chunks=*/2,
       ChunkPlacement::VShape},
      // DeepSeek's DualPipe on the same V (schedule/dualpipev.h), without its overlap of F
      // and B: every action on its own. Remat: R before each B or I, on its chunk.
      {ScheduleKind::DualPipeV, "dualpipev", "DualPipeV (DeepSeek's DualPipe on a V, no F/B overlap)",
       MicrobatchRule::AsGiven,
       [](int devices, int microbatches, int) { return dualpipev_schedule(devices, microbatches); },
       [](int devices, int microbatches, int) { return dualpipev_theory(devices, microbatches); }, kDualPipeVFormula,
       "DeepSeek-V3 (arXiv 2412.19437) section 3.2.1, DualPipe, in its V form (PyTorch's ScheduleDualPipeV); its "
       "bubble (PP/2-1)(F&B+B-3W) assumes one micro-batch's F overlapped with another's B, which pipelab does not "
       "run: action by action, at F:I:W = 1:1:1 on balanced chunks and free links, exact for one step (ZB-V's K-1 "
       "for M >= 2K). Peak min(2K+1, 2M) (chunk, micro-batch) pairs in flight",
       "DualPipeV", kDualPipeVRematFormula, with_recompute_before_input, /*uses_chunks=*/false, /*fixed_chunks=*/2,
       ChunkPlacement::VShape},
  };
}

}  // namespace

const std::vector<ScheduleInfo>& schedule_registry() {
  static const std::vector<ScheduleInfo> registry = make_registry();
  return registry;
}

int scheduled_microbatches(const ScheduleInfo& row, int devices, int microbatches) {
  switch (row.microbatch_rule) {
    case MicrobatchRule::One: return 1;
    case MicrobatchRule::PerDevice: return devices;
    case MicrobatchRule::AsGiven: break;
  }
  return microbatches;
}

int scheduled_chunks(const ScheduleInfo& row, int chunks) {
  if (row.uses_chunks) return chunks;
  return row.fixed_chunks > 0 ? row.fixed_chunks : 1;
}

const ScheduleInfo& schedule_info(ScheduleKind kind) {
  for (const ScheduleInfo& row : schedule_registry())
    if (row.kind == kind) return row;
  PIPELAB_THROW(std::string("schedule kind '") + to_string(kind) + "' has no registry row",
                "only registry schedules (" + schedule_names() + ") can be generated");
}

ScheduleKind schedule_from_string(const std::string& name) {
  for (const ScheduleInfo& row : schedule_registry())
    if (name == row.name) return row.kind;
  PIPELAB_USAGE_ERROR("--schedule", "unknown schedule '" + name + "'", "use one of " + schedule_names());
}

std::string schedule_names(const char* separator) {
  std::string out;
  for (const ScheduleInfo& row : schedule_registry()) {
    if (!out.empty()) out += separator;
    out += row.name;
  }
  return out;
}

const char* to_string(ScheduleKind kind) {
  if (kind == ScheduleKind::Custom) return "custom";
  for (const ScheduleInfo& row : schedule_registry())
    if (row.kind == kind) return row.name;
  return "?";
}

std::string Schedule::name() const {
  return std::string(to_string(kind)) + (remat ? "+remat" : "") + (w_batch ? "+w-batch" : "");
}

Schedule generate_schedule(ScheduleKind kind, int devices, int microbatches, bool remat, int chunks) {
  const ScheduleInfo& row = schedule_info(kind);
  Schedule s = row.generate(devices, scheduled_microbatches(row, devices, microbatches), scheduled_chunks(row, chunks));
  if (remat) s = row.with_remat ? row.with_remat(s) : with_recompute(s);
  return s;
}

Theory schedule_theory(ScheduleKind kind, int devices, int microbatches, bool remat, const CostRatio& cost,
                       int chunks, bool w_batch) {
  // A hand-built schedule has no formula of its own: it is shown against fill-drain's.
  if (kind == ScheduleKind::Custom) {
    const Theory plain = fill_drain_theory(devices, microbatches);
    Theory naive = fill_drain_theory(devices, 1);
    Theory theory = remat ? with_remat_theory(plain, cost) : plain;
    if (remat) naive = with_remat_theory(naive, cost);
    theory.ideal_speedup = theory.utilization / naive.utilization;
    theory.schedule = "custom, against fill-drain";
    return w_batch ? with_batched_weight_theory(kind, theory, devices, microbatches, chunks, remat) : theory;
  }
  const ScheduleInfo& row = schedule_info(kind);
  Theory theory = row.theory(devices, scheduled_microbatches(row, devices, microbatches), scheduled_chunks(row, chunks));
  theory.schedule = row.theory_name ? row.theory_name : row.name;
  theory.formula = row.theory_formula;
  // Naive with the same options: the baseline of the ideal speedup.
  Theory naive = naive_theory(devices, 1, 1);
  if (remat) {
    theory = with_remat_theory(theory, cost);
    naive = with_remat_theory(naive, cost);
    if (row.remat_formula) theory.formula = row.remat_formula;
  }
  // Naive and this schedule do the same busy work per device (the cost model is linear
  // in rows), so T_naive / T = (busy / u_naive) / (busy / u) = u / u_naive.
  theory.ideal_speedup = theory.utilization / naive.utilization;
  if (!w_batch) return theory;
  const int scheduled = scheduled_microbatches(row, devices, microbatches);
  return with_batched_weight_theory(kind, theory, devices, scheduled, scheduled_chunks(row, chunks), remat);
}

Theory schedule_theory(const Schedule& schedule) {
  return schedule_theory(schedule.kind, schedule.stages, schedule.microbatches, schedule.remat, CostRatio{},
                         schedule.chunks, schedule.w_batch);
}

}  // namespace pipelab
