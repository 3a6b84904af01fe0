// pipelab/schedule/schedule.h — schedules as data.
//
// An Action is {kind, stage, microbatch}. A Schedule is one ordered action list
// per stage; stage s runs on logical device s. Generators (naive, gpipe, ...)
// and the re-materialization transform (with_recompute) live in exercise.h
// because students write them; this header holds the data types and the helpers
// every generator shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelab/model/partition.h"  // ChunkMap

namespace pipelab {

/// What one step of a stage's program does.
enum class ActionKind : std::uint8_t {
  Forward,         ///< F: run the stage's layers forward on one micro-batch
  Backward,        ///< B: back-propagate one micro-batch through the stage, accumulate grads
  Recompute,       ///< R: re-materialize the stage's activations from its stashed input
  SendActivation,  ///< send F's output of (stage, microbatch) to stage + 1
  RecvActivation,  ///< receive the input of (stage, microbatch) from stage - 1
  SendGrad,        ///< send the input-gradient of (stage, microbatch) to stage - 1
  RecvGrad,        ///< receive the output-gradient of (stage, microbatch) from stage + 1
  OptimizerStep,   ///< SGD update of the stage's parameters (microbatch is -1)
  /// I: the input-gradient half of B (the zero-bubble paper's "B", PyTorch's "I"):
  /// back-propagate one micro-batch's gradient to the stage's input, keeping what W needs.
  BackwardInput,
  /// W: the weight-gradient half of B: accumulate the stage's parameter gradients of one
  /// micro-batch from what its I kept (the zero-bubble paper's and PyTorch's "W"). With
  /// microbatch -1 it is the whole-batch W of --w-batch (schedule/batched_weight.h): one
  /// W per (device, chunk) over the rows of every micro-batch, after all of their I's.
  BackwardWeight,
  /// The gradient all-reduce of data parallelism: every replica's gradients summed, the
  /// sum on every replica (microbatch is -1). A collective: it completes once every
  /// device of the schedule has reached it (schedule/data_parallel.h).
  AllReduceGrads,
};

/// Number of ActionKind values (for tables indexed by kind).
constexpr int kActionKindCount = 11;

/// One step of one stage's program.
struct Action {
  ActionKind kind = ActionKind::Forward;  ///< what to do
  /// Which of the device's model chunks (virtual stages) it runs on: 0 unless the
  /// schedule holds several per device (Schedule::chunks, interleaved 1F1B). A byte
  /// beside `kind`, so an Action stays 12 bytes (a trace event 48).
  std::uint8_t chunk = 0;
  int stage = 0;       ///< which device does it (its stage, for one chunk per device)
  int microbatch = 0;  ///< -1 for OptimizerStep, AllReduceGrads and a whole-batch W

  /// Forward of micro-batch 0 on stage 0.
  constexpr Action() = default;
  /// {kind, stage, microbatch} or {kind, stage, microbatch, chunk}.
  constexpr Action(ActionKind k, int s, int m, int c = 0)
      : kind(k), chunk(static_cast<std::uint8_t>(c)), stage(s), microbatch(m) {}

  /// Same kind, stage, micro-batch and chunk.
  bool operator==(const Action& o) const {
    return kind == o.kind && stage == o.stage && microbatch == o.microbatch && chunk == o.chunk;
  }
  /// Not operator==.
  bool operator!=(const Action& o) const { return !(*this == o); }
};

/// Full name of a kind: "Forward", "RecvGrad", ...
const char* to_string(ActionKind kind);
/// Short label as drawn in the timeline: "F", "B", "R", "SendAct", ...
const char* short_label(ActionKind kind);
/// Parse a full name back (throws pipelab::Error for an unknown name).
ActionKind action_kind_from_string(const std::string& name);
/// "F3 s1" style label (the same text as the NVTX range and the trace event name).
std::string to_string(const Action& action);

/// True for F, B, Recompute, I and W: the actions that count as busy time.
bool is_compute(ActionKind kind);

/// True for AllReduceGrads: an action every device takes part in at once.
bool is_collective(ActionKind kind);

/// True for the whole-batch W of --w-batch: BackwardWeight with microbatch -1.
inline bool is_batched_weight(const Action& a) { return a.kind == ActionKind::BackwardWeight && a.microbatch < 0; }

/// True for B and I: the actions after which a stage sends the gradient of its input
/// (SendGrad) — the backward's critical path.
bool is_input_backward(ActionKind kind);

/// Which schedule a Schedule is: a row of the registry (schedule/registry.h), or
/// Custom for one built by hand (tests, a student's experiment). Custom stays last.
enum class ScheduleKind {
  Naive,     ///< "naive": one batch through K stages
  Gpipe,     ///< "gpipe": fill-drain
  OneFOneB,  ///< "1f1b": PipeDream-Flush
  ZbH1,      ///< "zb-h1": zero-bubble ZB-H1, 1F1B's memory (schedule/zero_bubble.h)
  ZbH2,      ///< "zb-h2": zero-bubble ZB-H2, 2K-1 micro-batches in flight (schedule/zero_bubble.h)
  DataParallel,  ///< "data-parallel": K replicas of the whole model, one gradient all-reduce
  Interleaved1F1B,  ///< "interleaved-1f1b": v model chunks per device (schedule/interleaved.h)
  Zbv,       ///< "zbv": zero bubble on two chunks per device in a V (schedule/zbv.h)
  DualPipeV, ///< "dualpipev": DeepSeek's DualPipe on ZB-V's V, run action by action (schedule/dualpipev.h)
  Custom,    ///< "custom": built by hand
};

/// One ordered action list per stage.
struct Schedule {
  ScheduleKind kind = ScheduleKind::Custom;  ///< which generator made it
  bool remat = false;    ///< re-materialization applied (with_recompute, ex07)
  /// --w-batch applied (with_batched_weight): one whole-batch W per (device, chunk)
  /// instead of a W (or the weight half of a B) per micro-batch.
  bool w_batch = false;
  int stages = 0;        ///< K: one program per device (per_stage.size())
  int microbatches = 0;  ///< M
  /// Copies of the model the devices hold: 1 for a pipeline (device s runs stage s of
  /// K); K for data parallelism, where every device holds every layer, runs micro-batch
  /// d (its share of the batch) and meets the others at one AllReduceGrads.
  int replicas = 1;
  /// Model chunks per device, v (virtual stages: interleaved 1F1B); 1 for every other
  /// schedule. Actions carry their chunk; placement says where each chunk's virtual stage is.
  int chunks = 1;
  ChunkPlacement placement = ChunkPlacement::Interleaved;  ///< where the chunks sit (chunks > 1)
  std::vector<std::vector<Action>> per_stage;  ///< per_stage[s] is stage s's program

  /// The virtual stages of the K devices: K·v of them (K when chunks = 1).
  ChunkMap chunk_map() const { return {stages, chunks, placement}; }

  /// Total number of actions over all stages.
  std::size_t size() const;
  /// Display name, derived from the fields: "gpipe", "1f1b+remat", "zb-h1+w-batch", "custom".
  std::string name() const;
};

/// The CLI name of a kind: "naive", "gpipe", "1f1b", "custom" (the registry's names).
const char* to_string(ScheduleKind kind);

/// The empty schedule every generator starts from: kind, K stages with empty
/// programs, M micro-batches. Checks the inputs the same way for every generator:
/// throws pipelab::Error naming `generator` unless devices >= 1 and microbatches >= 1.
Schedule start_schedule(ScheduleKind kind, const char* generator, int devices, int microbatches);

/// A unique 64-bit key of an action: (kind, chunk, stage, micro-batch), packed as
/// kind << 56 | chunk << 48 | stage << 32 | micro-batch (stages below 2^16). The
/// executor's mailbox keys receives by it; the replay keys measured costs by it.
inline std::uint64_t action_key(const Action& a) {
  return (static_cast<std::uint64_t>(a.kind) << 56) | (static_cast<std::uint64_t>(a.chunk) << 48) |
         (static_cast<std::uint64_t>(static_cast<std::uint16_t>(a.stage)) << 32) |
         static_cast<std::uint32_t>(a.microbatch);
}

/// The receive a send feeds: SendActivation(s, m) → RecvActivation(s + 1, m),
/// SendGrad(s, m) → RecvGrad(s - 1, m) (one chunk per device).
Action matching_recv(const Action& send);
/// The send a receive waits for (inverse of matching_recv).
Action matching_send(const Action& recv);
/// matching_recv over virtual stages: the send of (device, chunk) = virtual stage vs feeds
/// vs + 1 (an activation) or vs - 1 (a gradient), on its device and chunk in `map`.
Action matching_recv(const Action& send, const ChunkMap& map);
/// The send a receive waits for, over virtual stages (inverse of the above).
Action matching_send(const Action& recv, const ChunkMap& map);

/// Append F of micro-batch `microbatch` on chunk `chunk` of `device` wrapped in its
/// communication: a RecvActivation before it unless its virtual stage is the first, a
/// SendActivation after it unless the last (append_forward over virtual stages).
void append_chunk_forward(std::vector<Action>& program, const ChunkMap& map, int device, int chunk, int microbatch);
/// Append B on a chunk wrapped in its communication (append_backward over virtual stages).
void append_chunk_backward(std::vector<Action>& program, const ChunkMap& map, int device, int chunk, int microbatch);
/// Append I (BackwardInput) on a chunk wrapped in its communication, as append_chunk_backward
/// does for B; its W is appended separately, where the schedule wants it.
void append_chunk_backward_input(std::vector<Action>& program, const ChunkMap& map, int device, int chunk,
                                 int microbatch);

/// Append F(stage, mb) to `program` wrapped in its communication: a RecvActivation
/// before it unless stage is the first, a SendActivation after it unless the last.
void append_forward(std::vector<Action>& program, int stage, int microbatch, int stages);

/// Append B(stage, mb) wrapped in its communication: a RecvGrad before it unless
/// stage is the last, a SendGrad after it unless stage is the first.
void append_backward(std::vector<Action>& program, int stage, int microbatch, int stages);

/// Append I(stage, mb) (BackwardInput) wrapped in its communication, as append_backward
/// does for B. The matching W is appended separately (append_weight_backward), where the
/// schedule wants it.
void append_backward_input(std::vector<Action>& program, int stage, int microbatch, int stages);

/// Append W(stage, mb) (BackwardWeight): local, no communication.
void append_weight_backward(std::vector<Action>& program, int stage, int microbatch);

/// Multi-line human listing, one line per stage ("stage 0: F0 >A0 F1 ...").
std::string describe(const Schedule& schedule);

}  // namespace pipelab
