// validate_replicas.cpp — the data-parallel schedule's rules (validate_replicas.h).
#include "validate_replicas.h"

#include <string>

#include "pipelab/error.h"

namespace pipelab::detail {

namespace {

// Where each kind sits in one device's program (0-based), -1 if absent.
struct Positions {
  int of[kActionKindCount];
  Positions() {
    for (int& p : of) p = -1;
  }
  int& at(ActionKind kind) { return of[static_cast<int>(kind)]; }
};

std::string where(int device, int index) {
  return "device " + std::to_string(device) + " action #" + std::to_string(index) + " (0-based)";
}

// Throws unless `later` (present) comes after `earlier` (present) in device d's program.
void require_before(Positions& pos, int d, ActionKind earlier, int earlier_mb, ActionKind later, int later_mb,
                    const char* why) {
  if (pos.at(later) < pos.at(earlier))
    PIPELAB_THROW(to_string(Action{later, d, later_mb}) + " comes before " + to_string(Action{earlier, d, earlier_mb}) +
                      " on device " + std::to_string(d) + " (actions #" + std::to_string(pos.at(later)) + " < #" +
                      std::to_string(pos.at(earlier)) + ", 0-based): " + why,
                  "a data-parallel device runs F B AllReduceGrads Opt (data_parallel_schedule)");
}

}  // namespace

void validate_replicas(const Schedule& sc) {
  if (sc.microbatches != sc.replicas)
    PIPELAB_THROW("data-parallel schedule with " + std::to_string(sc.replicas) + " replicas has " +
                      std::to_string(sc.microbatches) + " micro-batches",
                  "data parallelism splits the batch into one share per replica: microbatches = replicas");
  for (int d = 0; d < sc.stages; ++d) {
    const std::vector<Action>& program = sc.per_stage[d];
    Positions pos;
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      const int here = static_cast<int>(i);
      if (a.kind == ActionKind::SendActivation || a.kind == ActionKind::RecvActivation ||
          a.kind == ActionKind::SendGrad || a.kind == ActionKind::RecvGrad)
        PIPELAB_THROW(to_string(a) + " in a data-parallel schedule (" + where(d, here) +
                          "): every device holds the whole model, there is no neighbour stage",
                      "a data-parallel device sends nothing but its part of AllReduceGrads");
      const bool per_device = a.kind == ActionKind::OptimizerStep || is_collective(a.kind);
      if (!per_device && a.microbatch != d)
        PIPELAB_THROW(to_string(a) + " on device " + std::to_string(d) + " (" + where(d, here) + "): device " +
                          std::to_string(d) + " runs share " + std::to_string(d) + " of the batch only",
                      "in data parallelism micro-batch d is device d's share (data_parallel_schedule)");
      int& slot = pos.at(a.kind);
      if (slot >= 0)
        PIPELAB_THROW("duplicate " + to_string(a) + " (" + where(d, slot) + " and #" + std::to_string(i) + ")",
                      "each device runs F, B (or I and W), AllReduceGrads and Opt once");
      slot = here;
    }
    const int m = d;
    const bool b = pos.at(ActionKind::Backward) >= 0;
    const bool split = pos.at(ActionKind::BackwardInput) >= 0 || pos.at(ActionKind::BackwardWeight) >= 0;
    const char* hint = "a data-parallel device runs F B AllReduceGrads Opt (data_parallel_schedule)";
    if (pos.at(ActionKind::Forward) < 0) PIPELAB_THROW("missing " + to_string(Action{ActionKind::Forward, d, m}), hint);
    if (b && split)
      PIPELAB_THROW("device " + std::to_string(d) + " runs both B and I/W of its share: its backward would be "
                    "computed twice", "keep one form: one B, or I then W");
    if (!b && !split) PIPELAB_THROW("missing " + to_string(Action{ActionKind::Backward, d, m}), hint);
    if (split && (pos.at(ActionKind::BackwardInput) < 0 || pos.at(ActionKind::BackwardWeight) < 0))
      PIPELAB_THROW("device " + std::to_string(d) + " runs only one half of the split backward (I and W)",
                    "run I then W, or one B");
    if (pos.at(ActionKind::AllReduceGrads) < 0)
      PIPELAB_THROW("missing " + to_string(Action{ActionKind::AllReduceGrads, d, -1}) + ": device " +
                        std::to_string(d) + " would step on its own share's gradients and leave the replicas apart "
                        "(and the others would wait for it forever)", hint);
    if (pos.at(ActionKind::OptimizerStep) < 0)
      PIPELAB_THROW("missing " + to_string(Action{ActionKind::OptimizerStep, d, -1}), hint);
    const ActionKind input_backward = b ? ActionKind::Backward : ActionKind::BackwardInput;
    const ActionKind last_backward = b ? ActionKind::Backward : ActionKind::BackwardWeight;
    require_before(pos, d, ActionKind::Forward, m, input_backward, m, "the backward needs F's activations");
    if (split) require_before(pos, d, ActionKind::BackwardInput, m, ActionKind::BackwardWeight, m,
                              "W needs the gradients I keeps");
    if (pos.at(ActionKind::Recompute) >= 0) {
      require_before(pos, d, ActionKind::Forward, m, ActionKind::Recompute, m, "R re-runs F from its input");
      require_before(pos, d, ActionKind::Recompute, m, input_backward, m, "the backward needs R's activations");
    }
    require_before(pos, d, last_backward, m, ActionKind::AllReduceGrads, -1,
                   "the all-reduce sums the finished gradients");
    require_before(pos, d, ActionKind::AllReduceGrads, -1, ActionKind::OptimizerStep, -1,
                   "the step applies the all-reduced gradients, the same on every replica");
  }
}

}  // namespace pipelab::detail
