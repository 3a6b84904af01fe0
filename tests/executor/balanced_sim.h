// balanced_sim.h — the sim on balanced stages, where a registry row's theory is exact,
// and how near it comes to the zero-bubble rows' theory.
//
// Balanced: L = 2K layers (every stage 2), B = 240 rows (divisible by every M the tests
// use: 1..6, 8, 10, 12, 15, 16), no loss or optimizer cost, free links — every F, B and R
// of a stage then costs the same and the fill-drain formulas hold to 1e-9.
//
// The zero-bubble rows (ZB-H1, ZB-H2) state their theory at F:I:W = 1:1:1 and are checked
// exactly against a unit-time simulation of the schedule in tests/unit/test_zero_bubble.cpp.
// The sim costs I and W from their block FLOPs (docs/backends.md), which put W up to 7%
// below F for the small test models, so on the sim those formulas hold to within these
// tolerances, not to 1e-9 as fill-drain's do. Measured worst cases over these tests (the
// sim is deterministic, so they do not vary): bubble and utilization 0.0154, bubble/busy
// 0.049, speedup 1.1% relative (tolerances set to 0 and the failures read off, 2026-12-01).
#pragma once

#include "pipelab/model/config.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// The balanced sim config of `kind` on K devices with M micro-batches (and remat).
inline RunConfig balanced_sim(ScheduleKind kind, int devices, int microbatches, bool remat = false) {
  RunConfig c;
  c.model.layers = 2 * devices;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 16 * 3 * 4 * 5;  // divisible by every M the tests use
  c.devices = devices;
  c.microbatches = microbatches;
  c.schedule = kind;
  c.remat = remat;
  c.backend = BackendKind::Sim;
  c.sim.count_loss = false;
  c.sim.count_optimizer = false;
  return c;
}

namespace testing_split {

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

}  // namespace testing_split
}  // namespace pipelab
