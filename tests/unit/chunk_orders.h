// chunk_orders.h — each device's compute actions of a two-chunk (V) schedule as one line
// of text, for orders written out by hand in the tests: "F0 F1 F0u I0u W0u ..." (u: chunk 1,
// the way back up the V); sends, receives and the optimizer left out.
#pragma once

#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

using Orders = std::vector<std::string>;  // one line per device

inline Orders chunk_compute_orders(const Schedule& s) {
  Orders out;
  for (const auto& program : s.per_stage) {
    std::string line;
    for (const Action& a : program)
      if (is_compute(a.kind))
        line += (line.empty() ? "" : " ") + std::string(short_label(a.kind)) + std::to_string(a.microbatch) +
                (a.chunk == 1 ? "u" : "");
    out.push_back(line);
  }
  return out;
}

}  // namespace pipelab
