// pipelab/statistics.h — the one median every measured figure uses.
#pragma once

#include <algorithm>
#include <vector>

namespace pipelab {

/// The median of `values`: the middle value of an odd count, the mean of the two middle
/// values of an even count; 0 for none. (Taken by value: it sorts its copy.)
inline double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n == 0) return 0;
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace pipelab
