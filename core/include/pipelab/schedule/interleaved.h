// pipelab/schedule/interleaved.h — interleaved 1F1B: each device holds v model chunks.
//
// Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
// Megatron-LM" (SC 2021), section 2.2.2. The L layers are split into K·v chunks (virtual
// stages); chunk c of device d is virtual stage c·K + d (ChunkPlacement::Interleaved), so
// a micro-batch goes round the K devices v times. Each device runs 1F1B over "virtual
// micro-batches" — (chunk, micro-batch) pairs — in Megatron-LM's order:
//   the k-th forward of a device is chunk (k / K) mod v of micro-batch (k / (K·v))·K + k mod K,
//   the k-th backward is chunk v - 1 - (k / K) mod v of the same micro-batch formula,
// that is, K micro-batches at a time through chunk 0, then the same K through chunk 1, ...
// Device d first runs w(d) = min(2(K - 1 - d) + (v - 1)·K, M·v) forwards (the warm-up;
// K - 1 - d for v = 1, which makes it 1F1B), then alternates one forward and one
// backward, then runs the backwards left.
//
// The M constraint (Megatron-LM's): M is a multiple of K when v > 1, so the groups of K
// micro-batches are whole. v = 1 is 1F1B itself (one group per micro-batch).
//
// Theory, balanced chunks (each 1/v of a stage's work) and free links: the pipeline
// fills and drains in chunk-sized steps, so the idle time per device is (K - 1)·(t_f +
// t_b)/v instead of 1F1B's (K - 1)·(t_f + t_b): utilization v·M / (v·M + K - 1), bubble
// (K - 1)/(v·M + K - 1) — the paper's bubble over busy time (p - 1)/(v·m). The price: v
// times the messages, and more micro-batches in flight on device 0 (its warm-up).
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Interleaved 1F1B for K devices with v chunks each and M micro-batches (see the file
/// comment): kind ScheduleKind::Interleaved1F1B ("interleaved-1f1b"), chunks = v. Throws
/// pipelab::Error unless K >= 1, M >= 1, 1 <= v <= 64 and (v = 1 or M is a multiple of K).
Schedule interleaved_1f1b_schedule(int devices, int microbatches, int chunks);

/// Theory of interleaved 1F1B, balanced chunks and free links: utilization
/// v·M / (v·M + K - 1), bubble (K - 1)/(v·M + K - 1), device 0's peak in flight
/// min(w(0) + 1, v·M) (chunk, micro-batch) pairs, each holding one chunk's activations:
/// min(2K - 1 + (v - 1)·K, v·M), or 1F1B's min(K, M) for v = 1. Throws pipelab::Error
/// unless K, M, v >= 1.
Theory interleaved_1f1b_theory(int devices, int microbatches, int chunks);

}  // namespace pipelab
