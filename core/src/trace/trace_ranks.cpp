// trace_ranks.cpp — `pipelab.ranks` (trace_ranks.h).
#include "trace_ranks.h"

#include "pipelab/trace/trace_format.h"  // kMaxTraceDevices

namespace pipelab::trace_detail {

json ranks_json(const std::vector<RankClock>& ranks) {
  json rows = json::array();
  for (const RankClock& r : ranks)
    rows.push_back({{"rank", r.rank},
                    {"host", r.host},
                    {"clock_offset_us", r.offset_us},
                    {"alignment_error_us", r.alignment_error_us}});
  return rows;
}

void read_ranks(const Fields& f, const json& ranks, TraceMeta& meta) {
  f.array(ranks, "pipelab.ranks");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const std::string at = "pipelab.ranks[" + std::to_string(i) + "]";
    const json& row = f.object(ranks[i], at);
    RankClock r;
    r.rank = static_cast<int>(f.integer(f.require(row, "rank", at + ".rank"), at + ".rank", 0, kMaxTraceDevices - 1));
    r.host = f.text(f.require(row, "host", at + ".host"), at + ".host");
    r.offset_us = f.finite(f.require(row, "clock_offset_us", at + ".clock_offset_us"), at + ".clock_offset_us");
    r.alignment_error_us =
        f.finite(f.require(row, "alignment_error_us", at + ".alignment_error_us"), at + ".alignment_error_us");
    meta.ranks.push_back(std::move(r));
  }
}

}  // namespace pipelab::trace_detail
