// balanced_sim.h — the sim on balanced stages, where a registry row's theory is exact.
//
// Balanced: L = 2K layers (every stage 2), B = 240 rows (divisible by every M the tests
// use: 1..6, 8, 10, 12, 15, 16), free links, and the theory's own costs (--sim-costs
// unit): every F, R, I and W of a stage costs one unit, B two, the loss and the optimizer
// nothing. Every row's formula (fill-drain's at any F:B, the zero-bubble rows' at
// F:I:W = 1:1:1) then holds to 1e-9. Pass SimCosts::Flops for the FLOP-priced sim, whose
// I and W differ from F by a few percent (docs/backends.md).
#pragma once

#include "pipelab/model/config.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// The balanced sim config of `kind` on K devices with M micro-batches (and remat).
inline RunConfig balanced_sim(ScheduleKind kind, int devices, int microbatches, bool remat = false,
                              SimCosts costs = SimCosts::Unit) {
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
  c.sim.costs = costs;
  c.sim.count_loss = false;  // (unit costs ignore both; FLOP costs need them off)
  c.sim.count_optimizer = false;
  return c;
}

}  // namespace pipelab
