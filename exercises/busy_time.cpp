// busy_time.cpp — ex04: length of a union of intervals (lab 01).
//
// Contract: core/include/pipelab/exercise.h. Check your work: scripts/grade ex04
#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

double busy_time(std::vector<Interval> spans) {
  // TODO(ex04): the total length covered by `spans`, overlaps counted once.
  //   - Spans with end <= start cover nothing: drop them.
  //   - Sort by start, then sweep left to right keeping the current merged run
  //     [run_start, run_end): a span that starts after run_end closes the run (add its
  //     length); otherwise it extends run_end.
  //   Example: {[0,2), [1,3), [5,6)} -> 3 + 1 = 4.
  (void)spans;
  throw NotImplemented("ex04: busy_time");
}

}  // namespace pipelab
