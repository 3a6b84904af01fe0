// test_memory_lines.cpp — simplify_polyline: fewer points, never more than the tolerance
// off the line it simplifies.
//
// The check is independent of the algorithm: the output is a subsequence of the input with
// the same ends, and every dropped point is within the tolerance of the output segment that
// replaces it (between the kept points around it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "pipelab_viz/memory_series.h"

namespace pipelab::viz {
namespace {

// Distance from p to segment a–b, another way than the library's clamped projection: the
// height of the triangle a, b, p (|cross| / |ab|) where p's foot falls on the segment
// (both angles at a and b acute: non-negative dot products), else the nearer end.
double segment_distance(Vec2 p, Vec2 a, Vec2 b) {
  const double abx = b.x - a.x, aby = b.y - a.y, apx = p.x - a.x, apy = p.y - a.y, bpx = p.x - b.x, bpy = p.y - b.y;
  const double length = std::hypot(abx, aby);
  if (length > 0 && abx * apx + aby * apy >= 0 && -abx * bpx - aby * bpy >= 0)
    return std::fabs(abx * apy - aby * apx) / length;
  return std::min(std::hypot(apx, apy), std::hypot(bpx, bpy));
}

// Where each point of `part` sits in `whole` (matched in order), or empty when `part` is
// not a subsequence of `whole`.
std::vector<std::size_t> positions_in(const std::vector<Vec2>& part, const std::vector<Vec2>& whole) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < whole.size() && at.size() < part.size(); ++i)
    if (whole[i].x == part[at.size()].x && whole[i].y == part[at.size()].y) at.push_back(i);
  return at.size() == part.size() ? at : std::vector<std::size_t>{};
}

void expect_within(const std::vector<Vec2>& line, const std::vector<Vec2>& simple, float tolerance) {
  ASSERT_GE(simple.size(), 2u);
  const std::vector<std::size_t> kept = positions_in(simple, line);
  ASSERT_EQ(kept.size(), simple.size()) << "only the line's own points, in order";
  EXPECT_EQ(simple.front().x, line.front().x);
  EXPECT_EQ(simple.front().y, line.front().y);
  EXPECT_EQ(simple.back().x, line.back().x);
  EXPECT_EQ(simple.back().y, line.back().y);
  for (std::size_t k = 0; k + 1 < kept.size(); ++k)
    for (std::size_t i = kept[k] + 1; i < kept[k + 1]; ++i)
      ASSERT_LE(segment_distance(line[i], simple[k], simple[k + 1]), tolerance + 1e-3)
          << "point " << i << " of " << line.size() << ", dropped between kept points " << kept[k] << " and "
          << kept[k + 1];
}

TEST(MemoryLines, SimplifiedRampOfSubPixelStepsIsItsEnds) {
  // GPipe's stash filling up: 1000 steps of 0.3 px right and 0.1 px up.
  std::vector<Vec2> ramp;
  for (int i = 0; i < 1000; ++i) {
    ramp.push_back({0.3f * static_cast<float>(i), 500 - 0.1f * static_cast<float>(i)});
    ramp.push_back({0.3f * static_cast<float>(i + 1), 500 - 0.1f * static_cast<float>(i)});
  }
  const std::vector<Vec2> simple = simplify_polyline(ramp, 0.5f);
  expect_within(ramp, simple, 0.5f);
  EXPECT_LE(simple.size(), 4u) << "a staircase within half a pixel of a straight line";
}

TEST(MemoryLines, SimplifiedStepFunctionKeepsItsCorners) {
  const std::vector<Vec2> steps{{0, 100}, {100, 100}, {100, 0}, {200, 0}, {200, 50}, {400, 50}};
  EXPECT_EQ(simplify_polyline(steps, 0.5f).size(), steps.size()) << "every corner is more than 0.5 px off";
  const std::vector<Vec2> with_repeats{{0, 100}, {50, 100}, {100, 100}, {100, 0}, {200, 0}, {200, 0}};
  const std::vector<Vec2> simple = simplify_polyline(with_repeats, 0.5f);
  EXPECT_EQ(simple.size(), 4u) << "points on a straight run (and repeats) go";
  expect_within(with_repeats, simple, 0.5f);
}

TEST(MemoryLines, SimplifiedRandomStepFunctionsStayWithinTheTolerance) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dx(0.0f, 3.0f), dy(-4.0f, 4.0f);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<Vec2> line{{0, 100}};
    for (int i = 0; i < 400; ++i) {
      const Vec2 last = line.back();
      line.push_back({last.x + dx(rng), last.y});                           // hold
      line.push_back({line.back().x, std::clamp(last.y + dy(rng), 0.0f, 200.0f)});  // jump
    }
    for (float tolerance : {0.25f, 0.5f, 2.0f}) expect_within(line, simplify_polyline(line, tolerance), tolerance);
  }
  EXPECT_TRUE(simplify_polyline({}, 0.5f).empty());
  EXPECT_EQ(simplify_polyline({{1, 2}}, 0.5f).size(), 1u);
}

}  // namespace
}  // namespace pipelab::viz
