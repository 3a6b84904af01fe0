// ex07_remat.cpp — ex07 reference: re-materialization (where Recompute goes, and what a
// stage keeps between forward and backward).
//
// Without remat a stage keeps, per micro-batch, every block's activations from F to
// B: GPipe holds all M micro-batches at the end of the fill. With remat F keeps only
// the stage's input; Recompute rebuilds the activations just before B, so at most one
// micro-batch's full activations are alive — at the cost of one more forward per B.
#include <map>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Schedule with_recompute(const Schedule& schedule) {
  Schedule out = schedule;
  out.remat = true;
  for (auto& program : out.per_stage) {
    std::vector<Action> rewritten;
    rewritten.reserve(program.size() * 2);
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      // A RecvGrad immediately followed by its B: recompute goes before the recv.
      const bool recv_then_b = a.kind == ActionKind::RecvGrad && i + 1 < program.size() &&
                               program[i + 1].kind == ActionKind::Backward &&
                               program[i + 1].microbatch == a.microbatch;
      const bool bare_b = a.kind == ActionKind::Backward &&
                          !(i > 0 && program[i - 1].kind == ActionKind::RecvGrad &&
                            program[i - 1].microbatch == a.microbatch);
      if (recv_then_b || bare_b) rewritten.push_back({ActionKind::Recompute, a.stage, a.microbatch});
      rewritten.push_back(a);
    }
    program = std::move(rewritten);
  }
  return out;
}

StashPeak stash_peak(const Schedule& schedule, int stage) {
  if (stage < 0 || stage >= schedule.stages || stage >= static_cast<int>(schedule.per_stage.size()))
    PIPELAB_THROW("stash_peak of stage " + std::to_string(stage) + " of a " + std::to_string(schedule.stages) +
                      "-stage schedule",
                  "use 0 <= stage < schedule.stages");
  const std::vector<Action>& program = schedule.per_stage[stage];
  // Micro-batches that are recomputed keep only their input after F.
  std::map<int, bool> recomputed;
  for (const Action& a : program)
    if (a.kind == ActionKind::Recompute) recomputed[a.microbatch] = true;

  StashPeak peak;
  int inputs = 0, activations = 0;
  for (const Action& a : program) {
    const bool remat = recomputed.count(a.microbatch) > 0;
    switch (a.kind) {
      case ActionKind::Forward:
        ++inputs;
        if (!remat) ++activations;
        break;
      case ActionKind::Recompute:
        ++activations;
        break;
      case ActionKind::Backward:
        // B consumes what F (or R) kept and frees it.
        --inputs;
        --activations;
        break;
      default:
        break;
    }
    peak.inputs = std::max(peak.inputs, inputs);
    peak.activations = std::max(peak.activations, activations);
  }
  return peak;
}

}  // namespace pipelab
