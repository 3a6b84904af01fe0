// pipelab/report/in_flight.h — peak in-flight micro-batches per device, measured from a Trace.
//
//   Trace → per device: the micro-batches whose forward has started and whose backward
//   has not yet finished → their largest count at any one time (docs/metrics.md).
//
// A micro-batch is in flight on device d from the start of its first Forward there to
// the end of its last backward action there: Backward, or BackwardInput / BackwardWeight
// when the schedule splits the backward (zero-bubble), or the stage's whole-batch W
// (--w-batch), whichever ends last. While it is in flight the device holds what its
// backward needs (stash, or with remat the stage input), so the peak bounds the stash: M
// for fill-drain (GPipe), min(K - d, M) for 1F1B, M with --w-batch.
#pragma once

#include <vector>

#include "pipelab/trace/trace.h"

namespace pipelab {

/// Per device (max(trace.meta.devices, largest device in the events + 1) entries): the
/// peak number of micro-batches in flight. Intervals are half-open [start, end), so a
/// micro-batch whose backward ends at t and one whose forward starts at t never count
/// together. A micro-batch with a Forward but no backward action stays in flight to the
/// end of the step. Events without a micro-batch (OptimizerStep, -1) are ignored.
std::vector<int> peak_in_flight_microbatches(const Trace& trace);

/// The largest entry of peak_in_flight_microbatches(trace) (0 for an empty trace).
int max_peak_in_flight_microbatches(const Trace& trace);

}  // namespace pipelab
