// schedule.cpp — Action names and the helpers every schedule generator shares.
#include "pipelab/schedule/schedule.h"

#include <sstream>

#include "pipelab/error.h"

namespace pipelab {

namespace {
struct KindNames {
  ActionKind kind;
  const char* full;
  const char* label;
};
constexpr KindNames kNames[kActionKindCount] = {
    {ActionKind::Forward, "Forward", "F"},
    {ActionKind::Backward, "Backward", "B"},
    {ActionKind::Recompute, "Recompute", "R"},
    {ActionKind::SendActivation, "SendActivation", "SendAct"},
    {ActionKind::RecvActivation, "RecvActivation", "RecvAct"},
    {ActionKind::SendGrad, "SendGrad", "SendGrad"},
    {ActionKind::RecvGrad, "RecvGrad", "RecvGrad"},
    {ActionKind::OptimizerStep, "OptimizerStep", "Opt"},
};
}  // namespace

const char* to_string(ActionKind kind) { return kNames[static_cast<int>(kind)].full; }
const char* short_label(ActionKind kind) { return kNames[static_cast<int>(kind)].label; }

ActionKind action_kind_from_string(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.full) return n.kind;
  PIPELAB_THROW("unknown action kind '" + name + "'",
                "expected one of Forward, Backward, Recompute, SendActivation, RecvActivation, "
                "SendGrad, RecvGrad, OptimizerStep");
}

std::string to_string(const Action& a) {
  std::ostringstream out;
  if (a.kind == ActionKind::OptimizerStep) {
    out << "Opt s" << a.stage;
  } else {
    out << short_label(a.kind) << a.microbatch << " s" << a.stage;
  }
  return out.str();
}

bool is_compute(ActionKind k) {
  return k == ActionKind::Forward || k == ActionKind::Backward || k == ActionKind::Recompute;
}

bool is_communication(ActionKind k) {
  return k == ActionKind::SendActivation || k == ActionKind::RecvActivation ||
         k == ActionKind::SendGrad || k == ActionKind::RecvGrad;
}

std::size_t Schedule::size() const {
  std::size_t n = 0;
  for (const auto& p : per_stage) n += p.size();
  return n;
}

void append_forward(std::vector<Action>& program, int stage, int mb, int stages) {
  if (stage > 0) program.push_back({ActionKind::RecvActivation, stage, mb});
  program.push_back({ActionKind::Forward, stage, mb});
  if (stage < stages - 1) program.push_back({ActionKind::SendActivation, stage, mb});
}

void append_backward(std::vector<Action>& program, int stage, int mb, int stages) {
  if (stage < stages - 1) program.push_back({ActionKind::RecvGrad, stage, mb});
  program.push_back({ActionKind::Backward, stage, mb});
  if (stage > 0) program.push_back({ActionKind::SendGrad, stage, mb});
}

std::string describe(const Schedule& schedule) {
  std::ostringstream out;
  out << schedule.name() << ": " << schedule.stages << " stages, " << schedule.microbatches
      << " micro-batches\n";
  for (std::size_t s = 0; s < schedule.per_stage.size(); ++s) {
    out << "  stage " << s << ":";
    for (const Action& a : schedule.per_stage[s]) {
      out << ' ';
      if (a.kind == ActionKind::OptimizerStep) {
        out << "Opt";
      } else {
        out << short_label(a.kind) << a.microbatch;
      }
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace pipelab
