// zero_bubble.cpp — ZB-H2 (Qi et al., ICLR 2024), and both zero-bubble rows' stash bound and
// theory. ZB-H1's generator is exercise ex10 (exercise.h; solutions/ex10_zero_bubble.cpp).
#include "pipelab/schedule/zero_bubble.h"

#include <algorithm>
#include <string>

#include "pipelab/error.h"

namespace pipelab {

namespace {

// How far behind its forwards a stage runs its I's and W's (zero_bubble.h): ZB-H1 delays
// stage s's I's by the K - 1 - s extra warm-up forwards of 1F1B and every W by K - 1, so the
// first stage runs F, I, W back to back (1F1B's order with B split) and the last stage
// keeps K micro-batches in flight like the first. ZB-H2 doubles both delays: the extra
// forwards fill the warm-up bubble, the extra delayed W's the drain.
struct Delays {
  int input;   // d_i(s): I(x - d_i) runs after F(x)
  int weight;  // d_w: W(x - d_w) runs after that I
};

Delays delays(int factor, int devices, int stage) {
  return {factor * (devices - 1 - stage), factor * (devices - 1)};
}

// The triples F(x) I(x - d_i) W(x - d_w) of every stage, then OptimizerStep. With factor 1
// this is ZB-H1's order, which zb_h2_schedule falls back to for M < 2K - 2: ZB-H2 keeps its
// own copy of the loop so that it never calls the student's zb_h1_schedule (ex10).
Schedule zero_bubble_schedule(ScheduleKind kind, const char* generator, int factor, int devices,
                              int microbatches) {
  Schedule s = start_schedule(kind, generator, devices, microbatches);
  for (int stage = 0; stage < devices; ++stage) {
    std::vector<Action>& program = s.per_stage[stage];
    const Delays d = delays(factor, devices, stage);
    // x runs until the last W (index M - 1 = x - d_w); indices outside [0, M) are the
    // warm-up (no I or W yet) and the cool-down (no F left) of the triple.
    for (int x = 0; x < microbatches + d.weight; ++x) {
      if (x < microbatches) append_forward(program, stage, x, devices);
      const int i = x - d.input;
      if (i >= 0 && i < microbatches) append_backward_input(program, stage, i, devices);
      const int w = x - d.weight;
      if (w >= 0 && w < microbatches) append_weight_backward(program, stage, w);
    }
    program.push_back({ActionKind::OptimizerStep, stage, -1});
  }
  return s;
}

// ZB-H2 doubles ZB-H1's delays (factor 2), but with M < 2K - 2 micro-batches its longer
// warm-up cannot fill: the truncated triples then idle K - 1 + ceil((2K - 2 - M)/2) at
// F:I:W = 1:1:1, ZB-H1's order only K - 1 + max(0, K - M) (unit-time simulation), so
// ZB-H2 runs ZB-H1's order there (factor 1).
int zb_h2_factor(int devices, int microbatches) { return microbatches < 2 * devices - 2 ? 1 : 2; }

void check_k_m(const char* who, int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW(std::string(who) + " needs devices >= 1 and microbatches >= 1, got devices=" +
                      std::to_string(devices) + ", microbatches=" + std::to_string(microbatches),
                  "pass the K and M of the run");
}

// Theory from the idle time per device, in units of t_f = t_i = t_w = 1: every device is
// busy 3M (F + I + W per micro-batch), so u = 3M / (3M + idle).
Theory theory_from_idle(double microbatches, int devices, double idle, int peak, const char* name,
                        const char* formula) {
  const double busy = 3.0 * microbatches;
  Theory theory;
  theory.utilization = busy / (busy + idle);
  theory.bubble_fraction = idle / (busy + idle);
  // T_naive = K·M·(t_f + t_i + t_w) = K·busy (one stage at a time, the cost model linear in
  // rows) over T = busy + idle: the ideal speedup is K·u.
  theory.ideal_speedup = devices * theory.utilization;
  theory.peak_stash_microbatches = peak;
  theory.schedule = name;
  theory.formula = formula;
  return theory;
}

// Idle per device of ZB-H1 (and ZB-H2) at t_f = t_i = t_w = 1, any K and M: T - 3M with
// T = max(3M + K - 1, 2M + 2K - 1). The last stage starts after K - 1 forwards and is then
// busy 3M; with M < K the first stage instead waits 2K - 1 for its first gradient (K
// forwards and K - 1 I's down and back) and then runs its 2M I's and W's back to back.
double unit_cost_idle(int devices, int microbatches) {
  const double k = devices, m = microbatches;
  return std::max(3 * m + k - 1, 2 * m + 2 * k - 1) - 3 * m;
}

}  // namespace

Schedule zb_h2_schedule(int devices, int microbatches) {
  return zero_bubble_schedule(ScheduleKind::ZbH2, "zb_h2_schedule", zb_h2_factor(devices, microbatches), devices,
                              microbatches);
}

Schedule with_recompute_before_input(const Schedule& schedule) {
  Schedule out = schedule;
  out.remat = true;
  for (auto& program : out.per_stage) {
    std::vector<Action> rewritten;
    rewritten.reserve(program.size() * 2);
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      // R goes before the backward's RecvGrad (so it runs while the gradient is on its way),
      // or right before the backward when no RecvGrad precedes it (the last stage).
      // (Same micro-batch and chunk: a device with several chunks recomputes each its own.)
      const bool recv_then_backward = a.kind == ActionKind::RecvGrad && i + 1 < program.size() &&
                                      is_input_backward(program[i + 1].kind) &&
                                      program[i + 1].microbatch == a.microbatch && program[i + 1].chunk == a.chunk;
      const bool bare_backward = is_input_backward(a.kind) &&
                                 !(i > 0 && program[i - 1].kind == ActionKind::RecvGrad &&
                                   program[i - 1].microbatch == a.microbatch && program[i - 1].chunk == a.chunk);
      if (recv_then_backward || bare_backward)
        rewritten.push_back({ActionKind::Recompute, a.stage, a.microbatch, a.chunk});
      rewritten.push_back(a);
    }
    program = std::move(rewritten);
  }
  return out;
}

int zero_bubble_peak_in_flight(ScheduleKind kind, int devices, int microbatches) {
  check_k_m("zero_bubble_peak_in_flight", devices, microbatches);
  if (kind != ScheduleKind::ZbH1 && kind != ScheduleKind::ZbH2)
    PIPELAB_THROW(std::string("zero_bubble_peak_in_flight of '") + to_string(kind) + "'",
                  "pass ScheduleKind::ZbH1 or ScheduleKind::ZbH2");
  // After F(x), W's up to x - d_w - 1 are done: x + 1 - (x - d_w) = d_w + 1 micro-batches are
  // in flight on every stage once the warm-up is over, and never more than M.
  const int factor = kind == ScheduleKind::ZbH1 ? 1 : zb_h2_factor(devices, microbatches);
  return std::min(factor * (devices - 1) + 1, microbatches);
}

double zb_h1_bubble(int devices, const CostRatio& cost) {
  check_k_m("zb_h1_bubble", devices, 1);
  const double f = cost.forward, i = cost.backward_input, w = cost.backward_weight;
  // Per step of the K - 1 deep ramp, the longest of: the paper's F + I - W (one W hides in
  // each slot of the drain), one F (the floor: the last stage waits K - 1 forwards for its
  // first input), one I. A closed form checked against the event simulation for M >= K
  // (tests/unit/test_zero_bubble.cpp), not derived step by step.
  return (devices - 1) * std::max({f + i - w, f, i});
}

Theory zb_h1_theory(int devices, int microbatches) {
  check_k_m("zb_h1_theory", devices, microbatches);
  return theory_from_idle(microbatches, devices, unit_cost_idle(devices, microbatches),
                          zero_bubble_peak_in_flight(ScheduleKind::ZbH1, devices, microbatches), "ZB-H1",
                          "3M/max(3M+K-1, 2M+2K-1)");
}

Theory zb_h2_theory(int devices, int microbatches) {
  check_k_m("zb_h2_theory", devices, microbatches);
  // With M >= 2K - 2 ZB-H2 idles K - 1 at equal costs, as ZB-H1 does with M >= K; below
  // that it is ZB-H1's order (zb_h2_factor). One step of it can beat ZB-H1 only where ZB-H1's
  // bubble is above the (K - 1)·t_f floor, i.e. t_i > t_w or t_i > t_f (zb_h1_bubble); the
  // paper's zero is the steady state of many steps (zero_bubble.h).
  return theory_from_idle(microbatches, devices, unit_cost_idle(devices, microbatches),
                          zero_bubble_peak_in_flight(ScheduleKind::ZbH2, devices, microbatches), "ZB-H2",
                          "3M/max(3M+K-1, 2M+2K-1)");
}

}  // namespace pipelab
