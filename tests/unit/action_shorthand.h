// action_shorthand.h — one-word actions for schedules written out by hand in the unit
// tests: F(s, m) is Forward of micro-batch m on stage s, SA/RA send/receive an
// activation, SG/RG a gradient, I/W the split backward's halves, Opt the optimizer step,
// AR data parallelism's gradient all-reduce.
#pragma once

#include <utility>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab::shorthand {

using K = ActionKind;

inline Action F(int s, int m) { return {K::Forward, s, m}; }
inline Action B(int s, int m) { return {K::Backward, s, m}; }
inline Action R(int s, int m) { return {K::Recompute, s, m}; }
inline Action I(int s, int m) { return {K::BackwardInput, s, m}; }
inline Action W(int s, int m) { return {K::BackwardWeight, s, m}; }
inline Action SA(int s, int m) { return {K::SendActivation, s, m}; }
inline Action RA(int s, int m) { return {K::RecvActivation, s, m}; }
inline Action SG(int s, int m) { return {K::SendGrad, s, m}; }
inline Action RG(int s, int m) { return {K::RecvGrad, s, m}; }
inline Action Opt(int s) { return {K::OptimizerStep, s, -1}; }
inline Action AR(int s) { return {K::AllReduceGrads, s, -1}; }

/// A hand-built schedule (ScheduleKind::Custom) of `stages` programs over `microbatches`.
inline Schedule make(int stages, int microbatches, std::vector<std::vector<Action>> per_stage) {
  Schedule s;
  s.kind = ScheduleKind::Custom;  // "test": built by hand
  s.stages = stages;
  s.microbatches = microbatches;
  s.per_stage = std::move(per_stage);
  return s;
}

}  // namespace pipelab::shorthand
