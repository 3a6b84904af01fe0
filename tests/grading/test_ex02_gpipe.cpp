// test_ex02_gpipe.cpp — graded: ex02 gpipe_schedule (lab 02).
// Oracles: hand-written programs, validate(), a unit-time simulation and the
// fill-drain formula (M + K - 1)(t_f + t_b). A test that is not a literal needs a valid
// schedule first (prerequisites.h).
#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

TEST(GpipeSchedule, ExactProgramTwoStagesTwoMicrobatches) {
  const Schedule s = gpipe_schedule(2, 2);
  const std::string diff =
      program_difference(s, {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
                             {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), B(1, 0), SG(1, 0), Opt(1)}});
  GRADE_EXPECT(diff.empty(), "gpipe_schedule(2, 2): " << diff);
}

TEST(GpipeSchedule, NameAndShape) {
  GRADE_REQUIRE(valid_gpipe_schedule());  // a right name on an invalid schedule earns nothing
  const Schedule s = gpipe_schedule(4, 6);
  GRADE_EXPECT(s.name() == "gpipe", "name is '" << s.name() << "', expected 'gpipe'");
  GRADE_EXPECT(s.stages == 4, "stages is " << s.stages << ", expected 4");
  GRADE_EXPECT(s.microbatches == 6, "microbatches is " << s.microbatches << ", expected 6");
  GRADE_EXPECT(s.per_stage.size() == 4u, "per_stage has " << s.per_stage.size() << " programs, expected 4");
}

TEST(GpipeSchedule, FillDrainOrder) {
  // Per stage, the compute actions must be F0 F1 .. F(M-1), then B(M-1) .. B0, then Opt.
  // Only compute is compared, so a missing send would pass: validity is checked first.
  GRADE_REQUIRE(valid_gpipe_schedule());
  for (int k = 1; k <= 6; ++k) {
    for (int m = 1; m <= 8; ++m) {
      const Schedule s = gpipe_schedule(k, m);
      GRADE_ASSERT(static_cast<int>(s.per_stage.size()) == k,
                   "gpipe_schedule(" << k << ", " << m << ") has " << s.per_stage.size() << " stage programs");
      for (int st = 0; st < k; ++st) {
        std::vector<Action> compute;
        for (const Action& a : s.per_stage[st])
          if (is_compute(a.kind) || a.kind == ActionKind::OptimizerStep) compute.push_back(a);
        std::vector<Action> expected;
        for (int i = 0; i < m; ++i) expected.push_back(F(st, i));
        for (int i = m - 1; i >= 0; --i) expected.push_back(B(st, i));
        expected.push_back(Opt(st));
        std::size_t i = 0;
        while (i < compute.size() && i < expected.size() && compute[i] == expected[i]) ++i;
        if (i == compute.size() && i == expected.size()) continue;
        const std::string got = i < compute.size() ? program_text({compute[i]}) : "the end of the program";
        const std::string want = i < expected.size() ? program_text({expected[i]}) : "no more compute";
        std::string why;
        if (i < compute.size() && i < expected.size() && compute[i].kind == ActionKind::Backward &&
            expected[i].kind == ActionKind::Backward)
          why = " (the drain runs backwards in reverse order M-1 .. 0)";
        else if (i < compute.size() && i < expected.size() && compute[i].kind == ActionKind::Backward &&
                 expected[i].kind == ActionKind::Forward)
          why = " (fill first: all M forwards before the first backward)";
        FAIL() << "gpipe_schedule(" << k << ", " << m << "), stage " << st << ": compute action #" << i
               << " (0-based) is "
               << got << ", expected " << want << why << "\n  stage " << st << ": "
               << program_text(s.per_stage[st]);
      }
    }
  }
}

TEST(GpipeSchedule, PassesValidator) {
  // The sweep every other non-literal GPipe test requires (prerequisites.h).
  const std::string problem = gpipe_schedule_problem();
  GRADE_ASSERT(problem.empty(), problem);
}

TEST(GpipeSchedule, UnitTimeMakespanIsFillDrain) {
  // F = 1, B = 2, free links: T = (M + K - 1)(1 + 2); each stage busy 3M, so
  // utilization M / (M + K - 1) — the GPipe paper's bubble (K - 1) / (M + K - 1).
  // The unit-time model runs some invalid programs too, so validity is checked first.
  GRADE_REQUIRE(valid_gpipe_schedule());
  for (int k = 1; k <= 6; ++k) {
    for (int m = 1; m <= 12; ++m) {
      const TimedRun run = unit_time_run(gpipe_schedule(k, m), 1.0, 2.0);
      GRADE_ASSERT(run.error.empty(), "gpipe_schedule(" << k << ", " << m << ") cannot run: " << run.error);
      GRADE_ASSERT(run.makespan == 3.0 * (m + k - 1),
                   "gpipe_schedule(" << k << ", " << m << ") with F = 1, B = 2 takes " << run.makespan
                                     << " time units, expected (M + K - 1)(1 + 2) = " << 3 * (m + k - 1));
      for (int s = 0; s < k; ++s)
        GRADE_ASSERT(run.busy[s] == 3.0 * m, "gpipe_schedule(" << k << ", " << m << "): stage " << s << " is busy "
                                                               << run.busy[s] << ", expected 3M = " << 3 * m);
    }
  }
}

TEST(GpipeSchedule, OneMicrobatchIsNaive) {
  // With M = 1 fill-drain is naive model parallelism (same programs, name "gpipe").
  const Schedule s = gpipe_schedule(3, 1);
  GRADE_EXPECT(s.name() == "gpipe", "gpipe_schedule(3, 1) is named '" << s.name() << "', expected 'gpipe'");
  const std::string diff = program_difference(s, {{F(0, 0), SA(0, 0), RG(0, 0), B(0, 0), Opt(0)},
                                                  {RA(1, 0), F(1, 0), SA(1, 0), RG(1, 0), B(1, 0), SG(1, 0), Opt(1)},
                                                  {RA(2, 0), F(2, 0), B(2, 0), SG(2, 0), Opt(2)}});
  GRADE_EXPECT(diff.empty(), "gpipe_schedule(3, 1): " << diff);
}

TEST(GpipeSchedule, RejectsBadArguments) {
  // Refusing bad arguments earns nothing while the good ones give invalid schedules.
  GRADE_REQUIRE(valid_gpipe_schedule());
  for (const auto& args : {std::pair{0, 4}, std::pair{4, 0}, std::pair{-1, 2}}) {
    const int k = args.first, m = args.second;  // named copies: lambdas cannot capture bindings in C++17
    const std::string why = throws_error([&] { gpipe_schedule(k, m); });
    GRADE_EXPECT(why.empty(), "gpipe_schedule(" << k << ", " << m << ") must throw a pipelab::Error: " << why);
  }
}

}  // namespace
}  // namespace pipelab::grading
