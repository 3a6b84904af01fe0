// test_ex10_zero_bubble.cpp — graded (bonus): ex10 zb_h1_schedule (lab 08).
// Oracles, all written here (none calls core/src/schedule/zero_bubble.cpp): hand-written
// programs (K = 2, M = 3 with its sends and receives; K = 4, M = 8 as compute orders),
// validate(), a unit-time event simulation of the student's programs with the backward
// split in two (F = I = W = 1), and a count of micro-batches between F and W. A test that
// is not a literal needs a valid schedule first (prerequisites.h).
#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

// I and W, the two halves of a backward (grading.h has F, B, R and the transfers).
Action I(int stage, int microbatch) { return {ActionKind::BackwardInput, stage, microbatch}; }
Action W(int stage, int microbatch) { return {ActionKind::BackwardWeight, stage, microbatch}; }

// "F0 F1 I0 W0 ..." per stage: the compute actions only (no transfers, no optimizer), with
// the labels written here rather than taken from the core's short_label.
std::vector<std::string> compute_orders(const Schedule& s) {
  std::vector<std::string> out;
  for (const auto& program : s.per_stage) {
    std::string line;
    for (const Action& a : program) {
      const char* label = a.kind == ActionKind::Forward          ? "F"
                          : a.kind == ActionKind::BackwardInput  ? "I"
                          : a.kind == ActionKind::BackwardWeight ? "W"
                          : a.kind == ActionKind::Backward       ? "B"
                          : a.kind == ActionKind::Recompute      ? "R"
                                                                 : nullptr;
      if (label) line += (line.empty() ? "" : " ") + std::string(label) + std::to_string(a.microbatch);
    }
    out.push_back(line);
  }
  return out;
}

std::string call(int k, int m) { return "zb_h1_schedule(" + std::to_string(k) + ", " + std::to_string(m) + ")"; }

// ------------------------------------------------------------ the event simulation
// Stage s runs its program in order. F and R take `forward`, I `input`, W `weight`, an
// unsplit B input + weight; sends, the optimizer and the links take no time. A receive
// waits until its matching send has run: RecvActivation(s, m) for SendActivation(s - 1, m),
// RecvGrad(s, m) for SendGrad(s + 1, m). Sends never block (buffered, free links).
struct SplitRun {
  std::string error;          // "" or why the programs cannot finish (a deadlock)
  double makespan = 0;        // the latest stage's end
  std::vector<double> busy;   // per stage: time in F, I, W, B and R
};

SplitRun split_backward_run(const Schedule& s, double forward, double input, double weight) {
  SplitRun run;
  const int k = static_cast<int>(s.per_stage.size());
  run.busy.assign(k, 0.0);
  std::vector<double> clock(k, 0.0);
  std::vector<std::size_t> next(k, 0);
  // When each send ran, keyed by (kind, stage, micro-batch) of the send.
  std::map<std::tuple<int, int, int>, double> sent;
  auto key = [](ActionKind kind, int stage, int mb) { return std::make_tuple(static_cast<int>(kind), stage, mb); };
  for (bool progress = true; progress;) {
    progress = false;
    for (int st = 0; st < k; ++st) {
      const auto& program = s.per_stage[st];
      while (next[st] < program.size()) {
        const Action& a = program[next[st]];
        double duration = 0;
        if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
          const auto from = a.kind == ActionKind::RecvActivation
                                ? key(ActionKind::SendActivation, a.stage - 1, a.microbatch)
                                : key(ActionKind::SendGrad, a.stage + 1, a.microbatch);
          const auto found = sent.find(from);
          if (found == sent.end()) break;  // not sent yet: this stage waits
          clock[st] = std::max(clock[st], found->second);
        } else if (a.kind == ActionKind::SendActivation || a.kind == ActionKind::SendGrad) {
          sent[key(a.kind, a.stage, a.microbatch)] = clock[st];
        } else if (a.kind == ActionKind::Forward || a.kind == ActionKind::Recompute) {
          duration = forward;
        } else if (a.kind == ActionKind::BackwardInput) {
          duration = input;
        } else if (a.kind == ActionKind::BackwardWeight) {
          duration = weight;
        } else if (a.kind == ActionKind::Backward) {
          duration = input + weight;
        }
        clock[st] += duration;
        run.busy[st] += duration;
        ++next[st];
        progress = true;
      }
    }
  }
  for (int st = 0; st < k; ++st)
    if (next[st] < s.per_stage[st].size()) {
      std::ostringstream why;
      why << "deadlock: stage " << st << " waits forever at action #" << next[st] << " (0-based)";
      run.error = why.str();
      return run;
    }
  run.makespan = k ? *std::max_element(clock.begin(), clock.end()) : 0.0;
  return run;
}

// ------------------------------------------------------------ the tests
TEST(ZbH1, ExactProgramTwoStagesThreeMicrobatches) {
  const Schedule s = zb_h1_schedule(2, 3);
  GRADE_EXPECT(s.name() == "zb-h1", "name is '" << s.name() << "', expected 'zb-h1' (kind ScheduleKind::ZbH1)");
  GRADE_EXPECT(s.stages == 2 && s.microbatches == 3,
               "stages=" << s.stages << " microbatches=" << s.microbatches << ", expected 2 and 3");
  // Triples F(x) I(x - d_i) W(x - d_w), x = 0..3, with d_w = K - 1 = 1 and d_i = 1 on stage 0,
  // 0 on stage 1, written out by hand with each transfer where append_* puts it.
  const std::string diff = program_difference(
      s,
      {// stage 0 (first): 2 warm-up forwards, then F I W, then the last I W
       {F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 0), I(0, 0), W(0, 0), F(0, 2), SA(0, 2), RG(0, 1), I(0, 1),
        W(0, 1), RG(0, 2), I(0, 2), W(0, 2), Opt(0)},
       // stage 1 (last): one warm-up forward, its I at once; each W one triple after its I
       {RA(1, 0), F(1, 0), I(1, 0), SG(1, 0), RA(1, 1), F(1, 1), I(1, 1), SG(1, 1), W(1, 0), RA(1, 2), F(1, 2),
        I(1, 2), SG(1, 2), W(1, 1), W(1, 2), Opt(1)}});
  GRADE_EXPECT(diff.empty(), "zb_h1_schedule(2, 3): " << diff);
}

TEST(ZbH1, OrdersFourStagesEightMicrobatches) {
  // K = 4, M = 8 by hand: K - s warm-up forwards (4, 3, 2, 1), then one F, one I and on
  // stage s the W of the micro-batch whose I ran s triples earlier; the delayed W's last.
  const std::vector<std::string> expected = {
      "F0 F1 F2 F3 I0 W0 F4 I1 W1 F5 I2 W2 F6 I3 W3 F7 I4 W4 I5 W5 I6 W6 I7 W7",
      "F0 F1 F2 I0 F3 I1 W0 F4 I2 W1 F5 I3 W2 F6 I4 W3 F7 I5 W4 I6 W5 I7 W6 W7",
      "F0 F1 I0 F2 I1 F3 I2 W0 F4 I3 W1 F5 I4 W2 F6 I5 W3 F7 I6 W4 I7 W5 W6 W7",
      "F0 I0 F1 I1 F2 I2 F3 I3 W0 F4 I4 W1 F5 I5 W2 F6 I6 W3 F7 I7 W4 W5 W6 W7"};
  const std::vector<std::string> got = compute_orders(zb_h1_schedule(4, 8));
  GRADE_ASSERT(got.size() == expected.size(), call(4, 8) << " has " << got.size() << " stages, expected 4");
  for (std::size_t st = 0; st < expected.size(); ++st)
    GRADE_EXPECT(got[st] == expected[st], call(4, 8) << ", stage " << st << " computes\n    " << got[st]
                                                     << "\n  expected\n    " << expected[st]);
}

TEST(ZbH1, PassesValidator) {
  // The sweep every other non-literal ZB-H1 test requires (prerequisites.h).
  const std::string problem = zb_h1_schedule_problem();
  GRADE_ASSERT(problem.empty(), problem);
}

TEST(ZbH1, IdleIsKMinusOneAtEqualCosts) {
  // At F:I:W = 1:1:1 and M >= K every device is busy 3M and idle exactly K - 1: the last
  // stage waits K - 1 forwards for its first input, and each stage's delayed W's fill what
  // would be 1F1B's drain (1F1B idles (K - 1)(F + B) = 3(K - 1) at these costs).
  GRADE_REQUIRE(valid_zb_h1_schedule());  // the simulation runs some invalid programs too
  for (int k = 1; k <= 6; ++k)
    for (int m = k; m <= 12; ++m) {
      const SplitRun run = split_backward_run(zb_h1_schedule(k, m), 1.0, 1.0, 1.0);
      GRADE_ASSERT(run.error.empty(), call(k, m) << " cannot run: " << run.error);
      for (int st = 0; st < k; ++st) {
        const double idle = run.makespan - run.busy[st];
        GRADE_ASSERT(idle == k - 1, call(k, m) << ", device " << st << ": idle " << idle << " of a "
                                               << run.makespan << "-unit step at F = I = W = 1, expected K - 1 = "
                                               << k - 1);
      }
    }
}

TEST(ZbH1, PeakInFlightAtMostK) {
  // A micro-batch is in flight on a stage from its F to its W (W still needs what F and I
  // kept). ZB-H1 keeps 1F1B's first-stage memory, K, on every stage; GPipe's would be M.
  GRADE_REQUIRE(valid_zb_h1_schedule());
  for (int k = 1; k <= 6; ++k)
    for (int m = 1; m <= 12; ++m) {
      const Schedule s = zb_h1_schedule(k, m);
      for (int st = 0; st < k; ++st) {
        int live = 0, peak = 0;
        for (const Action& a : s.per_stage[st]) {
          if (a.kind == ActionKind::Forward) ++live;
          if (a.kind == ActionKind::BackwardWeight || a.kind == ActionKind::Backward) --live;
          peak = std::max(peak, live);
        }
        GRADE_ASSERT(peak <= k, call(k, m) << ", stage " << st << ": up to " << peak
                                           << " micro-batches between F and W, expected at most K = " << k);
      }
    }
}

}  // namespace
}  // namespace pipelab::grading
