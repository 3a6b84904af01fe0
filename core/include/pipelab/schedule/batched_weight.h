// pipelab/schedule/batched_weight.h — --w-batch: one weight gradient over the whole batch.
//
// A split backward runs, per micro-batch m, I(m) (the input gradient, sent upstream) and
// W(m) (the weight gradient): M GEMMs per weight with k = B/M rows each, every one of
// them reading and writing the whole dW. with_batched_weight() replaces a stage's M W's
// by one whole-batch W (Action{BackwardWeight, stage, -1, chunk}, "W s1"): one GEMM per
// weight with k = B rows, dW read and written once. For a schedule with a plain B
// (naive, gpipe, 1f1b, interleaved-1f1b) each B becomes its I first.
//
//   per micro-batch:  ... I0 W0 ... I1 W1 ... I(M-1) W(M-1) Opt
//   --w-batch:        ... I0    ... I1    ... I(M-1) W      Opt
//
// The whole-batch W of (device, chunk) goes where the chunk's last per-micro-batch W
// was (after the SendGrad of its last I, for a B): the last W comes after every I of its
// chunk (each W follows its own I), so the batched W can read every micro-batch's dy,
// and the schedule's W order is kept as far as one W can keep it. The stage keeps every
// micro-batch's stash (F's, and R's under remat) and I's dy and da until then: M
// micro-batches' worth (docs/w-batch.md).
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// `schedule` with every per-micro-batch W (and the weight half of every B) of each
/// (device, chunk) replaced by one whole-batch W, placed where the chunk's last W was
/// (for a B: right after its I and that I's SendGrad); w_batch set. Throws pipelab::Error
/// for a data-parallel schedule (each replica runs one micro-batch: nothing to batch) or
/// one already batched.
Schedule with_batched_weight(const Schedule& schedule);

/// The theory of `theory` (the row's, without --w-batch) with --w-batch, for K devices, M
/// micro-batches and v chunks. Every (chunk, micro-batch) pair is held until its chunk's
/// batched W, after the chunk's last F: the peak is v·M on every device. The bubble is
/// derived for naive, gpipe, 1f1b and zb-h1 without remat at F:I:W = 1:1:1: their F and I
/// orders are fill-drain's and 1F1B's with B = I, whose step lasts 2(M+K-1) on the first
/// device, which then runs its batched W (M): idle 2(K-1), utilization 3M/(3M+2(K-1)).
/// For the others (zb-h2, zbv, interleaved-1f1b, custom, or with remat) the bubble is not
/// given: the row's own values are kept, labelled so.
Theory with_batched_weight_theory(ScheduleKind kind, const Theory& theory, int devices, int microbatches, int chunks,
                                  bool remat);

}  // namespace pipelab
