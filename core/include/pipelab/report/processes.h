// pipelab/report/processes.h — what a multi-process run (runtime/spmd.h) adds to the report
// and the JSON: the ranks and their hosts, how well their clocks were aligned, and what
// one transfer over the MPI path cost (from the merged trace's recv lane).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipelab/runtime/run.h"

namespace pipelab {

/// What the step's transfers cost. Each receive's span runs from its send's start to the
/// receiver having the bytes (backends/backend.h); a rank without a progress thread sees
/// a message when it reaches the receive, so a span also holds the time the message
/// waited for a busy receiver, and the shortest span — a receiver already waiting — is
/// the closest to the wire's own cost. A send's span is the sender handing it over.
struct TransferCost {
  std::size_t transfers = 0;  ///< receives in the step
  double min_us = 0;          ///< the shortest receive span
  double median_us = 0;       ///< the median receive span
  double max_us = 0;          ///< the longest
  double send_median_us = 0;  ///< the median send span (the sender's cost: MPI_Isend)
  double mean_bytes = 0;      ///< mean bytes per transfer
};
/// The cost of the transfers in `trace` (all zero without receives).
TransferCost transfer_cost(const Trace& trace);

/// "# processes: ..." lines for a run whose stages ran as processes: ranks and hosts, the
/// clock alignment per rank, and the MPI transfer cost of each run (for data parallelism
/// the gradient all-reduce's instead); "" for runs in one process (their traces have no
/// ranks).
std::string process_lines(const std::vector<const RunResult*>& runs);

/// {"ranks": [{rank, host, clock_offset_us, alignment_error_us}], "transfer": {...}} of a
/// run whose stages ran as processes; null for one in one process.
nlohmann::json processes_json(const RunResult& run);

}  // namespace pipelab
