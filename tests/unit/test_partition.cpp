// test_partition.cpp — Partition helpers, even_partition, and balanced_partition against a
// brute-force enumeration of every contiguous partition.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/model/partition.h"

namespace pipelab {
namespace {

Partition with(std::vector<int> boundaries) {
  Partition p;
  p.boundaries = std::move(boundaries);
  return p;
}

std::string error_of(const Partition& p, int layers, int stages) {
  try {
    check_partition(p, layers, stages);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

// ---------------------------------------------------------------- Partition helpers

TEST(Partition, AccessorsAndStageOf) {
  const Partition p = with({0, 3, 6, 8, 10});
  EXPECT_EQ(p.stages(), 4);
  EXPECT_EQ(p.layers(), 10);
  EXPECT_EQ(p.layer_count(0), 3);
  EXPECT_EQ(p.layer_count(3), 2);
  const int owner[10] = {0, 0, 0, 1, 1, 1, 2, 2, 3, 3};
  for (int layer = 0; layer < 10; ++layer) EXPECT_EQ(p.stage_of(layer), owner[layer]) << layer;
  EXPECT_THROW(p.stage_of(10), Error);
  EXPECT_THROW(p.stage_of(-1), Error);
}

TEST(Partition, DescribeListsHalfOpenRanges) {
  EXPECT_EQ(describe(with({0, 4, 8, 12, 16})), "[0,4) [4,8) [8,12) [12,16)");
  EXPECT_EQ(describe(with({0, 1})), "[0,1)");
}

TEST(Partition, MethodNames) {
  EXPECT_STREQ(to_string(PartitionMethod::Even), "even");
  EXPECT_STREQ(to_string(PartitionMethod::Balanced), "balanced");
}

TEST(Partition, CheckAcceptsValid) {
  EXPECT_NO_THROW(check_partition(with({0, 3, 6, 8, 10}), 10, 4));
  EXPECT_NO_THROW(check_partition(with({0, 5}), 5, 1));
}

TEST(Partition, CheckRejectsEachKindOfMistake) {
  EXPECT_NE(error_of(with({0, 5, 10}), 10, 3).find("3 boundaries, expected 4"), std::string::npos);
  EXPECT_NE(error_of(with({1, 5, 10}), 10, 2).find("starts at layer 1"), std::string::npos);
  EXPECT_NE(error_of(with({0, 5, 9}), 10, 2).find("ends at layer 9, expected 10"), std::string::npos);
  EXPECT_NE(error_of(with({0, 5, 5, 10}), 10, 3).find("stage 1 owns no layers"), std::string::npos);
  EXPECT_NE(error_of(with({0, 6, 5, 10}), 10, 3).find("stage 1 owns no layers"), std::string::npos);
  EXPECT_NE(error_of(with({0, 1, 2, 3}), 2, 3).find("cannot split 2 layers into 3 stages"),
            std::string::npos);
  EXPECT_NE(error_of(with({0}), 0, 0).find("cannot split"), std::string::npos);
}

TEST(Partition, StageCostsSumsRangesAndAddsExtraToLast) {
  const Partition p = with({0, 2, 3, 5});
  const std::vector<double> costs = {1, 2, 4, 8, 16};
  EXPECT_EQ(stage_costs(p, costs), (std::vector<double>{3, 4, 24}));
  EXPECT_EQ(stage_costs(p, costs, 0.5), (std::vector<double>{3, 4, 24.5}));
  EXPECT_THROW(stage_costs(p, {1, 2, 3}), Error);
}

// ---------------------------------------------------------------- even_partition

TEST(EvenPartition, Literals) {
  EXPECT_EQ(even_partition(10, 4).boundaries, (std::vector<int>{0, 3, 6, 8, 10}));
  EXPECT_EQ(even_partition(8, 4).boundaries, (std::vector<int>{0, 2, 4, 6, 8}));
  EXPECT_EQ(even_partition(5, 5).boundaries, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(even_partition(7, 1).boundaries, (std::vector<int>{0, 7}));
  EXPECT_EQ(even_partition(7, 3).boundaries, (std::vector<int>{0, 3, 5, 7}));
}

TEST(EvenPartition, SizesDifferByAtMostOneExtraLayersFirst) {
  for (int layers = 1; layers <= 40; ++layers) {
    for (int k = 1; k <= layers; ++k) {
      const Partition p = even_partition(layers, k);
      ASSERT_NO_THROW(check_partition(p, layers, k)) << layers << "/" << k;
      for (int s = 0; s < k; ++s)
        EXPECT_EQ(p.layer_count(s), layers / k + (s < layers % k ? 1 : 0)) << layers << "/" << k;
    }
  }
}

TEST(EvenPartition, RejectsMoreDevicesThanLayers) {
  EXPECT_THROW(even_partition(3, 4), Error);
  EXPECT_THROW(even_partition(3, 0), Error);
}

// ---------------------------------------------------------------- balanced_partition

// Stage cost as the definition says: the layer costs of the range, added left to right from 0.
double range_cost(const std::vector<double>& costs, int first, int end) {
  double sum = 0.0;
  for (int i = first; i < end; ++i) sum += costs[i];
  return sum;
}

// Minimum over all C(L-1, K-1) contiguous partitions of the largest stage cost.
double brute_force_best(const std::vector<double>& costs, int k) {
  const int layers = static_cast<int>(costs.size());
  double best = std::numeric_limits<double>::infinity();
  // Each subset of the L-1 gaps with exactly K-1 cuts is one partition.
  for (unsigned mask = 0; mask < (1u << (layers - 1)); ++mask) {
    if (__builtin_popcount(mask) != k - 1) continue;
    double worst = 0.0;
    int first = 0;
    for (int gap = 1; gap <= layers; ++gap) {
      if (gap == layers || (mask >> (gap - 1)) & 1u) {
        worst = std::max(worst, range_cost(costs, first, gap));
        first = gap;
      }
    }
    best = std::min(best, worst);
  }
  return best;
}

double largest_stage(const Partition& p, const std::vector<double>& costs) {
  double worst = 0.0;
  for (int s = 0; s < p.stages(); ++s) worst = std::max(worst, range_cost(costs, p.first_layer(s), p.end_layer(s)));
  return worst;
}

void expect_optimal(const std::vector<double>& costs, int k) {
  const Partition p = balanced_partition(costs, k);
  ASSERT_NO_THROW(check_partition(p, static_cast<int>(costs.size()), k)) << describe(p);
  // Exact: the same sums in the same order, so no tolerance.
  EXPECT_EQ(largest_stage(p, costs), brute_force_best(costs, k))
      << "K=" << k << " L=" << costs.size() << " got " << describe(p);
}

TEST(BalancedPartition, SmallLiterals) {
  const Partition p = balanced_partition({1, 1, 1, 1, 4}, 2);
  EXPECT_EQ(p.boundaries, (std::vector<int>{0, 4, 5}));
  EXPECT_EQ(balanced_partition({5, 1, 1, 1, 1, 1}, 2).boundaries, (std::vector<int>{0, 1, 6}));
  EXPECT_EQ(balanced_partition({3, 3, 3}, 3).boundaries, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(balanced_partition({2, 7}, 1).boundaries, (std::vector<int>{0, 2}));
}

TEST(BalancedPartition, MatchesBruteForceOnRandomCosts) {
  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> real(0.0, 10.0);
  std::uniform_int_distribution<int> small(0, 5);
  for (int trial = 0; trial < 300; ++trial) {
    const int layers = 1 + trial % 10;
    std::vector<double> costs(layers);
    for (double& c : costs) c = trial % 3 == 0 ? small(rng) : real(rng);  // ties, zeros, fractions
    for (int k = 1; k <= layers; ++k) expect_optimal(costs, k);
  }
}

TEST(BalancedPartition, ExactWhereRoundingDecides) {
  // 0.1 + 0.2 > 0.3 in binary floating point; the optimum must respect the rounded sums.
  expect_optimal({0.1, 0.2, 0.3}, 2);
  expect_optimal({0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.6}, 3);
  expect_optimal({1e16, 1, 1, 1e16, 1, 1}, 2);
  expect_optimal({0, 0, 0, 0}, 3);
  expect_optimal({1e-300, 3e-300, 2e-300, 1e-300}, 2);
}

TEST(BalancedPartition, EvenCostsGiveEvenSplit) {
  const std::vector<double> costs(12, 1.5);
  EXPECT_EQ(balanced_partition(costs, 4).boundaries, (std::vector<int>{0, 3, 6, 9, 12}));
}

TEST(BalancedPartition, ManyLayersIsFastAndValid) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> real(0.5, 2.0);
  std::vector<double> costs(100000);
  for (double& c : costs) c = real(rng);
  const Partition p = balanced_partition(costs, 64);
  ASSERT_NO_THROW(check_partition(p, 100000, 64));
  // No stage exceeds the perfect share by more than one layer's cost.
  double total = 0.0;
  for (double c : costs) total += c;
  EXPECT_LE(largest_stage(p, costs), total / 64 + 2.0);
}

TEST(BalancedPartition, RejectsBadInput) {
  EXPECT_THROW(balanced_partition({1, 2}, 3), Error);
  EXPECT_THROW(balanced_partition({1, 2}, 0), Error);
  EXPECT_THROW(balanced_partition({1, -2}, 1), Error);
  EXPECT_THROW(balanced_partition({1, std::numeric_limits<double>::quiet_NaN()}, 1), Error);
}

}  // namespace
}  // namespace pipelab
