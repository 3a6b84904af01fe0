// validate_backward.cpp — validate()'s completeness rules for a micro-batch's backward
// (validate_tables.h): one B, or I with its own W, or I with the stage's whole-batch W
// (--w-batch, schedule/batched_weight.h), and where that one W may go.
#include <string>

#include "pipelab/error.h"
#include "validate_tables.h"

namespace pipelab::detail {

void check_backward_form(const ChunkMap& map, PositionTable& pos, int s, int m) {
  const int device = map.device_of(s);
  const bool b = pos.at(ActionKind::Backward, s, m) >= 0;
  const bool i = pos.at(ActionKind::BackwardInput, s, m) >= 0;
  const bool w = pos.at(ActionKind::BackwardWeight, s, m) >= 0;
  const bool batched = pos.batched_weight(s) >= 0;  // the stage's whole-batch W covers m too
  const std::string whole = name(map, ActionKind::BackwardWeight, s, -1);
  if (b && (i || w || batched))
    PIPELAB_THROW(name(map, ActionKind::Backward, s, m) + " and " +
                      (i || w ? name(map, i ? ActionKind::BackwardInput : ActionKind::BackwardWeight, s, m)
                              : "the whole-batch " + whole) +
                      " both run: the backward of micro-batch " + std::to_string(m) + " on stage " +
                      std::to_string(device) + " would be computed twice",
                  "a micro-batch's backward is one B, or its two halves I (input gradient) and W (weight "
                  "gradient, its own or the stage's whole-batch W of --w-batch): keep one form");
  if (w && batched)
    PIPELAB_THROW(name(map, ActionKind::BackwardWeight, s, m) + " and the whole-batch " + whole + " both run on stage " +
                      std::to_string(device) + ": micro-batch " + std::to_string(m) +
                      "'s weight gradient would be accumulated twice",
                  "with a whole-batch W (with_batched_weight) a stage runs no per-micro-batch W");
  if (i && !w && !batched)
    PIPELAB_THROW("missing " + name(map, ActionKind::BackwardWeight, s, m) + ": stage " + std::to_string(device) + " runs " +
                      name(map, ActionKind::BackwardInput, s, m) +
                      " but never accumulates that micro-batch's weight gradient",
                  "every I needs its W (append_weight_backward) after it, or the stage one whole-batch W after all "
                  "of its I's, before the OptimizerStep");
  if ((w || batched) && !i && !b)
    PIPELAB_THROW((w ? name(map, ActionKind::BackwardWeight, s, m) : "the whole-batch " + whole) + " has no " +
                      name(map, ActionKind::BackwardInput, s, m) +
                      ": W accumulates the weight gradient from what I keeps",
                  "run I (append_backward_input) before W, or use one B instead of the pair");
}

void check_batched_weight_place(const ChunkMap& map, PositionTable& pos, int vs, int microbatches) {
  const std::int32_t at = pos.batched_weight(vs);
  if (at < 0) return;
  for (int m = 0; m < microbatches; ++m) {
    const std::int32_t input = pos.at(ActionKind::BackwardInput, vs, m);
    if (input < at) continue;
    PIPELAB_THROW("misplaced whole-batch " + name(map, ActionKind::BackwardWeight, vs, -1) + ": it comes before " +
                      name(map, ActionKind::BackwardInput, vs, m) + " (stage " + std::to_string(map.device_of(vs)) +
                      ", actions #" + std::to_string(at) + " < #" + std::to_string(input) +
                      ", 0-based), but it reads the dy and da that every I of its stage keeps",
                  "put the whole-batch W after the stage's last I (with_batched_weight puts it where the last W "
                  "was), before the OptimizerStep");
  }
}

}  // namespace pipelab::detail
