// ex05_compare.cpp — ex05: naive vs GPipe, one row per run (lab 03).
//
// Contract: core/include/pipelab/exercise.h, ex05. Hints: labs/03_microbatches/README.md,
// Part 3. Check your work: scripts/grade ex05 (needs ex01-ex04: it runs the runtime).
#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

std::vector<UtilizationRow> utilization_table(const RunConfig& config,
                                              const std::vector<int>& microbatch_counts) {
  // TODO(ex05): utilization_table, as exercise.h (ex05) states it.
  //   Example: microbatch_counts {4, 8} gives three rows: naive (M 1), gpipe M 4, gpipe M 8.
  (void)config, (void)microbatch_counts;
  throw NotImplemented("ex05: utilization_table");
}

}  // namespace pipelab
