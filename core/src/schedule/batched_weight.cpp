// batched_weight.cpp — --w-batch: one whole-batch W per (device, chunk) (batched_weight.h).
#include "pipelab/schedule/batched_weight.h"

#include <algorithm>
#include <string>
#include <vector>

#include "pipelab/error.h"

namespace pipelab {

namespace {

// Where a chunk's weight gradient ends in a program: the index of its last W, or of its
// last B when the backward is not split (-1: the chunk runs none).
std::vector<long> last_weight_actions(const std::vector<Action>& program, int chunks) {
  std::vector<long> last(static_cast<std::size_t>(chunks), -1);
  for (std::size_t i = 0; i < program.size(); ++i)
    if (program[i].kind == ActionKind::BackwardWeight || program[i].kind == ActionKind::Backward)
      last[program[i].chunk] = static_cast<long>(i);
  return last;
}

}  // namespace

Schedule with_batched_weight(const Schedule& schedule) {
  if (schedule.replicas > 1)
    PIPELAB_THROW("with_batched_weight of a data-parallel schedule",
                  "each replica runs one micro-batch (its share), so it has no W's to batch: drop --w-batch");
  if (schedule.w_batch)
    PIPELAB_THROW("with_batched_weight of a schedule that already has whole-batch W's (" + schedule.name() + ")",
                  "apply --w-batch once");
  Schedule out = schedule;
  out.w_batch = true;
  for (auto& program : out.per_stage) {
    const std::vector<long> last = last_weight_actions(program, schedule.chunks);
    std::vector<Action> rewritten;
    rewritten.reserve(program.size());
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      if (a.kind == ActionKind::Backward) {
        rewritten.push_back({ActionKind::BackwardInput, a.stage, a.microbatch, a.chunk});  // B's input half
      } else if (a.kind != ActionKind::BackwardWeight) {
        rewritten.push_back(a);
      }
      if (static_cast<long>(i) != last[a.chunk] || !is_compute(a.kind)) continue;
      // The chunk's last W (or B): its whole-batch W goes here; after a B, behind the
      // SendGrad of the I it became, so the gradient leaves before the long W.
      const bool send_follows = i + 1 < program.size() && program[i + 1].kind == ActionKind::SendGrad &&
                                program[i + 1].microbatch == a.microbatch && program[i + 1].chunk == a.chunk;
      if (send_follows) rewritten.push_back(program[++i]);
      rewritten.push_back({ActionKind::BackwardWeight, a.stage, -1, a.chunk});
    }
    program = std::move(rewritten);
  }
  return out;
}

Theory with_batched_weight_theory(ScheduleKind kind, const Theory& theory, int devices, int microbatches, int chunks,
                                  bool remat) {
  Theory out = theory;
  // Every (chunk, micro-batch) pair stays from its F to its chunk's batched W, which comes
  // after the chunk's last I, hence after its last F; the device's last chunk's last F
  // comes after every other chunk's (the data flows through them first), and before any
  // of their I's ends: all v·M pairs at once.
  out.peak_stash_microbatches = static_cast<double>(chunks) * microbatches;
  const bool derived = !remat && (kind == ScheduleKind::Naive || kind == ScheduleKind::Gpipe ||
                                  kind == ScheduleKind::OneFOneB || kind == ScheduleKind::ZbH1);
  if (!derived) {
    out.options = (out.options.empty() ? "" : out.options + ", ") +
                  "w-batch: bubble not given (the schedule's own theory shown)";
    return out;
  }
  // In units t_f = t_i = t_w = 1. Without their W's, naive and gpipe run fill-drain's F and
  // I order and 1f1b and zb-h1 1F1B's (zb-h1's I delay K-1-s is 1F1B's warm-up), with B = I:
  // the first device's last I ends at 2(M + K - 1) in both, the others' s units earlier,
  // and each device then runs its batched W, M units: T = 3M + 2(K - 1), busy 3M per device.
  const double m = microbatches, k = devices;
  const double busy = 3.0 * m, idle = 2.0 * (k - 1.0);
  out.utilization = busy / (busy + idle);
  out.bubble_fraction = idle / (busy + idle);
  // T_naive = K·M·(t_f + t_i + t_w) = K·busy, as without --w-batch: K times the utilization.
  out.ideal_speedup = k * out.utilization;
  out.options = "w-batch, F:I:W = 1:1:1";
  out.formula = kind == ScheduleKind::Naive ? "3/(3+2(K-1))" : "3M/(3M+2(K-1))";
  return out;
}

}  // namespace pipelab
