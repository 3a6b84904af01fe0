// busy_time.cpp — ex04 reference: length of a union of intervals (sort + sweep).
#include <algorithm>

#include "pipelab/exercise.h"

namespace pipelab {

double busy_time(std::vector<Interval> spans) {
  // Empty and negative-length spans cover nothing.
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Interval& i) { return !(i.end > i.start); }),
              spans.end());
  if (spans.empty()) return 0.0;
  std::sort(spans.begin(), spans.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  // Sweep left to right, keeping the current merged run [run_start, run_end); a span
  // that starts after run_end closes the run and adds its length.
  double total = 0.0;
  double run_start = spans.front().start;
  double run_end = spans.front().end;
  for (const Interval& span : spans) {
    if (span.start > run_end) {
      total += run_end - run_start;
      run_start = span.start;
      run_end = span.end;
    } else {
      run_end = std::max(run_end, span.end);
    }
  }
  return total + (run_end - run_start);
}

}  // namespace pipelab
