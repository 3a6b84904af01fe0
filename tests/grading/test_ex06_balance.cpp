// test_ex06_balance.cpp — graded: ex06 balanced_partition (lab 05).
// Oracle: every contiguous partition tried (brute force), and a dynamic program for
// larger L. Any optimum is accepted: the largest stage cost must equal the optimum's.
// Every optimality test checks each partition is valid before its cost; the input
// check needs valid partitions first (prerequisites.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

std::string costs_text(const std::vector<double>& costs) {
  std::ostringstream out;
  out << "{";
  for (std::size_t i = 0; i < costs.size(); ++i) out << (i ? ", " : "") << costs[i];
  out << "}";
  return out.str();
}

// One graded call: per-layer costs and K.
struct PartitionCase {
  std::vector<double> costs;
  int k;
};

// BalancedPartition.OptimalAgainstBruteForce's inputs: random integer costs (zeros included).
std::vector<PartitionCase> brute_force_cases() {
  std::mt19937 rng(7);
  std::vector<PartitionCase> cases;
  for (int trial = 0; trial < 300; ++trial) {
    const int layers = 1 + static_cast<int>(rng() % 10);
    const int k = 1 + static_cast<int>(rng() % layers);
    std::vector<double> costs(layers);
    for (double& c : costs) c = static_cast<double>(rng() % 20);
    cases.push_back({costs, k});
  }
  return cases;
}

// BalancedPartition.EveryStageNonEmpty's inputs: zero-cost layers tempt a greedy into
// empty or missing stages.
const std::vector<PartitionCase> kNonEmptyCases = {
    {{0, 0, 0, 5}, 3}, {{0, 0, 0, 0}, 4}, {{9, 0, 0, 0, 0}, 5}, {{1, 1, 1, 1, 1, 1, 1, 1}, 8}, {{8, 1, 1, 1, 1}, 4}};

// "" when balanced_partition gives a valid partition for every input of the tests
// named here, else the first invalid one, why, and the test that grades it.
std::string balanced_partition_problem() {
  const struct {
    const char* test;
    std::vector<PartitionCase> cases;
  } sweeps[] = {{"BalancedPartition.EveryStageNonEmpty", kNonEmptyCases},
                {"BalancedPartition.OptimalAgainstBruteForce", brute_force_cases()}};
  for (const auto& sweep : sweeps)
    for (const PartitionCase& c : sweep.cases) {
      const std::string problem = partition_problem(balanced_partition(c.costs, c.k), static_cast<int>(c.costs.size()), c.k);
      if (!problem.empty())
        return needs_first("balanced_partition(" + costs_text(c.costs) + ", K=" + std::to_string(c.k) +
                               ") is not a valid partition: " + problem,
                           "a valid partition", sweep.test);
    }
  return "";
}

// Checks one call; returns false (after reporting) if it failed.
bool check_optimal(const std::vector<double>& costs, int k, double optimum) {
  const Partition p = balanced_partition(costs, k);
  const std::string problem = partition_problem(p, static_cast<int>(costs.size()), k);
  if (!problem.empty()) {
    ADD_FAILURE() << "balanced_partition(" << costs_text(costs) << ", K=" << k << "): " << problem;
    return false;
  }
  const double got = max_stage_cost(p, costs);
  // Integer costs are exact; fractional ones may round differently (prefix sums vs
  // left-to-right sums), so an optimum within 1e-9 relative counts.
  if (got > optimum + 1e-9 * std::max(1.0, optimum)) {
    ADD_FAILURE() << "balanced_partition(" << costs_text(costs) << ", K=" << k << ") = " << describe(p)
                  << ": largest stage costs " << got << ", the best possible is " << optimum;
    return false;
  }
  return true;
}

TEST(BalancedPartition, Literals) {
  EXPECT_TRUE(check_optimal({1, 1, 1, 1, 4}, 2, 4));
  EXPECT_TRUE(check_optimal({5, 1, 1, 1, 1, 1}, 2, 5));
  EXPECT_TRUE(check_optimal({3, 3, 3}, 3, 3));
  EXPECT_TRUE(check_optimal({2, 7}, 1, 9));
  EXPECT_TRUE(check_optimal({1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 17));  // [1..5] [6,7] [8,9]
  // The unique optimum here: {0, 1, 6}.
  const Partition p = balanced_partition({5, 1, 1, 1, 1, 1}, 2);
  GRADE_EXPECT(p.boundaries == (std::vector<int>{0, 1, 6}),
               "balanced_partition({5, 1, 1, 1, 1, 1}, 2) = " << describe(p) << ", expected [0,1) [1,6)");
}

TEST(BalancedPartition, OptimalAgainstBruteForce) {
  for (const PartitionCase& c : brute_force_cases())
    if (!check_optimal(c.costs, c.k, brute_force_min_max(c.costs, c.k))) return;
}

TEST(BalancedPartition, OptimalWithFractionalCosts) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> cost(0.01, 3.0);
  for (int trial = 0; trial < 200; ++trial) {
    const int layers = 2 + static_cast<int>(rng() % 10);
    const int k = 1 + static_cast<int>(rng() % layers);
    std::vector<double> costs(layers);
    for (double& c : costs) c = cost(rng);
    if (!check_optimal(costs, k, brute_force_min_max(costs, k))) return;
  }
}

TEST(BalancedPartition, EveryStageNonEmpty) {
  const double optimum[] = {5, 0, 9, 1, 8};  // worked out by hand, in kNonEmptyCases' order
  for (std::size_t i = 0; i < kNonEmptyCases.size(); ++i)
    EXPECT_TRUE(check_optimal(kNonEmptyCases[i].costs, kNonEmptyCases[i].k, optimum[i]));
}

TEST(BalancedPartition, ManyLayers) {
  // L = 64 equal layers over 8 stages: 8 layers each.
  EXPECT_TRUE(check_optimal(std::vector<double>(64, 2.5), 8, 20.0));
  // L = 120 random integers over 12 stages, against a dynamic program:
  // best[j][s] = min over i of max(best[i][s-1], cost(i..j)).
  std::mt19937 rng(3);
  std::vector<double> costs(120);
  for (double& c : costs) c = 1.0 + static_cast<double>(rng() % 50);
  const int layers = 120, k = 12;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> prefix(layers + 1, 0.0);
  for (int i = 0; i < layers; ++i) prefix[i + 1] = prefix[i] + costs[i];  // exact: integers
  std::vector<std::vector<double>> best(layers + 1, std::vector<double>(k + 1, inf));
  best[0][0] = 0;
  for (int s = 1; s <= k; ++s)
    for (int j = s; j <= layers; ++j)
      for (int i = s - 1; i < j; ++i) best[j][s] = std::min(best[j][s], std::max(best[i][s - 1], prefix[j] - prefix[i]));
  EXPECT_TRUE(check_optimal(costs, k, best[layers][k]));
}

TEST(BalancedPartition, RejectsBadArguments) {
  // Refusing bad arguments earns nothing while the good ones give invalid partitions.
  GRADE_REQUIRE(balanced_partition_problem());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const struct {
    std::vector<double> costs;
    int k;
    const char* what;
  } cases[] = {{{1, 2}, 3, "more devices than layers"},
               {{1, 2}, 0, "zero devices"},
               {{1, -2}, 1, "a negative cost"},
               {{1, nan}, 1, "a NaN cost"}};
  for (const auto& c : cases) {
    const std::string why = throws_error([&] { balanced_partition(c.costs, c.k); });
    GRADE_EXPECT(why.empty(), "balanced_partition with " << c.what << " must throw a pipelab::Error: " << why);
  }
}

}  // namespace
}  // namespace pipelab::grading
