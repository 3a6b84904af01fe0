// validate_tables.h — the dense (virtual stage, micro-batch) position tables validate()'s
// passes share, and how their messages name an action; internal to schedule/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab::detail {

/// The kinds that occur once per (stage, micro-batch); OptimizerStep is per stage, and a
/// whole-batch W (--w-batch) per (device, chunk): neither has a cell.
constexpr int kPerMicrobatchKinds = 9;
/// Forward..RecvGrad = 0..6; OptimizerStep (7) has no cell; BackwardInput, BackwardWeight = 7, 8.
inline int kind_index(ActionKind kind) {
  const int k = static_cast<int>(kind);
  return k < static_cast<int>(ActionKind::OptimizerStep) ? k : k - 1;
}

/// Position of each (kind, stage, micro-batch) in its stage's program, -1 if absent.
/// 32-bit: check_shape refuses a program of 2^31 actions or more, and half the bytes
/// of a K=1024 M=1024 table is half the time validate() spends filling it.
class PositionTable {
 public:
  PositionTable(int stages, int microbatches)
      : microbatches_(microbatches),
        pos_(static_cast<std::size_t>(kPerMicrobatchKinds) * stages * microbatches, -1),
        batched_weight_(static_cast<std::size_t>(stages), -1) {}

  /// The cell of (kind, virtual stage, micro-batch).
  std::int32_t& at(ActionKind kind, int stage, int microbatch) {
    const std::size_t cell = static_cast<std::size_t>(stage) * microbatches_ + microbatch;
    return pos_[cell * kPerMicrobatchKinds + kind_index(kind)];
  }
  /// The position of virtual stage `stage`'s whole-batch W (--w-batch), -1 if absent.
  std::int32_t& batched_weight(int stage) { return batched_weight_[static_cast<std::size_t>(stage)]; }

 private:
  int microbatches_;
  std::vector<std::int32_t> pos_;
  std::vector<std::int32_t> batched_weight_;
};

/// The action of `kind` on virtual stage `vs` (its device and chunk in `map`), as messages name it.
inline Action on(const ChunkMap& map, ActionKind kind, int vs, int microbatch) {
  return {kind, map.device_of(vs), microbatch, map.chunk_of(vs)};
}
/// to_string of on(): "B3 s1", "W s1 c1" (a whole-batch W: microbatch -1).
inline std::string name(const ChunkMap& map, ActionKind kind, int vs, int microbatch) {
  return to_string(on(map, kind, vs, microbatch));
}

/// Throws unless the backward of (virtual stage s, micro-batch m) is exactly one form: B
/// alone, I with its W, or I with the stage's whole-batch W (validate_backward.cpp).
void check_backward_form(const ChunkMap& map, PositionTable& pos, int s, int m);

/// Throws unless virtual stage `vs`'s whole-batch W, if it has one, comes after every I of
/// its stage: it reads the dy and da each of them keeps (validate_backward.cpp).
void check_batched_weight_place(const ChunkMap& map, PositionTable& pos, int vs, int microbatches);

}  // namespace pipelab::detail
