// test_busy_time.cpp — busy_time (length of a union of intervals) against literals, a
// unit-grid count for integer endpoints, and an O(n^2) elementary-segment union.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "pipelab/exercise.h"

namespace pipelab {
namespace {

TEST(BusyTime, Literals) {
  EXPECT_EQ(busy_time({}), 0.0);
  EXPECT_EQ(busy_time({{1, 4}}), 3.0);
  EXPECT_EQ(busy_time({{0, 1}, {2, 3}}), 2.0);       // disjoint
  EXPECT_EQ(busy_time({{0, 10}, {2, 3}}), 10.0);     // nested
  EXPECT_EQ(busy_time({{0, 2}, {1, 3}}), 3.0);       // overlapping
  EXPECT_EQ(busy_time({{0, 1}, {1, 2}}), 2.0);       // touching
  EXPECT_EQ(busy_time({{5, 6}, {0, 1}, {0.5, 5.5}}), 6.0);  // unsorted chain
  EXPECT_EQ(busy_time({{0, 2}, {0, 2}}), 2.0);       // duplicates
}

TEST(BusyTime, EmptyAndNegativeSpansCountNothing) {
  EXPECT_EQ(busy_time({{3, 3}}), 0.0);
  EXPECT_EQ(busy_time({{5, 2}}), 0.0);
  EXPECT_EQ(busy_time({{0, 1}, {5, 2}, {4, 4}}), 1.0);
  // A negative-length span must not extend a real one it "overlaps".
  EXPECT_EQ(busy_time({{0, 1}, {0.5, -3}}), 1.0);
  EXPECT_EQ(busy_time({{10, 0}, {2, 3}}), 1.0);
}

// Integer endpoints in [0, 100): count covered unit cells [t, t+1).
TEST(BusyTime, MatchesUnitGridForIntegerEndpoints) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> point(0, 100);
  std::uniform_int_distribution<int> count(0, 30);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<Interval> spans(count(rng));
    std::vector<bool> covered(100, false);
    for (auto& span : spans) {
      span = {static_cast<double>(point(rng)), static_cast<double>(point(rng))};
      for (int t = static_cast<int>(span.start); t < static_cast<int>(span.end); ++t) covered[t] = true;
    }
    const double expected = static_cast<double>(std::count(covered.begin(), covered.end(), true));
    EXPECT_EQ(busy_time(spans), expected) << "trial " << trial;
  }
}

// Real endpoints: cut the line at every endpoint; an elementary segment is busy if any
// span contains its midpoint. O(n^2).
double union_by_segments(const std::vector<Interval>& spans) {
  std::vector<double> cuts;
  for (const auto& s : spans) cuts.push_back(s.start), cuts.push_back(s.end);
  std::sort(cuts.begin(), cuts.end());
  double total = 0.0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double mid = 0.5 * (cuts[i] + cuts[i + 1]);
    for (const auto& s : spans) {
      if (s.start <= mid && mid < s.end) {
        total += cuts[i + 1] - cuts[i];
        break;
      }
    }
  }
  return total;
}

TEST(BusyTime, MatchesSegmentUnionForRealEndpoints) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> start(0.0, 1000.0);
  std::uniform_real_distribution<double> length(-20.0, 80.0);  // some negative-length spans
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<Interval> spans(1 + trial % 60);
    for (auto& s : spans) {
      s.start = start(rng);
      s.end = s.start + length(rng);
    }
    const double expected = union_by_segments(spans);
    EXPECT_NEAR(busy_time(spans), expected, 1e-9 * std::max(1.0, expected)) << "trial " << trial;
  }
}

}  // namespace
}  // namespace pipelab
