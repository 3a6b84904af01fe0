// split_backward_tolerance.h — how near the sim comes to a zero-bubble row's theory.
//
// The zero-bubble rows (ZB-H1, ZB-H2) state their theory at F:I:W = 1:1:1 and are checked
// exactly against a unit-time simulation of the schedule in tests/unit/test_zero_bubble.cpp.
// The sim costs I and W from their block FLOPs (docs/backends.md), which put W up to 7%
// below F for the small test models, so on the sim those formulas hold to within these
// tolerances (measured: 0.015 at worst for the bubble), not to 1e-9 as fill-drain's do.
#pragma once

#include "pipelab/schedule/schedule.h"

namespace pipelab::testing_split {

constexpr double kBubbleTolerance = 0.02;          ///< bubble fraction, utilization
constexpr double kBubbleOverBusyTolerance = 0.05;  ///< idle / busy
constexpr double kSpeedupRelativeTolerance = 0.02; ///< a speedup, relative

/// Whether `s` splits B into I and W (its theory is the 1:1:1 formula).
inline bool splits_backward(const Schedule& s) {
  for (const auto& program : s.per_stage)
    for (const Action& a : program)
      if (a.kind == ActionKind::BackwardInput) return true;
  return false;
}

}  // namespace pipelab::testing_split
