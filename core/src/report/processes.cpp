// processes.cpp — the report's lines and the JSON of a multi-process run (processes.h).
#include "pipelab/report/processes.h"

#include <algorithm>
#include <sstream>

#include "pipelab/report/report.h"  // format_number
#include "pipelab/statistics.h"     // median_of

namespace pipelab {

TransferCost transfer_cost(const Trace& trace) {
  TransferCost cost;
  std::vector<double> spans, sends;
  double bytes = 0;
  for (const TraceEvent& e : trace.events) {
    if (e.lane == Lane::Send) sends.push_back(e.dur_us);
    if (e.lane != Lane::Recv) continue;
    spans.push_back(e.dur_us);
    bytes += static_cast<double>(e.bytes);
  }
  if (spans.empty() || sends.empty()) return cost;
  cost.transfers = spans.size();
  cost.min_us = *std::min_element(spans.begin(), spans.end());
  cost.median_us = median_of(spans);
  cost.max_us = *std::max_element(spans.begin(), spans.end());
  cost.send_median_us = median_of(sends);
  cost.mean_bytes = bytes / static_cast<double>(spans.size());  // mean = Σ bytes / transfers
  return cost;
}

namespace {

// "# MPI_Allreduce of ..." for a run with a gradient all-reduce (data parallelism); "" without.
std::string all_reduce_line(const RunResult& run) {
  std::vector<double> spans;
  double bytes = 0;
  for (const TraceEvent& e : run.trace.events)
    if (e.action.kind == ActionKind::AllReduceGrads) {
      spans.push_back(e.dur_us);
      bytes = std::max(bytes, static_cast<double>(e.bytes));
    }
  if (spans.empty()) return "";
  std::ostringstream out;
  out << "# MPI_Allreduce of " << run.schedule.name() << " (every gradient, MPI_SUM in place): " << spans.size()
      << " ranks, " << format_number("%.2f", bytes / 1048576) << " MiB sent per rank (a ring's 2(K-1)/K of "
      << "the gradients); send lane (every rank arrived to the sum) median " << format_number("%.1f", median_of(spans))
      << " us, max " << format_number("%.1f", *std::max_element(spans.begin(), spans.end())) << " us\n";
  return out.str();
}

}  // namespace

std::string process_lines(const std::vector<const RunResult*>& runs) {
  const std::vector<RankClock>& ranks = runs.front()->trace.meta.ranks;
  if (ranks.empty()) return "";
  std::ostringstream out;
  out << "# processes: " << ranks.size() << " ranks, one device each, transfers by MPI_Isend/MPI_Irecv:";
  for (const RankClock& r : ranks) out << " rank " << r.rank << " on " << r.host << (&r == &ranks.back() ? "" : ",");
  out << "\n# clocks: on rank 0's by ping-pong (shortest of the round trips before and after the step); "
         "alignment error per rank (us):";
  for (const RankClock& r : ranks) out << " " << format_number("%.1f", r.alignment_error_us);
  out << "\n";
  for (const RunResult* run : runs) {
    out << all_reduce_line(*run);
    const TransferCost cost = transfer_cost(run->trace);
    if (cost.transfers == 0) continue;
    out << "# MPI transfers of " << run->schedule.name() << ": " << cost.transfers << " of "
        << format_number("%.1f", cost.mean_bytes / 1024) << " KiB; recv lane (send start to the receiver having "
        << "the bytes) min " << format_number("%.1f", cost.min_us) << " us (a receiver already waiting: the "
        << "wire's cost), median " << format_number("%.1f", cost.median_us) << ", max "
        << format_number("%.1f", cost.max_us) << "; send lane (MPI_Isend) median "
        << format_number("%.1f", cost.send_median_us) << " us\n";
  }
  return out.str();
}

nlohmann::json processes_json(const RunResult& run) {
  const std::vector<RankClock>& ranks = run.trace.meta.ranks;
  if (ranks.empty()) return nullptr;
  nlohmann::json j;
  j["ranks"] = nlohmann::json::array();
  for (const RankClock& r : ranks)
    j["ranks"].push_back({{"rank", r.rank},
                          {"host", r.host},
                          {"clock_offset_us", r.offset_us},
                          {"alignment_error_us", r.alignment_error_us}});
  const TransferCost cost = transfer_cost(run.trace);
  j["transfer"] = {{"transfers", cost.transfers},
                   {"min_us", cost.min_us},
                   {"median_us", cost.median_us},
                   {"max_us", cost.max_us},
                   {"send_median_us", cost.send_median_us},
                   {"mean_bytes", cost.mean_bytes}};
  return j;
}

}  // namespace pipelab
