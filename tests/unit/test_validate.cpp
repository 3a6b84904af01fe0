// test_validate.cpp — validate(): valid schedules pass, each kind of broken schedule is
// caught with a message naming the offending action (and, for a deadlock, every stuck stage).
//
// Oracles: schedules written out literally, and an independent round-robin simulator
// (below) for the deadlock verdict of random interleavings.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/schedule/validate.h"
#include "action_shorthand.h"

namespace pipelab {
namespace {

using namespace shorthand;  // F, B, SA, ..., make (action_shorthand.h)

// GPipe with K = 2, M = 2, written out by hand.
Schedule literal_gpipe_2x2() {
  return make(2, 2,
              {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
               {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), B(1, 0), SG(1, 0), Opt(1)}});
}

// Asserts the schedule is rejected and the message contains every fragment.
void expect_invalid(const Schedule& schedule, const std::vector<std::string>& fragments) {
  const std::string message = validation_error(schedule);
  ASSERT_FALSE(message.empty()) << "schedule was accepted:\n" << describe(schedule);
  for (const auto& fragment : fragments)
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "message lacks '" << fragment << "':\n  " << message;
  EXPECT_THROW(validate(schedule), Error);
}

void remove_action(Schedule& schedule, const Action& action) {
  auto& program = schedule.per_stage.at(action.stage);
  const auto it = std::find(program.begin(), program.end(), action);
  ASSERT_NE(it, program.end()) << to_string(action);
  program.erase(it);
}

// ---------------------------------------------------------------- valid schedules

TEST(Validate, AcceptsLiteralGpipeTwoByTwo) {
  EXPECT_NO_THROW(validate(literal_gpipe_2x2()));
  EXPECT_EQ(validation_error(literal_gpipe_2x2()), "");
}

TEST(Validate, AcceptsSingleStageWithoutCommunication) {
  EXPECT_NO_THROW(validate(make(1, 2, {{F(0, 0), F(0, 1), B(0, 0), B(0, 1), Opt(0)}})));
}

TEST(Validate, AcceptsMissingOptimizerStep) {
  // validate.h: "at most one OptimizerStep per stage".
  EXPECT_NO_THROW(validate(make(1, 1, {{F(0, 0), B(0, 0)}})));
}

TEST(Validate, AcceptsOneMicrobatchAtATimeOrder) {
  // Micro-batch 0 completes its round trip before micro-batch 1 starts.
  EXPECT_NO_THROW(validate(make(
      2, 2,
      {{F(0, 0), SA(0, 0), RG(0, 0), B(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), Opt(0)},
       {RA(1, 0), F(1, 0), B(1, 0), SG(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), Opt(1)}})));
}

TEST(Validate, AcceptsRecomputeBetweenForwardAndBackward) {
  EXPECT_NO_THROW(validate(make(
      2, 1, {{F(0, 0), SA(0, 0), R(0, 0), RG(0, 0), B(0, 0), Opt(0)},
             {RA(1, 0), F(1, 0), R(1, 0), B(1, 0), SG(1, 0), Opt(1)}})));
}

TEST(Validate, AcceptsAllGeneratedSchedules) {
  for (int k = 1; k <= 8; ++k) {
    EXPECT_EQ(validation_error(naive_schedule(k)), "") << "naive K=" << k;
    EXPECT_EQ(validation_error(with_recompute(naive_schedule(k))), "") << "naive+remat K=" << k;
    for (int m = 1; m <= 16; ++m) {
      EXPECT_EQ(validation_error(gpipe_schedule(k, m)), "") << "gpipe K=" << k << " M=" << m;
      EXPECT_EQ(validation_error(with_recompute(gpipe_schedule(k, m))), "")
          << "gpipe+remat K=" << k << " M=" << m;
    }
  }
}

// ---------------------------------------------------------------- shape

TEST(Validate, RejectsWrongStageInList) {
  auto s = literal_gpipe_2x2();
  s.per_stage[0][0] = F(1, 0);
  expect_invalid(s, {"F0 s1", "stage 0's program"});
}

TEST(Validate, RejectsMicrobatchOutOfRange) {
  auto s = literal_gpipe_2x2();
  s.per_stage[1][3] = F(1, 2);
  expect_invalid(s, {"F2 s1", "out of range [0, 2)"});
  s.per_stage[1][3] = F(1, -1);
  expect_invalid(s, {"F-1 s1", "out of range"});
}

TEST(Validate, RejectsOptimizerStepWithMicrobatch) {
  auto s = literal_gpipe_2x2();
  s.per_stage[0].back() = {K::OptimizerStep, 0, 1};
  expect_invalid(s, {"Opt s0", "micro-batch 1"});
}

TEST(Validate, RejectsStageCountMismatch) {
  auto s = literal_gpipe_2x2();
  s.stages = 3;
  expect_invalid(s, {"2 stage programs", "stages = 3"});
}

TEST(Validate, RejectsEmptyPipeline) {
  expect_invalid(make(0, 1, {}), {"0 stages"});
  expect_invalid(make(1, 0, {{}}), {"0 micro-batches"});
}

TEST(Validate, RejectsUnknownActionKind) {
  auto s = literal_gpipe_2x2();
  s.per_stage[0][2].kind = static_cast<ActionKind>(42);
  expect_invalid(s, {"stage 0 action #2", "unknown action kind"});
}

// ---------------------------------------------------------------- completeness

TEST(Validate, RejectsMissingBackward) {
  auto s = gpipe_schedule(3, 4);
  remove_action(s, B(1, 2));
  expect_invalid(s, {"missing B2 s1"});
}

TEST(Validate, RejectsDuplicateForward) {
  auto s = literal_gpipe_2x2();
  s.per_stage[0].insert(s.per_stage[0].begin() + 2, F(0, 0));
  expect_invalid(s, {"duplicate F0 s0"});
}

TEST(Validate, RejectsRecvWithNoMatchingSend) {
  auto s = literal_gpipe_2x2();
  remove_action(s, SA(0, 1));
  expect_invalid(s, {"missing SendAct1 s0", "stage 1 would wait forever at RecvAct1 s1"});
}

TEST(Validate, RejectsGradRecvWithNoMatchingSend) {
  auto s = gpipe_schedule(3, 2);
  remove_action(s, SG(2, 0));
  expect_invalid(s, {"missing SendGrad0 s2", "stage 1 would wait forever at RecvGrad0 s1"});
}

TEST(Validate, RejectsMissingRecv) {
  auto s = literal_gpipe_2x2();
  remove_action(s, RA(1, 0));
  expect_invalid(s, {"missing RecvAct0 s1"});
}

TEST(Validate, RejectsCommunicationPastTheEnds) {
  auto first = literal_gpipe_2x2();
  first.per_stage[0].insert(first.per_stage[0].begin(), RA(0, 0));
  expect_invalid(first, {"RecvAct0 s0", "first stage"});
  auto last = literal_gpipe_2x2();
  last.per_stage[1].insert(last.per_stage[1].begin() + 2, SA(1, 0));
  expect_invalid(last, {"SendAct0 s1", "last stage"});
}

TEST(Validate, RejectsOptimizerStepBeforeLastBackward) {
  auto s = literal_gpipe_2x2();
  // Stage 1: ... B1 SendGrad1 Opt B0 SendGrad0
  auto& p = s.per_stage[1];
  p.pop_back();
  p.insert(p.begin() + 6, Opt(1));
  expect_invalid(s, {"Opt s1 comes before B0 s1"});
}

TEST(Validate, RejectsDuplicateOptimizerStep) {
  auto s = literal_gpipe_2x2();
  s.per_stage[0].push_back(Opt(0));
  expect_invalid(s, {"duplicate Opt s0"});
}

TEST(Validate, RejectsRecomputeOutsideForwardBackward) {
  auto before = make(1, 1, {{R(0, 0), F(0, 0), B(0, 0), Opt(0)}});
  expect_invalid(before, {"R0 s0 comes before F0 s0"});
  auto after = make(1, 1, {{F(0, 0), B(0, 0), R(0, 0), Opt(0)}});
  expect_invalid(after, {"R0 s0 comes after B0 s0"});
  auto twice = make(1, 1, {{F(0, 0), R(0, 0), R(0, 0), B(0, 0), Opt(0)}});
  expect_invalid(twice, {"duplicate R0 s0"});
}

TEST(Validate, HugeMicrobatchCountReportsMissingWithoutHugeTables) {
  auto s = literal_gpipe_2x2();
  s.microbatches = INT_MAX;  // tables sized K * M would need tens of GB
  expect_invalid(s, {"missing F2 s0"});
}

// ---------------------------------------------------------------- order within a stage

TEST(Validate, RejectsBackwardBeforeItsForward) {
  expect_invalid(make(1, 1, {{B(0, 0), F(0, 0), Opt(0)}}), {"B0 s0 comes before F0 s0"});
}

TEST(Validate, RejectsSendGradBeforeBackward) {
  auto s = literal_gpipe_2x2();
  std::swap(s.per_stage[1][4], s.per_stage[1][5]);  // B1 s1, SendGrad1 s1 -> swapped
  expect_invalid(s, {"SendGrad1 s1 comes before B1 s1"});
}

TEST(Validate, RejectsForwardBeforeItsRecv) {
  auto s = literal_gpipe_2x2();
  std::swap(s.per_stage[1][0], s.per_stage[1][1]);
  expect_invalid(s, {"F0 s1 comes before RecvAct0 s1"});
}

TEST(Validate, RejectsSendActivationBeforeForward) {
  auto s = literal_gpipe_2x2();
  std::swap(s.per_stage[0][2], s.per_stage[0][3]);
  expect_invalid(s, {"SendAct1 s0 comes before F1 s0"});
}

TEST(Validate, RejectsBackwardBeforeItsRecvGrad) {
  auto s = literal_gpipe_2x2();
  std::swap(s.per_stage[0][4], s.per_stage[0][5]);
  expect_invalid(s, {"B1 s0 comes before RecvGrad1 s0"});
}

// ---------------------------------------------------------------- deadlock

// Stage 0 waits for micro-batch 0's gradient before sending micro-batch 1's activation;
// stage 1 needs micro-batch 1's activation before it sends micro-batch 0's gradient.
Schedule two_stage_deadlock() {
  return make(2, 2,
              {{F(0, 0), SA(0, 0), RG(0, 0), B(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), Opt(0)},
               {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 0), SG(1, 0), B(1, 1), SG(1, 1), Opt(1)}});
}

TEST(Validate, DeadlockNamesBothWaitingStages) {
  const std::string message = validation_error(two_stage_deadlock());
  EXPECT_EQ(message,
            "deadlock: stage 0 waits at RecvGrad0 s0 for SendGrad0 s1 from stage 1; "
            "stage 1 waits at RecvAct1 s1 for SendAct1 s0 from stage 0");
  try {
    validate(two_stage_deadlock());
    FAIL() << "deadlock accepted";
  } catch (const Error& e) {
    EXPECT_FALSE(e.hint().empty());
    EXPECT_NE(e.where().find("validate_deadlock.cpp:"), std::string::npos) << e.where();
  }
}

TEST(Validate, DeadlockAcrossThreeStages) {
  // Stage 2 holds its gradient until it has both activations; stage 1 waits for the
  // gradient before passing on micro-batch 1; stage 0 is stuck behind stage 1.
  auto s = make(3, 2,
                {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
                 {RA(1, 0), F(1, 0), SA(1, 0), RG(1, 0), B(1, 0), SG(1, 0), RA(1, 1), F(1, 1), SA(1, 1),
                  RG(1, 1), B(1, 1), SG(1, 1), Opt(1)},
                 {RA(2, 0), F(2, 0), RA(2, 1), F(2, 1), B(2, 0), SG(2, 0), B(2, 1), SG(2, 1), Opt(2)}});
  expect_invalid(s, {"deadlock: ", "stage 0 waits at RecvGrad1 s0 for SendGrad1 s1 from stage 1",
                     "stage 1 waits at RecvGrad0 s1 for SendGrad0 s2 from stage 2",
                     "stage 2 waits at RecvAct1 s2 for SendAct1 s1 from stage 1"});
}

TEST(Validate, ReversedBackwardFlowDeadlocks) {
  // Every stage receives its gradient before doing the forward: nobody can start but stage 0,
  // which itself waits for a gradient.
  const int k = 3;
  Schedule s = make(k, 1, std::vector<std::vector<Action>>(k));
  for (int st = 0; st < k; ++st) {
    auto& p = s.per_stage[st];
    if (st < k - 1) p.push_back(RG(st, 0));
    append_forward(p, st, 0, k);
    p.push_back(B(st, 0));
    if (st > 0) p.push_back(SG(st, 0));
  }
  // RecvGrad before B but also before F is allowed by the order rules; the deadlock is dynamic.
  expect_invalid(s, {"deadlock", "stage 0 waits at RecvGrad0 s0", "stage 1 waits at RecvGrad0 s1",
                     "stage 2 waits at RecvAct0 s2 for SendAct0 s1 from stage 1"});
}

// Independent oracle: repeated passes over all stages until nothing moves (O(K * n)).
// Returns, per stage, the index it is stuck at (program size = finished).
std::vector<std::size_t> round_robin_final_pcs(const Schedule& schedule) {
  std::set<std::tuple<int, int, int>> sent;  // (kind, stage, microbatch) of executed sends
  std::vector<std::size_t> pc(schedule.stages, 0);
  bool moved = true;
  while (moved) {
    moved = false;
    for (int s = 0; s < schedule.stages; ++s) {
      const auto& p = schedule.per_stage[s];
      while (pc[s] < p.size()) {
        const Action& a = p[pc[s]];
        if (a.kind == K::RecvActivation &&
            !sent.count({static_cast<int>(K::SendActivation), s - 1, a.microbatch}))
          break;
        if (a.kind == K::RecvGrad && !sent.count({static_cast<int>(K::SendGrad), s + 1, a.microbatch}))
          break;
        if (a.kind == K::SendActivation || a.kind == K::SendGrad)
          sent.insert({static_cast<int>(a.kind), a.stage, a.microbatch});
        ++pc[s];
        moved = true;
      }
    }
  }
  return pc;
}

// A random interleaving per stage of the chains (RecvAct F SendAct) and (RecvGrad B SendGrad)
// of every micro-batch, forward chain of m before backward chain of m: shape, completeness
// and order always hold, so only the deadlock check decides.
Schedule random_interleaving(int k, int m, std::mt19937& rng) {
  Schedule s = make(k, m, std::vector<std::vector<Action>>(k));
  for (int st = 0; st < k; ++st) {
    std::vector<int> tokens;  // mb for forward chain, m + mb for backward chain
    for (int mb = 0; mb < m; ++mb) tokens.push_back(mb), tokens.push_back(m + mb);
    std::shuffle(tokens.begin(), tokens.end(), rng);
    // Make each forward chain precede its backward chain: the earlier of the two slots is F.
    std::vector<bool> seen(m, false);
    for (int& t : tokens) {
      const int mb = t % m;
      t = seen[mb] ? m + mb : mb;
      seen[mb] = true;
    }
    for (int t : tokens) {
      if (t < m) append_forward(s.per_stage[st], st, t, k);
      else append_backward(s.per_stage[st], st, t - m, k);
    }
    s.per_stage[st].push_back(Opt(st));
  }
  return s;
}

TEST(Validate, DeadlockVerdictMatchesRoundRobinOracle) {
  std::mt19937 rng(1234);
  int deadlocks = 0, valid = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int k = 2 + trial % 4;
    const int m = 1 + (trial / 4) % 4;
    const Schedule s = random_interleaving(k, m, rng);
    const auto pcs = round_robin_final_pcs(s);
    const std::string message = validation_error(s);
    bool stuck_any = false;
    for (int st = 0; st < k; ++st) {
      if (pcs[st] == s.per_stage[st].size()) {
        EXPECT_EQ(message.find("stage " + std::to_string(st) + " waits"), std::string::npos) << message;
        continue;
      }
      stuck_any = true;
      const std::string expected =
          "stage " + std::to_string(st) + " waits at " + to_string(s.per_stage[st][pcs[st]]);
      EXPECT_NE(message.find(expected), std::string::npos) << expected << "\n" << message << "\n"
                                                           << describe(s);
    }
    if (stuck_any) {
      ++deadlocks;
      EXPECT_EQ(message.rfind("deadlock: ", 0), 0u) << message;
    } else {
      ++valid;
      EXPECT_EQ(message, "") << describe(s);
    }
  }
  // The generator must exercise both outcomes, or the test proves little.
  EXPECT_GT(deadlocks, 20);
  EXPECT_GT(valid, 20);
}

// ---------------------------------------------------------------- cost

TEST(Validate, LargeScheduleIsFast) {
  // K = 64, M = 4096: about 1.6M actions. Linear passes take well under a second in Release.
  const Schedule s = gpipe_schedule(64, 4096);
  ASSERT_GT(s.size(), 1'500'000u);
  const auto start = std::chrono::steady_clock::now();
  validate(s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("validate_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 3.0);
}

TEST(Validate, LargeDeadlockIsFast) {
  // Stage 0 sends the last activation only after that micro-batch's backward, which needs
  // the gradient that needs the activation: every stage ends up stuck on micro-batch M-1.
  const int k = 64, m = 4096;
  Schedule s = gpipe_schedule(k, m);
  auto& first = s.per_stage[0];
  first.erase(std::find(first.begin(), first.end(), SA(0, m - 1)));
  first.insert(std::find(first.begin(), first.end(), B(0, m - 1)) + 1, SA(0, m - 1));
  const auto start = std::chrono::steady_clock::now();
  const std::string message = validation_error(s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(message.rfind("deadlock: stage 0 waits at RecvGrad4095 s0 for SendGrad4095 s1 from stage 1; "
                          "stage 1 waits at RecvAct4095 s1 for SendAct4095 s0 from stage 0; ",
                          0),
            0u)
      << message.substr(0, 300);
  EXPECT_NE(message.find("stage 63 waits at RecvAct4095 s63 for SendAct4095 s62 from stage 62"),
            std::string::npos);
  EXPECT_LT(seconds, 3.0);
}

// ---------------------------------------------------------------- the split backward (I, W)

// GPipe K = 2, M = 2 with each B split into I and W, the W's deferred to just before
// the optimizer step (written out by hand).
Schedule literal_split_2x2() {
  return make(2, 2,
              {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), I(0, 1), RG(0, 0), I(0, 0), W(0, 1), W(0, 0),
                Opt(0)},
               {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), I(1, 1), SG(1, 1), I(1, 0), SG(1, 0), W(1, 0), W(1, 1),
                Opt(1)}});
}

TEST(ValidateSplitBackward, AcceptsIAndWInsteadOfB) { EXPECT_EQ(validation_error(literal_split_2x2()), ""); }

TEST(ValidateSplitBackward, AcceptsAMixOfWholeAndSplitBackwards) {
  // Micro-batch 0 with one B, micro-batch 1 split: each (stage, micro-batch) picks its form.
  const Schedule s = make(1, 2, {{F(0, 0), F(0, 1), I(0, 1), B(0, 0), W(0, 1), Opt(0)}});
  EXPECT_EQ(validation_error(s), "");
}

TEST(ValidateSplitBackward, RejectsBAndIOfOneMicrobatch) {
  const Schedule s = make(1, 1, {{F(0, 0), I(0, 0), B(0, 0), W(0, 0), Opt(0)}});
  expect_invalid(s, {"B0 s0 and I0 s0 both run", "computed twice"});
}

TEST(ValidateSplitBackward, RejectsIWithoutW) {
  Schedule s = literal_split_2x2();
  remove_action(s, W(1, 1));
  expect_invalid(s, {"missing W1 s1", "I1 s1"});
}

TEST(ValidateSplitBackward, RejectsWWithoutI) {
  const Schedule s = make(1, 1, {{F(0, 0), W(0, 0), Opt(0)}});
  expect_invalid(s, {"W0 s0 has no I0 s0"});
}

TEST(ValidateSplitBackward, RejectsWBeforeItsI) {
  const Schedule s = make(1, 1, {{F(0, 0), W(0, 0), I(0, 0), Opt(0)}});
  expect_invalid(s, {"W0 s0 comes before I0 s0", "W needs the gradients I keeps"});
}

TEST(ValidateSplitBackward, RejectsSendGradBeforeItsI) {
  Schedule s = literal_split_2x2();
  auto& p = s.per_stage[1];
  std::swap(*std::find(p.begin(), p.end(), I(1, 1)), *std::find(p.begin(), p.end(), SG(1, 1)));
  expect_invalid(s, {"SendGrad1 s1 comes before I1 s1", "it sends I's input-gradient"});
}

TEST(ValidateSplitBackward, RejectsIBeforeItsGradientArrives) {
  Schedule s = literal_split_2x2();
  auto& p = s.per_stage[0];
  std::swap(*std::find(p.begin(), p.end(), I(0, 1)), *std::find(p.begin(), p.end(), RG(0, 1)));
  expect_invalid(s, {"I1 s0 comes before RecvGrad1 s0", "I needs its output-gradient"});
}

TEST(ValidateSplitBackward, RejectsOptimizerStepBeforeAW) {
  Schedule s = literal_split_2x2();
  auto& p = s.per_stage[0];
  std::swap(*std::find(p.begin(), p.end(), W(0, 0)), *std::find(p.begin(), p.end(), Opt(0)));
  expect_invalid(s, {"Opt s0 comes before W0 s0"});
}

TEST(ValidateSplitBackward, RejectsRecomputeAfterItsI) {
  const Schedule s = make(1, 1, {{F(0, 0), I(0, 0), R(0, 0), W(0, 0), Opt(0)}});
  expect_invalid(s, {"R0 s0 comes after I0 s0"});
}

TEST(ValidateSplitBackward, MissingBackwardIsNamedAsB) {
  const Schedule s = make(1, 2, {{F(0, 0), F(0, 1), I(0, 1), W(0, 1), Opt(0)}});
  expect_invalid(s, {"missing B0 s0"});
}

}  // namespace
}  // namespace pipelab
