// pipelab/schedule/data_parallel.h — data parallelism, the baseline pipelines are
// measured against: why split a model at all (docs/parallelism.md).
//
// K devices each hold a replica of the whole model (Schedule::replicas = K, a Partition
// of one stage with replicas = K). The batch is split into K shares as micro-batches
// are (microbatch_rows: B/K rows each, the first B mod K shares one row more), and
// device d runs share d through every layer, then meets the others at one gradient
// all-reduce, then steps its optimizer:
//     device d:  F(d)  B(d)  AllReduceGrads  Opt
// The loss is the batch mean (every row scaled by 1/B), so the sum of the K replicas'
// gradients is the full batch's gradient, and every replica applies the same SGD step:
// the same result as one device (the transparency check).
//
// With balanced replicas and free links no device ever waits: utilization 1, bubble 0,
// and each device does 1/K of the batch's work, so T_naive / T = K (the cost model is
// linear in rows). What it costs instead: every device holds all L layers' parameters
// and gradients (K times a pipeline stage's), and the all-reduce moves
// 2(K-1)/K × the gradient bytes per device (a ring: K-1 reduce-scatter steps, K-1
// all-gather steps, each sending 1/K of the gradients; docs/backends.md, "The sim's rules").
#pragma once

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Data parallelism over `devices` = K replicas: kind ScheduleKind::DataParallel
/// ("data-parallel"), replicas = K, M = K micro-batches (share d on device d), device d's
/// program F(d) B(d) AllReduceGrads OptimizerStep (see the file comment; K = 1 is one
/// device, F B Opt, nothing to all-reduce). Throws pipelab::Error unless K >= 1.
Schedule data_parallel_schedule(int devices);

/// Theory of data parallelism with K balanced replicas and free links: utilization 1,
/// bubble 0, ideal speedup K over naive model parallelism, one share stashed per device.
/// Throws pipelab::Error unless K >= 1.
Theory data_parallel_theory(int devices);

/// Bytes one device sends (and receives) in a ring all-reduce of `gradient_bytes` over K
/// devices: 2(K-1)/K × gradient_bytes (0 for K = 1).
double ring_all_reduce_bytes(int devices, double gradient_bytes);

}  // namespace pipelab
