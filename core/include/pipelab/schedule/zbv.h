// pipelab/schedule/zbv.h — ZB-V: zero bubble on two chunks per device placed in a V.
//
// Qi, Wan, Huang, Lin, "Zero Bubble Pipeline Parallelism", ICLR 2024 (arXiv 2401.10241),
// section 6. The L layers are split into 2K chunks (virtual stages); device d holds chunk
// 0 = virtual stage d (the way down) and chunk 1 = virtual stage 2K - 1 - d (the way back
// up): ChunkPlacement::VShape. So device 0 holds the first and the last stage, and the
// hand-over from stage K - 1 to stage K stays on device K - 1. As ZB-H1 and ZB-H2 do, every
// backward is split into I (BackwardInput, which the previous stage waits for) and W
// (BackwardWeight, which nobody waits for), and W's fill what would be bubbles.
//
// Device d's program, with n = max(M, 2K - 1) micro-batches counted (the order needs
// 2K - 1 to fill; the actions of micro-batches >= M are then left out, PyTorch's
// ScheduleZBVZeroBubble does the same), "down" = chunk 0, "up" = chunk 1:
//   1. warm-up, down:     2(K - d) - 1 forwards down;
//   2. warm-up, both:     d times: F up, F down;
//   3. warm-up, up:       K - d times: F up, I up, W up;
//   4. steady:            n - K times: F down (while any is left), I down, W down,
//                                      F up, I up, W up;
//   5. cool-down:         d times: I down, I up;  K - d times: I down, W down;
//                         then the W's up and the W's down that are left;
// then one OptimizerStep. Every index runs in order within its chunk and kind.
//
// Why this shape: the first forward reaches the bottom of the V (device K - 1) after K - 1
// chunk steps and comes back up to device 0 after 2K - 1; device d's 2(K - d) - 1 + d
// warm-up forwards are exactly what it can run before the first gradient passes it on the
// way back, and from then on each device alternates its two chunks, one forward and one
// backward of each per round, so at F:I:W = 1:1:1 no device waits in the steady state.
// The memory: every device holds at most 2K (chunk, micro-batch) pairs from F to W — each
// half a stage's activations, so K stages' worth, 1F1B's first-stage peak on every device
// (the paper's claim: ZB-V at 1F1B's memory).
//
// Theory (one step, balanced chunks, free links, in units of one chunk's forward with
// t_f = t_i = t_w): see zbv_theory() and docs/zero-bubble.md; the event simulation of
// tests/unit/test_zbv.cpp measures it for every K and M.
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// ZB-V for K devices and M micro-batches (see the file comment): kind ScheduleKind::Zbv
/// ("zbv"), chunks = 2, placement ChunkPlacement::VShape. Throws pipelab::Error unless
/// K >= 1 and M >= 1.
Schedule zbv_schedule(int devices, int microbatches);

/// Theory of ZB-V at F:I:W = 1:1:1 on balanced chunks and free links, exact for one step
/// and every K >= 1, M >= 1 (see the source for the idle time); peak min(2K, 2M)
/// (chunk, micro-batch) pairs in flight on every device. Throws pipelab::Error unless
/// K, M >= 1.
Theory zbv_theory(int devices, int microbatches);

}  // namespace pipelab
