// validate_stash.h — validate()'s last pass, internal to schedule/: no device holds more
// micro-batches at once than its schedule declares (the registry's theory,
// Theory::peak_stash_microbatches). validate.cpp runs it on a complete, ordered,
// deadlock-free schedule of a registry kind; a hand-built one (Custom) declares no bound.
#pragma once

#include "pipelab/schedule/schedule.h"

namespace pipelab::detail {

/// The most micro-batches (with chunks: (chunk, micro-batch) pairs) device `device`
/// holds at once in program order: +1 at each F, -1 at the end of its backward (B, or W
/// of the split pair; a whole-batch W ends every micro-batch its chunk holds). Its
/// activations (or under remat its input) are held all that time.
int program_peak_in_flight(const Schedule& schedule, int device);

/// Throws pipelab::Error naming the device, the action at which it exceeds the bound and
/// the bound, when some device's program_peak_in_flight is above `bound`.
void check_stash_bound(const Schedule& schedule, double bound);

}  // namespace pipelab::detail
