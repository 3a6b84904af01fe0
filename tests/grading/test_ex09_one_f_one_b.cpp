// test_ex09_one_f_one_b.cpp — graded (bonus): ex09 one_f_one_b_schedule (lab 07).
// Oracles: a hand-written program, validate(), a unit-time simulation, counts of
// micro-batches in flight made here, and the sim backend's allocator. A test that is not
// a literal needs a valid schedule first (prerequisites.h).
#include "grading.h"
#include "prerequisites.h"
#include "pipelab/backends/backends.h"
#include "pipelab/runtime/executor.h"

namespace pipelab::grading {
namespace {

TEST(OneFOneB, ExactProgramThreeStagesFourMicrobatches) {
  const Schedule s = one_f_one_b_schedule(3, 4);
  GRADE_EXPECT(s.name() == "1f1b", "name is '" << s.name() << "', expected '1f1b'");
  GRADE_EXPECT(s.stages == 3 && s.microbatches == 4,
               "stages=" << s.stages << " microbatches=" << s.microbatches << ", expected 3 and 4");
  const std::string diff = program_difference(
      s,
      {// stage 0: warm-up 3 F, steady (B0 F3), cool-down B1 B2 B3
       {F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), F(0, 2), SA(0, 2), RG(0, 0), B(0, 0), F(0, 3), SA(0, 3), RG(0, 1),
        B(0, 1), RG(0, 2), B(0, 2), RG(0, 3), B(0, 3), Opt(0)},
       // stage 1: warm-up 2 F, steady (B0 F2, B1 F3), cool-down B2 B3
       {RA(1, 0), F(1, 0), SA(1, 0), RA(1, 1), F(1, 1), SA(1, 1), RG(1, 0), B(1, 0), SG(1, 0), RA(1, 2), F(1, 2),
        SA(1, 2), RG(1, 1), B(1, 1), SG(1, 1), RA(1, 3), F(1, 3), SA(1, 3), RG(1, 2), B(1, 2), SG(1, 2), RG(1, 3),
        B(1, 3), SG(1, 3), Opt(1)},
       // stage 2 (last): warm-up 1 F, then strictly one B, one F
       {RA(2, 0), F(2, 0), B(2, 0), SG(2, 0), RA(2, 1), F(2, 1), B(2, 1), SG(2, 1), RA(2, 2), F(2, 2), B(2, 2),
        SG(2, 2), RA(2, 3), F(2, 3), B(2, 3), SG(2, 3), Opt(2)}});
  GRADE_EXPECT(diff.empty(), "one_f_one_b_schedule(3, 4): " << diff);
}

TEST(OneFOneB, PassesValidator) {
  // The sweep every other non-literal 1F1B test requires (prerequisites.h).
  const std::string problem = one_f_one_b_schedule_problem();
  GRADE_ASSERT(problem.empty(), problem);
}

TEST(OneFOneB, WarmupIsKMinusS) {
  GRADE_REQUIRE(valid_one_f_one_b_schedule());  // counts of an invalid program earn nothing
  for (int k = 1; k <= 6; ++k)
    for (int m = 1; m <= 10; ++m) {
      const Schedule s = one_f_one_b_schedule(k, m);
      GRADE_ASSERT(static_cast<int>(s.per_stage.size()) == k, "one_f_one_b_schedule(" << k << ", " << m << ") has "
                                                                                      << s.per_stage.size() << " stages");
      for (int st = 0; st < k; ++st) {
        int forwards = 0;
        for (const Action& a : s.per_stage[st]) {
          if (a.kind == ActionKind::Backward) break;
          forwards += a.kind == ActionKind::Forward;
        }
        const int expected = std::min(k - st, m);
        GRADE_ASSERT(forwards == expected, "one_f_one_b_schedule(" << k << ", " << m << "), stage " << st << ": "
                                                                   << forwards << " forwards before the first backward, "
                                                                   << "expected min(K - s, M) = " << expected);
      }
    }
}

TEST(OneFOneB, PeakInFlightIsKMinusS) {
  // GPipe holds all M micro-batches' activations at the end of the fill; 1F1B at most K - s.
  GRADE_REQUIRE(valid_one_f_one_b_schedule());
  for (int k = 1; k <= 6; ++k)
    for (int m = 1; m <= 12; ++m) {
      const Schedule s = one_f_one_b_schedule(k, m);
      GRADE_ASSERT(static_cast<int>(s.per_stage.size()) == k, "one_f_one_b_schedule(" << k << ", " << m << ") has "
                                                                                      << s.per_stage.size() << " stages");
      for (int st = 0; st < k; ++st) {
        const int peak = oracle_peak_in_flight(s.per_stage[st]);
        GRADE_ASSERT(peak == std::min(k - st, m), "one_f_one_b_schedule(" << k << ", " << m << "), stage " << st
                                                                          << ": up to " << peak
                                                                          << " micro-batches between F and B, expected "
                                                                          << std::min(k - st, m));
      }
    }
}

TEST(OneFOneB, SameStepTimeAsFillDrain) {
  // Same bubble as GPipe: with F = 1, B = 2 and free links T = (M + K - 1)(1 + 2).
  // The unit-time model runs some invalid programs too, so validity is checked first.
  GRADE_REQUIRE(valid_one_f_one_b_schedule());
  for (int k = 1; k <= 6; ++k)
    for (int m = 1; m <= 12; ++m) {
      const TimedRun run = unit_time_run(one_f_one_b_schedule(k, m), 1.0, 2.0);
      GRADE_ASSERT(run.error.empty(), "one_f_one_b_schedule(" << k << ", " << m << ") cannot run: " << run.error);
      GRADE_ASSERT(run.makespan == 3.0 * (m + k - 1), "one_f_one_b_schedule(" << k << ", " << m << ") takes "
                                                                              << run.makespan << " time units, expected "
                                                                              << "(M + K - 1)(1 + 2) = "
                                                                              << 3 * (m + k - 1));
    }
}

TEST(OneFOneB, LowerMeasuredStashThanGpipe) {
  // The sim allocator's peak stash on each device: min(K - s, M) micro-batches for
  // 1F1B against M for fill-drain (a hand-built GPipe schedule).
  GRADE_REQUIRE(valid_one_f_one_b_schedule());
  GRADE_REQUIRE(valid_split_microbatches());  // the sim backend splits the batch with it (ex03)
  const int k = 4, m = 8, layers_per_stage = 1;
  RunConfig c;
  c.model.layers = k * layers_per_stage;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 64;
  c.devices = k;
  c.microbatches = m;
  c.backend = BackendKind::Sim;
  const Partition p = fixture_partition(k, layers_per_stage);
  auto sim_1f1b = make_sim_backend(c, p, m);
  const Trace ours = execute(one_f_one_b_schedule(k, m), *sim_1f1b);
  auto sim_gpipe = make_sim_backend(c, p, m);
  const Trace gpipe = execute(fixture_fill_drain(k, m), *sim_gpipe);
  const std::uint64_t rows = c.model.batch / m;
  const int stash = static_cast<int>(MemoryCategory::Stash);
  for (int d = 0; d < k; ++d) {
    std::uint64_t per_mb = 4 * rows * (c.model.width + 2 * c.model.hidden) * layers_per_stage;
    if (d == k - 1) per_mb += 4 * rows * c.model.width;  // logits
    const std::uint64_t got = ours.peak_memory.at(d)[stash];
    GRADE_EXPECT(got == static_cast<std::uint64_t>(k - d) * per_mb,
                 "device " << d << ": 1F1B peak stash " << got << " bytes, expected (K - s) micro-batches = "
                           << (k - d) * per_mb << " (GPipe: " << gpipe.peak_memory.at(d)[stash] << ")");
  }
}

}  // namespace
}  // namespace pipelab::grading
