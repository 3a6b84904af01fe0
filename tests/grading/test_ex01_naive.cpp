// test_ex01_naive.cpp — graded: ex01 even_partition and naive_schedule (lab 01).
// Oracles: hand-written partitions and programs, validate(), a unit-time simulation.
// A test that is not a literal needs valid output first (prerequisites.h).
#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

TEST(EvenPartition, Literals) {
  const struct {
    int layers, devices;
    std::vector<int> boundaries;
  } cases[] = {{10, 4, {0, 3, 6, 8, 10}}, {8, 4, {0, 2, 4, 6, 8}}, {5, 5, {0, 1, 2, 3, 4, 5}},
               {7, 1, {0, 7}},           {7, 3, {0, 3, 5, 7}},    {16, 4, {0, 4, 8, 12, 16}}};
  for (const auto& c : cases) {
    const Partition p = even_partition(c.layers, c.devices);
    GRADE_EXPECT(p.boundaries == c.boundaries,
                 "even_partition(" << c.layers << ", " << c.devices << ") gives " << describe(p) << ", expected "
                                   << [&] {
                                        Partition e;
                                        e.boundaries = c.boundaries;
                                        return describe(e);
                                      }());
  }
}

TEST(EvenPartition, SizesDifferByAtMostOneLargestFirst) {
  for (int layers = 1; layers <= 24; ++layers) {
    for (int k = 1; k <= layers; ++k) {
      const Partition p = even_partition(layers, k);
      const std::string problem = partition_problem(p, layers, k);
      GRADE_ASSERT(problem.empty(), "even_partition(" << layers << ", " << k << "): " << problem);
      for (int s = 0; s < k; ++s) {
        // The first L % K stages get ceil(L / K) layers, the rest floor(L / K).
        const int expected = layers / k + (s < layers % k ? 1 : 0);
        GRADE_ASSERT(p.layer_count(s) == expected, "even_partition(" << layers << ", " << k << "): stage " << s
                                                                     << " owns " << p.layer_count(s)
                                                                     << " layers, expected " << expected << " ("
                                                                     << describe(p) << ")");
      }
    }
  }
}

TEST(EvenPartition, RejectsImpossibleSplits) {
  // Refusing bad arguments earns nothing while the good ones give invalid partitions.
  GRADE_REQUIRE(valid_even_partition());
  for (const auto& args : {std::pair{3, 4}, std::pair{3, 0}, std::pair{5, -1}}) {
    const int layers = args.first, k = args.second;  // named copies: lambdas cannot capture bindings in C++17
    const std::string why = throws_error([&] { even_partition(layers, k); });
    GRADE_EXPECT(why.empty(), "even_partition(" << layers << ", " << k << ") must throw a pipelab::Error: " << why);
  }
}

TEST(NaiveSchedule, ExactProgramThreeStages) {
  const Schedule s = naive_schedule(3);
  GRADE_EXPECT(s.name() == "naive", "name is '" << s.name() << "', expected 'naive'");
  GRADE_EXPECT(s.stages == 3 && s.microbatches == 1,
               "stages=" << s.stages << " microbatches=" << s.microbatches << ", expected 3 and 1");
  const std::string diff = program_difference(s, {{F(0, 0), SA(0, 0), RG(0, 0), B(0, 0), Opt(0)},
                                                  {RA(1, 0), F(1, 0), SA(1, 0), RG(1, 0), B(1, 0), SG(1, 0), Opt(1)},
                                                  {RA(2, 0), F(2, 0), B(2, 0), SG(2, 0), Opt(2)}});
  GRADE_EXPECT(diff.empty(), "naive_schedule(3): " << diff);
  const std::string one = program_difference(naive_schedule(1), {{F(0, 0), B(0, 0), Opt(0)}});
  GRADE_EXPECT(one.empty(), "naive_schedule(1) (one stage sends nothing): " << one);
}

TEST(NaiveSchedule, ValidForAnyK) {
  // The sweep every other non-literal naive test requires (prerequisites.h).
  const std::string problem = naive_schedule_problem();
  GRADE_ASSERT(problem.empty(), problem);
  for (int k = 1; k <= 16; ++k) {
    const Schedule s = naive_schedule(k);
    GRADE_ASSERT(s.name() == "naive", "naive_schedule(" << k << ") is named '" << s.name() << "', expected 'naive'");
  }
  const std::string why = throws_error([] { naive_schedule(0); });
  GRADE_EXPECT(why.empty(), "naive_schedule(0) must throw a pipelab::Error: " << why);
}

TEST(NaiveSchedule, UtilizationIsOneOverK) {
  // F takes 1, B takes 2: one batch visits the stages one at a time, so the step lasts
  // K (1 + 2) and each stage is busy 1 + 2: utilization 1 / K. The unit-time model runs
  // an invalid program too (B before F), so validity is checked first.
  GRADE_REQUIRE(valid_naive_schedule());
  for (int k = 1; k <= 8; ++k) {
    const TimedRun run = unit_time_run(naive_schedule(k), 1.0, 2.0);
    GRADE_ASSERT(run.error.empty(), "naive_schedule(" << k << ") cannot run: " << run.error);
    GRADE_EXPECT(run.makespan == 3.0 * k, "naive_schedule(" << k << ") with F = 1, B = 2 takes " << run.makespan
                                                            << " time units, expected K (1 + 2) = " << 3 * k);
    for (int s = 0; s < k; ++s)
      GRADE_EXPECT(run.busy[s] == 3.0, "naive_schedule(" << k << "): stage " << s << " is busy " << run.busy[s]
                                                         << ", expected one F and one B = 3");
  }
}

}  // namespace
}  // namespace pipelab::grading
