// test_ex07_remat.cpp — graded: ex07 with_recompute and stash_peak (lab 04).
// Inputs are hand-built schedules (fixtures, not the student's ex02). Oracles:
// hand-written programs, validate(), the single-device step, the sim backend's
// allocator (measured stash bytes), and counts worked out by hand. A Remat test that is
// not a literal needs with_recompute to give valid schedules first (prerequisites.h);
// StashPeak tests use hand-built schedules, so with_recompute cannot cost them points.
#include "grading.h"
#include "prerequisites.h"
#include "pipelab/backends/backends.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/model/model.h"

namespace pipelab::grading {
namespace {

// ---------------------------------------------------------------- with_recompute

TEST(Remat, ExactProgramThreeStagesTwoMicrobatches) {
  const Schedule s = with_recompute(fixture_fill_drain(3, 2));
  const std::string diff = program_difference(
      s, {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), R(0, 1), RG(0, 1), B(0, 1), R(0, 0), RG(0, 0), B(0, 0), Opt(0)},
          {RA(1, 0), F(1, 0), SA(1, 0), RA(1, 1), F(1, 1), SA(1, 1), R(1, 1), RG(1, 1), B(1, 1), SG(1, 1), R(1, 0),
           RG(1, 0), B(1, 0), SG(1, 0), Opt(1)},
          {RA(2, 0), F(2, 0), RA(2, 1), F(2, 1), R(2, 1), B(2, 1), SG(2, 1), R(2, 0), B(2, 0), SG(2, 0), Opt(2)}});
  GRADE_EXPECT(diff.empty(), "with_recompute(gpipe K=3 M=2): " << diff);
}

TEST(Remat, RecomputeRightBeforeEachBackward) {
  GRADE_REQUIRE(valid_with_recompute());  // R in the right place in an invalid schedule earns nothing
  for (int k = 1; k <= 5; ++k) {
    for (int m = 1; m <= 6; ++m) {
      for (const Schedule& input : {fixture_fill_drain(k, m), fixture_one_f_one_b(k, m)}) {
        const Schedule s = with_recompute(input);
        GRADE_ASSERT(static_cast<int>(s.per_stage.size()) == k, "with_recompute(" << input.name() << " K=" << k
                                                                                  << " M=" << m << ") has "
                                                                                  << s.per_stage.size() << " stages");
        for (int st = 0; st < k; ++st) {
          const auto& p = s.per_stage[st];
          int recomputes = 0;
          for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i].kind == ActionKind::Recompute) ++recomputes;
            if (p[i].kind != ActionKind::Backward) continue;
            // Expected just before B: R, or R then its RecvGrad.
            const bool direct = i >= 1 && p[i - 1] == R(st, p[i].microbatch);
            const bool via_recv = i >= 2 && p[i - 1] == RG(st, p[i].microbatch) && p[i - 2] == R(st, p[i].microbatch);
            GRADE_ASSERT(direct || via_recv,
                         "with_recompute(" << input.name() << " K=" << k << " M=" << m << "), stage " << st
                                           << ": B" << p[i].microbatch << " is not preceded by R" << p[i].microbatch
                                           << (st < k - 1 ? " RecvGrad" + std::to_string(p[i].microbatch) : "")
                                           << "\n  stage " << st << ": " << program_text(p));
          }
          GRADE_ASSERT(recomputes == m, "with_recompute(" << input.name() << " K=" << k << " M=" << m << "), stage "
                                                          << st << ": " << recomputes
                                                          << " Recompute actions, expected one per micro-batch = " << m);
        }
      }
    }
  }
}

TEST(Remat, KeepsEverythingElse) {
  for (int k = 1; k <= 5; ++k) {
    for (int m = 1; m <= 6; ++m) {
      for (const Schedule& input : {fixture_fill_drain(k, m), fixture_one_f_one_b(k, m)}) {
        const Schedule s = with_recompute(input);
        const std::string tag = "with_recompute(" + input.name() + " K=" + std::to_string(k) + " M=" +
                                std::to_string(m) + ")";
        GRADE_ASSERT(s.name() == input.name() + "+remat", tag << " is named '" << s.name() << "', expected '"
                                                          << input.name() << "+remat'");
        GRADE_ASSERT(s.stages == k && s.microbatches == m,
                     tag << ": stages=" << s.stages << " microbatches=" << s.microbatches << " changed");
        // Without the Recompute actions the programs are the input's, in order.
        Schedule stripped = s;
        for (auto& p : stripped.per_stage)
          p.erase(std::remove_if(p.begin(), p.end(), [](const Action& a) { return a.kind == ActionKind::Recompute; }),
                  p.end());
        const std::string diff = program_difference(stripped, input.per_stage);
        GRADE_ASSERT(diff.empty(), tag << " without its Recompute actions differs from the input: " << diff);
        const std::string error = schedule_validation_error(s);
        GRADE_ASSERT(error.empty(), tag << " fails validate(): " << error);
      }
    }
  }
}

TEST(Remat, PipelinedStepEqualsSingleDeviceStep) {
  // Re-materialization recomputes the same activations: the step's numbers do not change.
  GRADE_REQUIRE(valid_with_recompute());
  GRADE_REQUIRE(valid_split_microbatches());  // the cpu backend splits the batch with it (ex03)
  for (int m : {1, 3, 4}) {
    RunConfig c = tiny_cpu_config(2, 2);
    c.remat = true;  // the cpu backend keeps only each stage's input after F
    c.microbatches = m;
    auto backend = make_cpu_backend(c, fixture_partition(2, 2), m);
    ExecutorOptions options;
    options.watchdog_seconds = 10;
    execute(with_recompute(fixture_fill_drain(2, m)), *backend, options);
    const double diff = max_relative_difference(*backend->numerics(), reference_step(c.model));
    GRADE_EXPECT(diff <= 1e-5, "gpipe+remat K=2 M=" << m << " on cpu differs from the single-device step by " << diff
                                                    << " (normwise, tolerance 1e-5)");
  }
}

TEST(Remat, KeepsOneMicrobatchOfActivations) {
  // Sim allocator, K = 2, M = 4, remat: F keeps the stage input (b, d); R allocates the
  // rest of the activations right before B. Just-in-time recompute peaks at
  //   M inputs + one micro-batch's other activations.
  GRADE_REQUIRE(valid_with_recompute());
  GRADE_REQUIRE(valid_split_microbatches());  // the sim backend splits the batch with it (ex03)
  const int k = 2, m = 4, layers_per_stage = 2;
  RunConfig c;
  c.model.layers = k * layers_per_stage;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 32;
  c.devices = k;
  c.microbatches = m;
  c.backend = BackendKind::Sim;
  c.remat = true;
  auto backend = make_sim_backend(c, fixture_partition(k, layers_per_stage), m);
  const Trace trace = execute(with_recompute(fixture_fill_drain(k, m)), *backend);
  const std::uint64_t rows = c.model.batch / m;
  const std::uint64_t input = 4 * rows * c.model.width;
  for (int d = 0; d < k; ++d) {
    // Per block: x (b, d) + a, g (b, h); the last stage also keeps its logits (b, d).
    std::uint64_t full = 4 * rows * (c.model.width + 2 * c.model.hidden) * layers_per_stage;
    if (d == k - 1) full += 4 * rows * c.model.width;
    const std::uint64_t expected = m * input + (full - input);
    const std::uint64_t got = trace.peak_memory.at(d)[static_cast<int>(MemoryCategory::Stash)];
    GRADE_EXPECT(got == expected, "device " << d << ": peak stash " << got << " bytes, expected M inputs + one "
                                            << "micro-batch's activations = " << expected
                                            << " — is each Recompute right before its backward?");
  }
}

// ---------------------------------------------------------------- stash_peak

Schedule one_stage(std::vector<Action> program, int microbatches) {
  Schedule s;
  s.kind = ScheduleKind::Custom;  // "hand": built by hand
  s.stages = 1;
  s.microbatches = microbatches;
  s.per_stage = {std::move(program)};
  return s;
}

void expect_peak(const Schedule& s, int stage, int inputs, int activations, const std::string& what) {
  const StashPeak got = stash_peak(s, stage);
  GRADE_EXPECT(got.inputs == inputs && got.activations == activations,
               what << ", stage " << stage << ": stash_peak = {inputs " << got.inputs << ", activations "
                    << got.activations << "}, expected {" << inputs << ", " << activations << "}"
                    << "\n  stage " << stage << ": " << program_text(s.per_stage.at(stage)));
}

TEST(StashPeak, FillDrainHoldsEveryMicrobatch) {
  const Schedule g = fixture_fill_drain(4, 8);
  for (int s = 0; s < 4; ++s) expect_peak(g, s, 8, 8, "gpipe K=4 M=8");
  const Schedule naive = fixture_fill_drain(3, 1);
  for (int s = 0; s < 3; ++s) expect_peak(naive, s, 1, 1, "naive K=3");
  for (int bad : {-1, 4}) {
    const std::string why = throws_error([&] { stash_peak(g, bad); });
    GRADE_EXPECT(why.empty(), "stash_peak(K=4 schedule, stage " << bad << ") must throw a pipelab::Error: " << why);
  }
}

TEST(StashPeak, OneFOneBHoldsKMinusS) {
  const Schedule a = fixture_one_f_one_b(4, 8);
  for (int s = 0; s < 4; ++s) expect_peak(a, s, 4 - s, 4 - s, "1f1b K=4 M=8");
  const Schedule b = fixture_one_f_one_b(4, 2);
  for (int s = 0; s < 4; ++s) expect_peak(b, s, std::min(4 - s, 2), std::min(4 - s, 2), "1f1b K=4 M=2");
}

TEST(StashPeak, RecomputeHoldsActivationsFromRToB) {
  const Schedule g = fixture_fill_drain_remat(4, 8);
  for (int s = 0; s < 4; ++s) expect_peak(g, s, 8, 1, "gpipe+remat K=4 M=8 (written by hand)");
  // 1F1B + remat on one stage, by hand: inputs peak 2, activations 1.
  expect_peak(one_stage({F(0, 0), F(0, 1), R(0, 0), B(0, 0), F(0, 2), R(0, 1), B(0, 1), R(0, 2), B(0, 2), Opt(0)}, 3),
              0, 2, 1, "1f1b-like + remat");
  // Both recomputed before either backward: two micro-batches' activations at once.
  expect_peak(one_stage({F(0, 0), F(0, 1), R(0, 0), R(0, 1), B(0, 0), B(0, 1), Opt(0)}, 2), 0, 2, 2,
              "early recompute");
  // Only micro-batch 1 recomputed: micro-batch 0 keeps its activations from F0.
  expect_peak(one_stage({F(0, 0), F(0, 1), R(0, 1), B(0, 1), B(0, 0), Opt(0)}, 2), 0, 2, 2, "partial remat");
}

}  // namespace
}  // namespace pipelab::grading
