// pipelab/schedule/dualpipev.h — DualPipeV: DeepSeek's DualPipe folded into one V.
//
// DeepSeek-AI, "DeepSeek-V3 Technical Report" (arXiv 2412.19437), section 3.2.1, DualPipe;
// its "V" form (deepseek-ai/DualPipe, and PyTorch's ScheduleDualPipeV) runs on the V
// placement of ZB-V (schedule/zbv.h): device d holds chunk 0 = stage d (the way down)
// and chunk 1 = stage 2K - 1 - d (the way back up). Its point is to pair, in its main
// phase, the forward of one micro-batch on one chunk with the full backward of another on
// the other chunk, so that one's computation hides the other's communication (DeepSeek's
// all-to-all of mixture-of-experts layers). pipelab runs every action on its own, one
// after another, so each pair here is "F, then B" and nothing is hidden: the kit shows the
// order, and that without the overlap it idles as ZB-V does and holds one pair more.
//
// Device d's program, with n = max(M, 2K) micro-batches counted (the order needs 2K; the
// actions of micro-batches >= M are then left out, as ZB-V does — PyTorch refuses M < 2K),
// "down" = chunk 0 and "up" = chunk 1, B the whole backward and I its input half, whose W
// goes into a queue that the steps marked "W" take from, oldest first:
//   1. 2(K - 1 - d) forwards down;
//   2. d + 1 times: F down, F up;
//   3. K - 1 - d times: I up, W, F up;
//   4. n - 2K + d + 1 times: F down, B up; F up, B down      (the overlapped pairs);
//   5. K - 1 - d times: B up; F up, B down;
//   6. d + 1 times: B up, B down — from the middle one on (for odd d before its B up, for
//      even d before its B down) as I's instead, their W's queued (zero bubble at the end);
//   7. K - 1 - d times: W, then B down (I once step 6 switched);
//   8. the W's left in the queue;
// then one OptimizerStep.
//
// Theory (one step, balanced chunks, free links, units of one chunk's forward with
// t_f = t_i = t_w, B = 2), as the unit-time simulation of tests/unit/test_dualpipev.cpp
// measures it for every K and M: see dualpipev_theory().
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// DualPipeV for K devices and M micro-batches (see the file comment): kind
/// ScheduleKind::DualPipeV ("dualpipev"), chunks = 2, placement ChunkPlacement::VShape.
/// Throws pipelab::Error unless K >= 1 and M >= 1.
Schedule dualpipev_schedule(int devices, int microbatches);

/// Theory of DualPipeV run action by action (no overlap) at F:I:W = 1:1:1 on balanced
/// chunks and free links, exact for one step and every K, M >= 1: idle per device K - 1
/// chunk steps once M >= 2K (ZB-V's), more below (the padded order: see the source);
/// peak min(2K + 1, 2M) (chunk, micro-batch) pairs in flight. Throws pipelab::Error
/// unless K, M >= 1.
Theory dualpipev_theory(int devices, int microbatches);

}  // namespace pipelab
