// trace_ranks.h — internal to core/src/trace: the `pipelab.ranks` metadata of a trace whose
// stages ran as processes (runtime/spmd.h), written and read back (trace_writer.cpp,
// trace_reader.cpp). A trace from one process has no `ranks`.
#pragma once

#include <vector>

#include "pipelab/trace/trace.h"
#include "trace_fields.h"

namespace pipelab::trace_detail {

/// [{rank, host, clock_offset_us, alignment_error_us}, ...], one per rank.
json ranks_json(const std::vector<RankClock>& ranks);

/// Reads `ranks` (the value of pipelab.ranks) into meta.ranks; errors through `f`.
void read_ranks(const Fields& f, const json& ranks, TraceMeta& meta);

}  // namespace pipelab::trace_detail
