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
    {ActionKind::BackwardInput, "BackwardInput", "I"},
    {ActionKind::BackwardWeight, "BackwardWeight", "W"},
    {ActionKind::AllReduceGrads, "AllReduceGrads", "AllReduce"},
};
}  // namespace

const char* to_string(ActionKind kind) { return kNames[static_cast<int>(kind)].full; }
const char* short_label(ActionKind kind) { return kNames[static_cast<int>(kind)].label; }

ActionKind action_kind_from_string(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.full) return n.kind;
  PIPELAB_THROW("unknown action kind '" + name + "'",
                "expected one of Forward, Backward, Recompute, SendActivation, RecvActivation, "
                "SendGrad, RecvGrad, OptimizerStep, BackwardInput, BackwardWeight, AllReduceGrads");
}

std::string to_string(const Action& a) {
  std::ostringstream out;
  if (a.kind == ActionKind::OptimizerStep || a.kind == ActionKind::AllReduceGrads) {
    out << short_label(a.kind) << " s" << a.stage;
  } else if (is_batched_weight(a)) {
    // The whole-batch W of --w-batch: no micro-batch number, one per (device, chunk).
    out << short_label(a.kind) << " s" << a.stage;
    if (a.chunk > 0) out << " c" << static_cast<int>(a.chunk);
  } else {
    out << short_label(a.kind) << a.microbatch << " s" << a.stage;
    if (a.chunk > 0) out << " c" << static_cast<int>(a.chunk);  // a device's model chunk
  }
  return out.str();
}

bool is_compute(ActionKind k) {
  return k == ActionKind::Forward || k == ActionKind::Backward || k == ActionKind::Recompute ||
         k == ActionKind::BackwardInput || k == ActionKind::BackwardWeight;
}

bool is_collective(ActionKind k) { return k == ActionKind::AllReduceGrads; }

bool is_input_backward(ActionKind k) { return k == ActionKind::Backward || k == ActionKind::BackwardInput; }

Schedule start_schedule(ScheduleKind kind, const char* generator, int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW(std::string(generator) + ": needs devices >= 1 and microbatches >= 1, got devices=" +
                      std::to_string(devices) + ", microbatches=" + std::to_string(microbatches),
                  "pass K >= 1 devices and M >= 1 micro-batches");
  Schedule s;
  s.kind = kind;
  s.stages = devices;
  s.microbatches = microbatches;
  s.per_stage.resize(devices);
  return s;
}

Action matching_recv(const Action& send) {
  if (send.kind == ActionKind::SendActivation) return {ActionKind::RecvActivation, send.stage + 1, send.microbatch};
  return {ActionKind::RecvGrad, send.stage - 1, send.microbatch};
}

Action matching_send(const Action& recv) {
  if (recv.kind == ActionKind::RecvActivation) return {ActionKind::SendActivation, recv.stage - 1, recv.microbatch};
  return {ActionKind::SendGrad, recv.stage + 1, recv.microbatch};
}

Action matching_recv(const Action& send, const ChunkMap& map) {
  const int vs = map.virtual_stage(send.stage, send.chunk);
  const int to = send.kind == ActionKind::SendActivation ? vs + 1 : vs - 1;
  const ActionKind kind = send.kind == ActionKind::SendActivation ? ActionKind::RecvActivation : ActionKind::RecvGrad;
  return {kind, map.device_of(to), send.microbatch, map.chunk_of(to)};
}

Action matching_send(const Action& recv, const ChunkMap& map) {
  const int vs = map.virtual_stage(recv.stage, recv.chunk);
  const int from = recv.kind == ActionKind::RecvActivation ? vs - 1 : vs + 1;
  const ActionKind kind = recv.kind == ActionKind::RecvActivation ? ActionKind::SendActivation : ActionKind::SendGrad;
  return {kind, map.device_of(from), recv.microbatch, map.chunk_of(from)};
}

void append_chunk_forward(std::vector<Action>& program, const ChunkMap& map, int device, int chunk, int mb) {
  const int vs = map.virtual_stage(device, chunk);
  if (vs > 0) program.push_back({ActionKind::RecvActivation, device, mb, chunk});
  program.push_back({ActionKind::Forward, device, mb, chunk});
  if (vs < map.count() - 1) program.push_back({ActionKind::SendActivation, device, mb, chunk});
}

namespace {
// A backward's compute (B or I) on a chunk, between the gradient it receives and the one it sends.
void append_chunk_gradient(std::vector<Action>& program, const ChunkMap& map, ActionKind kind, int device, int chunk,
                           int mb) {
  const int vs = map.virtual_stage(device, chunk);
  if (vs < map.count() - 1) program.push_back({ActionKind::RecvGrad, device, mb, chunk});
  program.push_back({kind, device, mb, chunk});
  if (vs > 0) program.push_back({ActionKind::SendGrad, device, mb, chunk});
}
}  // namespace

void append_chunk_backward(std::vector<Action>& program, const ChunkMap& map, int device, int chunk, int mb) {
  append_chunk_gradient(program, map, ActionKind::Backward, device, chunk, mb);
}

void append_chunk_backward_input(std::vector<Action>& program, const ChunkMap& map, int device, int chunk, int mb) {
  append_chunk_gradient(program, map, ActionKind::BackwardInput, device, chunk, mb);
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

void append_backward_input(std::vector<Action>& program, int stage, int mb, int stages) {
  if (stage < stages - 1) program.push_back({ActionKind::RecvGrad, stage, mb});
  program.push_back({ActionKind::BackwardInput, stage, mb});
  if (stage > 0) program.push_back({ActionKind::SendGrad, stage, mb});
}

void append_weight_backward(std::vector<Action>& program, int stage, int mb) {
  program.push_back({ActionKind::BackwardWeight, stage, mb});
}

std::string describe(const Schedule& schedule) {
  std::ostringstream out;
  out << schedule.name() << ": " << schedule.stages << " stages, " << schedule.microbatches
      << " micro-batches" << (schedule.replicas > 1 ? ", every stage a replica of the whole model" : "") << "\n";
  for (std::size_t s = 0; s < schedule.per_stage.size(); ++s) {
    out << "  stage " << s << ":";
    for (const Action& a : schedule.per_stage[s]) {
      out << ' ';
      if (a.kind == ActionKind::OptimizerStep || a.kind == ActionKind::AllReduceGrads) {
        out << short_label(a.kind);
      } else {
        out << short_label(a.kind);
        if (!is_batched_weight(a)) out << a.microbatch;  // "W": the whole-batch W of --w-batch
        if (a.chunk > 0) out << 'c' << static_cast<int>(a.chunk);
      }
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace pipelab
