// test_w_batch_schedule.cpp — --w-batch as a schedule (schedule/batched_weight.h): the
// rewrite of every registry row validates, holds one whole-batch W per (device, chunk)
// after every I of its chunk, round-trips through the file format; the validator names a
// misplaced, duplicated or doubled whole-batch W; and the derived theory is the idle time
// of a unit-cost event simulation of the programs (unit_time_sim.h), not of the formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "pipelab/error.h"
#include "pipelab/schedule/batched_weight.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule_file.h"
#include "pipelab/schedule/validate.h"
#include "unit_time_sim.h"

namespace pipelab {
namespace {

std::string error_of(const Schedule& s) { return validation_error(s); }

TEST(WBatchSchedule, EveryPipelineRowValidatesWithOneWholeBatchWPerChunkAfterItsIs) {
  for (const ScheduleInfo& row : schedule_registry()) {
    if (row.kind == ScheduleKind::DataParallel) continue;
    for (int k : {1, 2, 4})
      for (int m : {1, 4, 8})
        for (bool remat : {false, true}) {
          if (row.kind == ScheduleKind::Interleaved1F1B && m % k != 0) continue;
          if (row.kind == ScheduleKind::Interleaved1F1B && k == 1) continue;
          const Schedule s = with_batched_weight(generate_schedule(row.kind, k, m, remat, 2));
          SCOPED_TRACE(s.name() + " K=" + std::to_string(k) + " M=" + std::to_string(m));
          EXPECT_EQ(error_of(s), "");
          EXPECT_TRUE(s.w_batch);
          EXPECT_NE(s.name().find("+w-batch"), std::string::npos);
          for (const auto& program : s.per_stage) {
            std::vector<int> batched(s.chunks, 0);
            std::vector<long> last_input(s.chunks, -1), at(s.chunks, -1);
            for (std::size_t i = 0; i < program.size(); ++i) {
              const Action& a = program[i];
              EXPECT_NE(a.kind, ActionKind::Backward) << "every B became an I";
              if (a.kind == ActionKind::BackwardWeight) {
                EXPECT_EQ(a.microbatch, -1) << "no per-micro-batch W is left";
                ++batched[a.chunk];
                at[a.chunk] = static_cast<long>(i);
              }
              if (a.kind == ActionKind::BackwardInput) last_input[a.chunk] = static_cast<long>(i);
            }
            for (int c = 0; c < s.chunks; ++c) {
              EXPECT_EQ(batched[c], 1);
              EXPECT_GT(at[c], last_input[c]);
            }
          }
          // The declared bound is v·M (validate() above holds every device to it).
          EXPECT_EQ(schedule_theory(s).peak_stash_microbatches, static_cast<double>(s.chunks) * s.microbatches);
        }
  }
}

TEST(WBatchSchedule, DescribeAndTheFileFormatWriteTheWholeBatchWWithoutAMicrobatch) {
  const Schedule s = with_batched_weight(generate_schedule(ScheduleKind::Gpipe, 2, 2, false));
  EXPECT_EQ(describe(s),
            "gpipe+w-batch: 2 stages, 2 micro-batches\n"
            "  stage 0: F0 SendAct0 F1 SendAct1 RecvGrad1 I1 RecvGrad0 I0 W Opt\n"
            "  stage 1: RecvAct0 F0 RecvAct1 F1 I1 SendGrad1 I0 SendGrad0 W Opt\n");
  EXPECT_EQ(to_string(Action{ActionKind::BackwardWeight, 1, -1, 1}), "W s1 c1");
  const std::string text = schedule_text(s);
  EXPECT_NE(text.find(" 0W OPT"), std::string::npos) << text;
  const Schedule back = parse_schedule_text(text, "w-batch.txt");
  EXPECT_TRUE(back.w_batch);
  EXPECT_EQ(back.per_stage, s.per_stage);
}

TEST(WBatchSchedule, TheValidatorNamesAMisplacedDuplicatedOrDoubledWholeBatchW) {
  const Schedule good = with_batched_weight(generate_schedule(ScheduleKind::OneFOneB, 2, 4, false));
  // Misplaced: stage 0's W moved before its last I.
  Schedule early = good;
  auto& p0 = early.per_stage[0];
  const auto w = std::find(p0.begin(), p0.end(), Action{ActionKind::BackwardWeight, 0, -1});
  ASSERT_NE(w, p0.end());
  const Action whole = *w;
  p0.erase(w);
  p0.insert(p0.begin() + 1, whole);
  EXPECT_NE(error_of(early).find("misplaced whole-batch W s0: it comes before I"), std::string::npos)
      << error_of(early);
  // Duplicated.
  Schedule twice = good;
  twice.per_stage[1].insert(twice.per_stage[1].end() - 1, Action{ActionKind::BackwardWeight, 1, -1});
  EXPECT_NE(error_of(twice).find("duplicate whole-batch W s1"), std::string::npos) << error_of(twice);
  // Beside a W of one micro-batch: that micro-batch's weight gradient twice.
  Schedule doubled = good;
  doubled.per_stage[1].insert(doubled.per_stage[1].end() - 1, Action{ActionKind::BackwardWeight, 1, 2});
  EXPECT_NE(error_of(doubled).find("W2 s1 and the whole-batch W s1 both run"), std::string::npos)
      << error_of(doubled);
  // Beside a B: a schedule whose stage 1 keeps B3 and also batches.
  Schedule with_b = good;
  for (Action& a : with_b.per_stage[1])
    if (a.kind == ActionKind::BackwardInput && a.microbatch == 3) a.kind = ActionKind::Backward;
  EXPECT_NE(error_of(with_b).find("B3 s1 and the whole-batch W s1 both run"), std::string::npos)
      << error_of(with_b);
  // After the OptimizerStep.
  Schedule late = good;
  std::swap(late.per_stage[0][late.per_stage[0].size() - 1], late.per_stage[0][late.per_stage[0].size() - 2]);
  EXPECT_NE(error_of(late).find("Opt s0 comes before W s0"), std::string::npos) << error_of(late);
  EXPECT_THROW(with_batched_weight(good), Error) << "applied twice";
  EXPECT_THROW(with_batched_weight(generate_schedule(ScheduleKind::DataParallel, 2, 2, false)), Error);
}

TEST(WBatchSchedule, DerivedIdleIsTwoKMinusOneUnitsForFillDrainAndOneFOneBOrders) {
  const CostRatio unit{1, 2, 1, 1, 1};
  for (ScheduleKind kind : {ScheduleKind::Naive, ScheduleKind::Gpipe, ScheduleKind::OneFOneB, ScheduleKind::ZbH1})
    for (int k = 1; k <= 6; ++k)
      for (int m = 1; m <= 10; ++m) {
        const Schedule s = with_batched_weight(generate_schedule(kind, k, m, false));
        SCOPED_TRACE(s.name() + " K=" + std::to_string(k) + " M=" + std::to_string(m));
        const double idle = simulated_idle(s, unit), busy = 3.0 * s.microbatches;
        EXPECT_DOUBLE_EQ(idle, 2.0 * (k - 1));
        const Theory t = schedule_theory(s);
        EXPECT_NEAR(t.utilization, busy / (busy + idle), 1e-12);
        EXPECT_NEAR(t.ideal_speedup, k * busy / (busy + idle), 1e-12);
        EXPECT_EQ(t.options, "w-batch, F:I:W = 1:1:1");
      }
  // Not derived: labelled, the row's own numbers kept.
  const Schedule zbv = with_batched_weight(generate_schedule(ScheduleKind::Zbv, 2, 4, false));
  EXPECT_NE(schedule_theory(zbv).options.find("bubble not given"), std::string::npos);
}

}  // namespace
}  // namespace pipelab
