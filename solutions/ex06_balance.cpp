// ex06_balance.cpp — ex06 reference: contiguous partition minimizing the largest stage cost.
//
// Method: binary search over the answer T + a greedy feasibility test.
//   feasible(T): walk the layers left to right, extending the current stage while its
//   cost stays <= T, opening a new stage otherwise; feasible iff it needs <= K stages.
// Greedy is optimal for a fixed T: a stage that reaches as far right as possible never
// leaves the remaining stages more work. feasible(T) is monotone in T, so the optimum is
// the smallest feasible T.
//
// Floating point: a stage's cost is summed left to right from 0.0, exactly as
// stage_costs() does, and adding a cost >= 0 never makes a rounded sum smaller, so the
// monotonicity arguments hold for the rounded sums too. Non-negative doubles are ordered
// like their bit patterns read as unsigned integers, so binary searching the bits finds
// the smallest feasible double exactly, in at most 64 steps — no epsilon, no tolerance.
// Cost: O(64 L).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

namespace {

std::uint64_t bits_of(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double double_of(std::uint64_t bits) {
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Number of stages the greedy needs when no stage may cost more than `limit`
// (limit >= every single layer cost).
int greedy_stage_count(const std::vector<double>& costs, double limit) {
  int stages = 1;
  double stage_cost = 0.0;
  for (double c : costs) {
    if (stage_cost + c <= limit) {
      stage_cost += c;
    } else {
      ++stages;
      stage_cost = 0.0 + c;
    }
  }
  return stages;
}

}  // namespace

Partition balanced_partition(const std::vector<double>& layer_costs, int devices) {
  const int layers = static_cast<int>(layer_costs.size());
  if (devices < 1 || devices > layers)
    PIPELAB_THROW("cannot split " + std::to_string(layers) + " layers over " + std::to_string(devices) +
                      " devices",
                  "every stage needs at least one layer: use 1 <= devices <= layers");
  double largest = 0.0;  // the answer is at least the costliest single layer
  double total = 0.0;    // and at most everything on one stage
  for (int layer = 0; layer < layers; ++layer) {
    const double c = layer_costs[layer];
    if (!(c >= 0.0))
      PIPELAB_THROW("layer " + std::to_string(layer) + " has cost " + std::to_string(c),
                    "layer costs must be non-negative numbers");
    largest = std::max(largest, c);
    total += c;
  }

  // Smallest T in [largest, total] with feasible(T); feasible(total) always holds.
  std::uint64_t lo = bits_of(largest);
  std::uint64_t hi = bits_of(total);
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (greedy_stage_count(layer_costs, double_of(mid)) <= devices) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const double limit = double_of(lo);

  // Rebuild with exactly K non-empty stages: the same greedy, but a stage also closes
  // when the layers left are just enough for one per remaining stage. Those remaining
  // stages then hold one layer each, whose cost is <= largest <= limit.
  Partition p;
  p.boundaries.assign(1, 0);
  double stage_cost = 0.0;
  for (int layer = 0; layer < layers; ++layer) {
    const int stage = static_cast<int>(p.boundaries.size()) - 1;  // the stage being filled
    const bool non_empty = layer > p.boundaries.back();
    const bool over = stage_cost + layer_costs[layer] > limit;
    // Closing here leaves layers - layer layers for devices - stage - 1 stages.
    const bool must_close = layers - layer == devices - stage - 1;
    if (stage < devices - 1 && non_empty && (over || must_close)) {
      p.boundaries.push_back(layer);
      stage_cost = 0.0;
    }
    stage_cost += layer_costs[layer];
  }
  p.boundaries.push_back(layers);
  return p;
}

}  // namespace pipelab
