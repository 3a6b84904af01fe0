// pipelab/schedule/zero_bubble.h — the zero-bubble paper's handcrafted schedules.
//
// Qi, Wan, Huang, Lin, "Zero Bubble Pipeline Parallelism", ICLR 2024 (arXiv 2401.10241),
// section 2: ZB-H1 and ZB-H2, one stage per device (no virtual chunks). Both split each
// backward into I (BackwardInput: the gradient of the stage's input, which the previous
// stage waits for; the paper calls it "B") and W (BackwardWeight: the gradient of the
// stage's weights, which nobody waits for), and move W's into what would be bubbles.
//
// Stage s of K runs, for x = 0, 1, ..., M - 1 + d_w, the triple
//     F(x)   I(x - d_i(s))   W(x - d_w)          (an index outside [0, M) is skipped)
// then one OptimizerStep, where
//     ZB-H1: d_i(s) = K - 1 - s,      d_w = K - 1
//     ZB-H2: d_i(s) = 2(K - 1 - s),   d_w = 2(K - 1).
// So stage s runs d_i(s) + 1 forwards before its first I (ZB-H1: 1F1B's K - s warm-up;
// ZB-H2: 2(K - 1 - s) + 1, 2K - 1 on the first stage), then F, I, W in turn, and ends with
// the W's it delayed. Every stage holds at most d_w + 1 micro-batches from F to W:
// min(K, M) for ZB-H1 (1F1B's first-stage peak, on every stage), min(2K - 1, M) for ZB-H2.
//
// Small cases, all valid:
//   K = 1: F0 I0 W0 F1 I1 W1 ... (no pipeline, nothing to overlap);
//   M = 1: F0 I0 W0 on every stage, i.e. naive model parallelism with B split in two;
//   ZB-H1 with M < K: the same triples run out of micro-batches, the steady state never
//     starts (every F is a warm-up forward);
//   ZB-H2 with M < 2K - 2: its longer warm-up cannot fill, and the truncated triples would
//     idle longer than ZB-H1 (K - 1 + ceil((2K - 2 - M)/2) against K - 1 + max(0, K - M) at
//     equal costs), so zb_h2_schedule returns ZB-H1's order there (kind still ZbH2).
//
// Bubble per device (idle time of one step, free links, balanced stages), as the event
// simulation of tests/unit/test_zero_bubble.cpp measures it:
//   ZB-H1, M >= K, any costs: (K - 1)·max(t_f + t_i - t_w, t_f, t_i); the paper's
//     (p - 1)(T_F + T_B - T_W) exactly when t_w <= min(t_f, t_i);
//   ZB-H1 and ZB-H2, t_f = t_i = t_w, any M: (K - 1 + max(0, K - M))·t_f.
// The paper's ZB-H2 bubble (p - 1)(T_F + T_B - 2T_W) is 0 at equal costs; one step can
// never be shorter than the last stage's wait for its first forward, (K - 1)·t_f, so a
// step measured alone keeps that much: the paper's zero is the steady state of many steps,
// where the next step's forwards fill it (it drops the optimizer's synchronization).
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

// ZB-H1's generator, zb_h1_schedule(K, M), is exercise ex10 (lab 08): it is declared, with
// its contract, in pipelab/exercise.h and defined in the track's ex10_zero_bubble.cpp
// (exercises/ or solutions/), like 1F1B's one_f_one_b_schedule (ex09).

/// ZB-H2 for K stages and M micro-batches (see the file comment): kind ScheduleKind::ZbH2
/// ("zb-h2"), built like zb_h1_schedule with twice the delays. Throws pipelab::Error
/// unless K >= 1 and M >= 1.
Schedule zb_h2_schedule(int devices, int microbatches);

/// Re-materialization for a schedule that splits B: Recompute(s, m) in front of each
/// I(s, m), before the RecvGrad(s, m) that directly precedes it when there is one (so it
/// overlaps the wait for the gradient), as ex07's with_recompute does for B; a B gets its R
/// the same way. Every other action keeps its order; `remat` is set. generate_schedule
/// uses it for zb-h1 and zb-h2 (with_recompute is the students' and knows only B). At
/// F:I:W:R = 1:1:1:1 it leaves the idle time unchanged (tests/unit/test_zero_bubble.cpp).
Schedule with_recompute_before_input(const Schedule& schedule);

/// Peak number of micro-batches every stage of `kind` (ZbH1 or ZbH2) holds from F to W:
/// min(K, M) for ZB-H1, min(2K - 1, M) for ZB-H2 (min(K, M) when M < 2K - 2: ZB-H1's
/// order). Throws pipelab::Error for another kind.
int zero_bubble_peak_in_flight(ScheduleKind kind, int devices, int microbatches);

/// Idle time per device of one ZB-H1 step with M >= K micro-batches at costs `cost`
/// (t_f, t_i, t_w: forward, backward_input, backward_weight): (K - 1)·max(t_f + t_i - t_w,
/// t_f, t_i). Throws pipelab::Error unless K >= 1.
double zb_h1_bubble(int devices, const CostRatio& cost);

/// Theory of ZB-H1 at the nominal F:I:W = 1:1:1 (every K >= 1, M >= 1, exact):
/// utilization 3M / max(3M + K - 1, 2M + 2K - 1). Throws pipelab::Error unless K, M >= 1.
Theory zb_h1_theory(int devices, int microbatches);

/// Theory of ZB-H2 at the nominal F:I:W = 1:1:1 (every K >= 1, M >= 1, exact): the same
/// utilization as ZB-H1, 3M / max(3M + K - 1, 2M + 2K - 1). Throws pipelab::Error unless
/// K, M >= 1.
Theory zb_h2_theory(int devices, int microbatches);

}  // namespace pipelab
