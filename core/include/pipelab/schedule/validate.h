// pipelab/schedule/validate.h — prove a schedule is runnable before running it.
//
// validate() checks, in this order, and throws pipelab::Error naming the first
// offending action (and for a deadlock the stage that would wait forever):
//   1. shape: per_stage.size() == stages, every action's stage equals its list,
//      micro-batch ids in [0, microbatches), OptimizerStep has microbatch -1;
//   2. completeness: every F(s, m) exactly once, and its backward in one form: one
//      B(s, m), or the split pair I(s, m) (input gradient) and W(s, m) (weight gradient),
//      or I(s, m) and the stage's one whole-batch W (microbatch -1, --w-batch) after every
//      I of its stage ("misplaced whole-batch W" otherwise), never two forms; every needed send/recv exactly once (RecvActivation for s > 0,
//      SendActivation for s < K-1, RecvGrad for s < K-1, SendGrad for s > 0); at most
//      one OptimizerStep per stage, after all of that stage's B and W; Recompute at most
//      once per (s, m), between F(s, m) and its B (or I);
//   3. order within a stage: F(s,m) after RecvActivation(s,m); SendActivation(s,m)
//      after F(s,m); B(s,m) or I(s,m) after F(s,m) and after RecvGrad(s,m);
//      SendGrad(s,m) after B(s,m) or I(s,m); W(s,m) after I(s,m);
//   4. deadlock freedom: symbolic execution with non-blocking sends and blocking
//      receives; if no stage can advance before all finish, names each stuck
//      stage's action and what it waits for;
//   5. the declared stash bound, for a registry schedule (not Custom): no device holds
//      more micro-batches at once, from each F to the end of its backward (B, or W, or the
//      whole-batch W, which ends every micro-batch of its chunk), than
//      the registry's theory declares (Theory::peak_stash_microbatches: M for GPipe,
//      min(K, M) for 1F1B, ...).
// A data-parallel schedule (replicas > 1) has rules of its own after the shape's
// (validate_replicas.h): each device its own share, one AllReduceGrads before its step.
// validate(schedule, model) adds deadlock freedom under another p2p model (p2p.h).
#pragma once

#include <string>

#include "pipelab/schedule/p2p.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Throws pipelab::Error describing the first problem; returns normally if the
/// schedule is complete, ordered and deadlock-free.
void validate(const Schedule& schedule);

/// validate(schedule), then deadlock freedom under `model` (deadlock_problem): throws
/// pipelab::Error with deadlock_problem's message and deadlock_hint(model). Async adds
/// nothing: validate() already proves it.
void validate(const Schedule& schedule, P2pModel model);

/// Like validate() but returns the error message ("" when valid) instead of throwing.
std::string validation_error(const Schedule& schedule);

}  // namespace pipelab
