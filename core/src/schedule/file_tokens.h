// file_tokens.h — the one name table of the schedule file format (schedule_file.h),
// shared by its parser (schedule_file.cpp) and its writer (schedule_text.cpp).
#pragma once

#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab::detail {

/// The text of each action kind between a token's stage and micro-batch ("0SEND_F3").
/// The names of the sends and receives are PyTorch's (torch.distributed.pipelining).
struct FileToken {
  ActionKind kind;
  const char* text;
};
constexpr FileToken kFileTokens[] = {
    {ActionKind::Forward, "F"},          {ActionKind::Backward, "B"},
    {ActionKind::Recompute, "R"},        {ActionKind::SendActivation, "SEND_F"},
    {ActionKind::RecvActivation, "RECV_F"}, {ActionKind::SendGrad, "SEND_B"},
    {ActionKind::RecvGrad, "RECV_B"},    {ActionKind::OptimizerStep, "OPT"},
    // B's two halves, PyTorch's letters: I the input gradient, W the weight gradient.
    {ActionKind::BackwardInput, "I"},    {ActionKind::BackwardWeight, "W"},
    // Data parallelism's gradient all-reduce: written by --describe, refused when read
    // (a file holds a pipeline; --schedule data-parallel builds the baseline).
    {ActionKind::AllReduceGrads, "ALL_REDUCE"},
};

/// The all-reduce is a whole token, as OPT is.
constexpr const char* kAllReduceToken = "ALL_REDUCE";

/// The optimizer step is a whole token: once per stage, no stage or micro-batch number.
constexpr const char* kOptimizerToken = "OPT";

/// The first word of the optional header line: "stages K microbatches M [remat]".
constexpr const char* kHeaderWord = "stages";

inline const char* file_token(ActionKind kind) {
  for (const FileToken& t : kFileTokens)
    if (t.kind == kind) return t.text;
  return "?";
}

/// "0F3", "1SEND_B0", "0W" (a whole-batch W), "OPT": how the file writes one action.
inline std::string file_token(const Action& a) {
  if (a.kind == ActionKind::OptimizerStep) return kOptimizerToken;
  if (a.kind == ActionKind::AllReduceGrads) return kAllReduceToken;
  // A model chunk (virtual stage) other than 0 is written as PyTorch's c<N> suffix.
  const std::string chunk = a.chunk > 0 ? "c" + std::to_string(a.chunk) : std::string();
  // A whole-batch W (--w-batch, micro-batch -1) has no micro-batch number: "0W".
  const std::string microbatch = a.microbatch >= 0 ? std::to_string(a.microbatch) : std::string();
  return std::to_string(a.stage) + file_token(a.kind) + microbatch + chunk;
}

/// Sends and receives are what a file may leave out (inserted around F and B).
inline bool is_communication(ActionKind kind) {
  return kind == ActionKind::SendActivation || kind == ActionKind::RecvActivation ||
         kind == ActionKind::SendGrad || kind == ActionKind::RecvGrad;
}

/// `compute_order` (no sends or receives) of device `stage` with each F, B and I wrapped
/// in its communication over the virtual stages of `map` (append_chunk_forward /
/// append_chunk_backward / append_chunk_backward_input; with one chunk per device, the
/// same as append_forward / append_backward / append_backward_input); `origin[i]` is the
/// index in compute_order of the action that brought program action i.
inline std::vector<Action> insert_communication(const std::vector<Action>& compute_order, int stage,
                                                const ChunkMap& map, std::vector<std::size_t>* origin = nullptr) {
  std::vector<Action> program;
  for (std::size_t i = 0; i < compute_order.size(); ++i) {
    const Action& a = compute_order[i];
    if (a.kind == ActionKind::Forward) {
      append_chunk_forward(program, map, stage, a.chunk, a.microbatch);
    } else if (a.kind == ActionKind::Backward) {
      append_chunk_backward(program, map, stage, a.chunk, a.microbatch);
    } else if (a.kind == ActionKind::BackwardInput) {
      append_chunk_backward_input(program, map, stage, a.chunk, a.microbatch);
    } else {
      program.push_back(a);
    }
    if (origin) origin->resize(program.size(), i);
  }
  return program;
}

}  // namespace pipelab::detail
