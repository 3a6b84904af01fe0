// test_p2p.cpp — deadlock_problem() under the async, batched and blocking p2p models
// (pipelab/schedule/p2p.h), and validate(schedule, model).
//
// Oracles: schedules written out literally with their messages worked out by hand; a
// chain argument (below) for the built-in GPipe and naive schedules; and an exhaustive
// explorer of every interleaving of single steps, written from the definitions in p2p.h
// and sharing no code with the checker, on hundreds of small random schedules.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/p2p.h"
#include "pipelab/schedule/validate.h"
#include "pipelab/schedule/zbv.h"
#include "action_shorthand.h"

namespace pipelab {
namespace {

using namespace shorthand;  // F, B, SA, ..., make (action_shorthand.h)
constexpr P2pModel kModels[] = {P2pModel::Async, P2pModel::Batched, P2pModel::Blocking};

// pipelab's 1F1B for K = 2, M = 2, written out: stage 0 warms up with both forwards,
// stage 1 alternates B and F (the generator's output; checked against it below).
Schedule one_f_one_b_2x2() {
  return make(2, 2,
              {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 0), B(0, 0), RG(0, 1), B(0, 1), Opt(0)},
               {RA(1, 0), F(1, 0), B(1, 0), SG(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), Opt(1)}});
}

TEST(P2pModel, NamesReadBothWays) {
  EXPECT_STREQ(to_string(P2pModel::Async), "async");
  EXPECT_STREQ(to_string(P2pModel::Batched), "batched");
  EXPECT_STREQ(to_string(P2pModel::Blocking), "blocking");
  for (P2pModel m : kModels) EXPECT_EQ(p2p_model_from_string(to_string(m)), m);
  try {
    p2p_model_from_string("sync");
    FAIL() << "no throw";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.flag(), "--p2p");
    EXPECT_NE(e.hint().find("async, batched, blocking"), std::string::npos) << e.hint();
  }
}

TEST(P2pDeadlock, OneFOneBTwoByTwoDeadlocksUnderBlockingNamingBothStages) {
  const Schedule s = one_f_one_b_2x2();
  ASSERT_EQ(s.per_stage, one_f_one_b_schedule(2, 2).per_stage);
  // By hand: SendAct0 meets RecvAct0 (stage 1's first action). Then stage 0 reaches
  // SendAct1 (#3) while stage 1 runs F0 B0 and reaches SendGrad0 (#3): each sender waits
  // for the other to reach its receive, which comes after its own send.
  EXPECT_EQ(deadlock_problem(s, P2pModel::Blocking),
            "deadlock under blocking p2p: stage 0 blocked at SendAct1 s0 (action #3, 0-based) waiting for "
            "stage 1 to reach RecvAct1 s1; stage 1 blocked at SendGrad0 s1 (action #3, 0-based) waiting for "
            "stage 0 to reach RecvGrad0 s0");
  // Batched: SendAct1 + RecvGrad0 and SendGrad0 + RecvAct1 are posted together and meet.
  EXPECT_EQ(deadlock_problem(s, P2pModel::Batched), "");
  EXPECT_EQ(deadlock_problem(s, P2pModel::Async), "");
}

TEST(P2pDeadlock, BatchedDeadlockNamesTheBatchAndItsMissingPartner) {
  // Stage 1 sends the gradients in the order 1, 0; stage 0 receives them 0, 1. Async is
  // fine (sends are buffered). Batched: stage 0's batch SendAct1 + RecvGrad0 (#3..#4)
  // needs SendGrad0 posted; stage 1 posts SendGrad1 (#5) first and it needs RecvGrad1,
  // which stage 0 posts only after that batch.
  const Schedule s =
      make(2, 2,
           {{F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 0), B(0, 0), RG(0, 1), B(0, 1), Opt(0)},
            {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), B(1, 0), SG(1, 0), Opt(1)}});
  ASSERT_EQ(validation_error(s), "");
  EXPECT_EQ(deadlock_problem(s, P2pModel::Async), "");
  EXPECT_EQ(deadlock_problem(s, P2pModel::Batched),
            "deadlock under batched p2p: stage 0 blocked at the batch SendAct1 s0 + RecvGrad0 s0 (actions "
            "#3..#4, 0-based) waiting for stage 1 to post SendGrad0 s1; stage 1 blocked at SendGrad1 s1 "
            "(action #5, 0-based) waiting for stage 0 to post RecvGrad1 s0");
  // Blocking: stage 0's SendAct1 meets RecvAct1 (#2), then stage 0 waits at RecvGrad0
  // (#4) while stage 1 waits at SendGrad1 (#5).
  EXPECT_EQ(deadlock_problem(s, P2pModel::Blocking),
            "deadlock under blocking p2p: stage 0 blocked at RecvGrad0 s0 (action #4, 0-based) waiting for "
            "stage 1 to reach SendGrad0 s1; stage 1 blocked at SendGrad1 s1 (action #5, 0-based) waiting for "
            "stage 0 to reach RecvGrad1 s0");
}

TEST(P2pDeadlock, ValidateUnderAModelThrowsTheMessageWithAHint) {
  const Schedule s = one_f_one_b_2x2();
  EXPECT_NO_THROW(validate(s, P2pModel::Async));
  EXPECT_NO_THROW(validate(s, P2pModel::Batched));
  try {
    validate(s, P2pModel::Blocking);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), deadlock_problem(s, P2pModel::Blocking));
    EXPECT_NE(e.hint().find("--p2p batched"), std::string::npos) << e.hint();
  }
  // The structural passes still come first: a missing action is named as such.
  Schedule broken = s;
  broken.per_stage[1].pop_back();  // drops nothing needed (Opt is optional) ...
  broken.per_stage[1].erase(broken.per_stage[1].begin() + 7);  // ... SendGrad1 is needed
  EXPECT_THROW(validate(broken, P2pModel::Batched), Error);
  EXPECT_NE(validation_error(broken).find("missing SendGrad1 s1"), std::string::npos);
}

// Why GPipe (and naive, GPipe with M = 1) is deadlock-free under all three models: the
// stages form a chain, and on every link (s, s+1) both ends list their messages in the
// same order — SendAct 0..M-1 then RecvGrad M-1..0 on stage s, RecvAct 0..M-1 then
// SendGrad M-1..0 on stage s+1. Suppose a deadlock, stage s stuck at an action whose
// partner on stage t is not posted. Every earlier message of link (s, t) has completed on
// s, so t has posted its part of each; t's next message on that link is that very
// partner, so t is stuck at an action before it, and the stuck action's missing partner
// is on its other link (t, u), u != s: the same partner on (s, t) was posted. Following
// the stuck partners walks the chain in one direction without turning back, and must end
// at a stage with no further link: a contradiction. Remat only adds compute (R).
TEST(P2pDeadlock, GpipeAndNaiveAreDeadlockFreeUnderEveryModel) {
  for (P2pModel model : kModels) {
    for (int k = 1; k <= 6; ++k) {
      EXPECT_EQ(deadlock_problem(naive_schedule(k), model), "") << to_string(model) << " K=" << k;
      for (int m = 1; m <= 8; ++m) {
        EXPECT_EQ(deadlock_problem(gpipe_schedule(k, m), model), "") << to_string(model) << " " << k << "x" << m;
        EXPECT_EQ(deadlock_problem(with_recompute(gpipe_schedule(k, m)), model), "")
            << to_string(model) << " remat " << k << "x" << m;
      }
    }
  }
}

// 1F1B's link (s, s+1) is out of order (stage s sends one more activation before its
// first gradient than stage s+1 receives), so the chain argument fails and blocking p2p
// deadlocks once there are two micro-batches and two stages. Batched p2p posts the send
// with the receive beside it (send_forward_recv_backward, Megatron's naming) and runs.
TEST(P2pDeadlock, OneFOneBRunsBatchedAndDeadlocksBlocking) {
  for (int k = 1; k <= 8; ++k) {
    for (int m = 1; m <= 16; ++m) {
      SCOPED_TRACE(std::to_string(k) + "x" + std::to_string(m));
      const Schedule s = one_f_one_b_schedule(k, m);
      EXPECT_EQ(deadlock_problem(s, P2pModel::Async), "");
      EXPECT_EQ(deadlock_problem(s, P2pModel::Batched), "");
      EXPECT_EQ(deadlock_problem(with_recompute(s), P2pModel::Batched), "");
      // M = 1 is fill-drain (the chain argument); K = 1 has no messages at all.
      const bool expect_deadlock = k >= 2 && m >= 2;
      EXPECT_EQ(deadlock_problem(s, P2pModel::Blocking).empty(), !expect_deadlock);
    }
  }
}

// ZB-V (schedule/zbv.h): with K = 1 every send is a local copy (both chunks on device 0),
// which completes at once under every model; with M = 1 the micro-batch goes down and back
// up the V in order (the chain argument). Otherwise the two arms of the V cross on every
// link (device d sends its warm-up forwards down before it receives the first activation
// coming up, which device d + 1 sends before it has received them all): both ends send
// first, so blocking p2p deadlocks; batched does too, each receive sitting right before its
// F or I (docs/p2p.md).
TEST(P2pDeadlock, ZbvCopiesLocallyAndItsCrossingArmsDeadlockBlocking) {
  for (int k = 1; k <= 5; ++k)
    for (int m = 1; m <= 8; ++m) {
      SCOPED_TRACE(std::to_string(k) + "x" + std::to_string(m));
      const Schedule s = zbv_schedule(k, m);
      EXPECT_EQ(deadlock_problem(s, P2pModel::Async), "");
      const bool expect_deadlock = k >= 2 && m >= 2;
      EXPECT_EQ(deadlock_problem(s, P2pModel::Blocking).empty(), !expect_deadlock);
      EXPECT_EQ(deadlock_problem(s, P2pModel::Batched).empty(), !expect_deadlock);
    }
  // A lone local send: device 0 hands micro-batch 0 from chunk 0 to chunk 1 of a V.
  const Schedule one = zbv_schedule(1, 1);
  EXPECT_EQ(deadlock_problem(one, P2pModel::Blocking), "") << describe(one);
}

// [SECTION] the oracle: every interleaving, from the definitions ----------------------

bool oracle_is_p2p(K k) {
  return k == K::SendActivation || k == K::RecvActivation || k == K::SendGrad || k == K::RecvGrad;
}

// Explores every state reachable by single steps of single stages. A state is, per
// stage, its program counter and whether it has posted the batch it is at. Steps:
//   compute action                 → next action;
//   async send                     → next action (buffered);
//   async receive                  → next action once the send is done (sender past it);
//   batched/blocking, not posted   → posted;
//   batched/blocking, posted       → past the batch once every action in it has its
//                                    partner done or posted (in the partner's posted batch).
// A batch: the actions from pc while they are sends/receives (batched), pc alone (blocking).
class Explorer {
 public:
  Explorer(const Schedule& sc, P2pModel model) : sc_(sc), model_(model) {}

  // Every reachable state that is not the end and has no step.
  std::vector<std::vector<int>> dead_states() {
    std::vector<std::vector<int>> dead;
    std::vector<std::vector<int>> stack{std::vector<int>(2 * sc_.per_stage.size(), 0)};
    std::unordered_set<std::uint64_t> seen{encode(stack.back())};
    while (!stack.empty()) {
      const std::vector<int> state = stack.back();
      stack.pop_back();
      bool finished = true, moved = false;
      for (std::size_t s = 0; s < sc_.per_stage.size(); ++s) {
        if (state[2 * s] < static_cast<int>(sc_.per_stage[s].size())) finished = false;
        std::vector<int> next = state;
        if (!step(next, static_cast<int>(s))) continue;
        moved = true;
        if (seen.insert(encode(next)).second) stack.push_back(next);
      }
      if (!finished && !moved) dead.push_back(state);
    }
    return dead;
  }

 private:
  std::uint64_t encode(const std::vector<int>& state) const {
    std::uint64_t code = 0;
    for (int v : state) code = code * 64 + static_cast<std::uint64_t>(v);  // pc < 63 here
    return code;
  }

  int batch_end(int s, int i) const {
    const auto& p = sc_.per_stage[s];
    int end = i + 1;
    if (model_ == P2pModel::Batched)
      while (end < static_cast<int>(p.size()) && oracle_is_p2p(p[end].kind)) ++end;
    return end;
  }

  // Stage and position of `a`, or stage -1.
  std::pair<int, int> find(const Action& a) const {
    for (std::size_t s = 0; s < sc_.per_stage.size(); ++s)
      for (std::size_t i = 0; i < sc_.per_stage[s].size(); ++i)
        if (sc_.per_stage[s][i] == a) return {static_cast<int>(s), static_cast<int>(i)};
    return {-1, 0};
  }

  Action partner(const Action& a) const {
    if (a.kind == K::SendActivation) return RA(a.stage + 1, a.microbatch);
    if (a.kind == K::RecvActivation) return SA(a.stage - 1, a.microbatch);
    if (a.kind == K::SendGrad) return RG(a.stage - 1, a.microbatch);
    return SG(a.stage + 1, a.microbatch);
  }

  bool done_or_posted(const std::vector<int>& state, const Action& a) const {
    const auto [t, j] = find(a);
    if (t < 0) return false;
    const int pc = state[2 * t];
    if (pc > j) return true;
    return state[2 * t + 1] == 1 && j >= pc && j < batch_end(t, pc);
  }

  // One step of stage s in `state`, if it has one.
  bool step(std::vector<int>& state, int s) const {
    const auto& p = sc_.per_stage[s];
    int& pc = state[2 * s];
    int& posted = state[2 * s + 1];
    if (pc >= static_cast<int>(p.size())) return false;
    const Action& a = p[pc];
    if (!oracle_is_p2p(a.kind)) return ++pc, true;
    if (model_ == P2pModel::Async) {
      const bool send = a.kind == K::SendActivation || a.kind == K::SendGrad;
      if (!send) {
        const auto [t, j] = find(partner(a));
        if (t < 0 || state[2 * t] <= j) return false;
      }
      return ++pc, true;
    }
    if (!posted) return posted = 1, true;
    const int end = batch_end(s, pc);
    for (int i = pc; i < end; ++i)
      if (!done_or_posted(state, partner(p[i]))) return false;
    pc = end;
    posted = 0;
    return true;
  }

  const Schedule& sc_;
  P2pModel model_;
};

// A random complete, ordered schedule: each stage's program merges the micro-batches'
// chains (RecvAct F SendAct, then RecvGrad B SendGrad) in a random order.
Schedule random_schedule(std::mt19937& rng, int stages, int microbatches) {
  Schedule sc = make(stages, microbatches, std::vector<std::vector<Action>>(stages));
  for (int s = 0; s < stages; ++s) {
    std::vector<std::vector<Action>> chains(microbatches);
    for (int m = 0; m < microbatches; ++m) {
      append_forward(chains[m], s, m, stages);
      append_backward(chains[m], s, m, stages);
    }
    std::vector<std::size_t> next(microbatches, 0);
    std::size_t left = 0;
    for (const auto& c : chains) left += c.size();
    for (; left > 0; --left) {
      int m;
      do m = static_cast<int>(rng() % microbatches);
      while (next[m] == chains[m].size());
      sc.per_stage[s].push_back(chains[m][next[m]++]);
    }
    sc.per_stage[s].push_back(Opt(s));
  }
  return sc;
}

TEST(P2pDeadlock, AgreesWithAnExhaustiveExplorerOnRandomSchedules) {
  std::mt19937 rng(13);
  int deadlocks[3] = {0, 0, 0}, checked = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int stages = 2 + trial % 2;           // 2 or 3
    const int microbatches = 1 + (trial / 2) % 3;  // 1..3
    const Schedule sc = random_schedule(rng, stages, microbatches);
    for (int mi = 0; mi < 3; ++mi) {
      const P2pModel model = kModels[mi];
      SCOPED_TRACE(std::string(to_string(model)) + " trial " + std::to_string(trial) + "\n" + describe(sc));
      const std::vector<std::vector<int>> dead = Explorer(sc, model).dead_states();
      const std::string problem = deadlock_problem(sc, model);
      ++checked;
      // Posting only grows, so all interleavings get stuck in the same state or none does.
      ASSERT_LE(dead.size(), 1u);
      ASSERT_EQ(problem.empty(), dead.empty()) << problem;
      // Async is what validate()'s own pass 4 proves.
      if (model == P2pModel::Async) {
        EXPECT_EQ(validation_error(sc).empty(), dead.empty());
      }
      if (dead.empty()) continue;
      ++deadlocks[mi];
      // The message names exactly the stuck stages, each at the action it is stuck at.
      for (int s = 0; s < stages; ++s) {
        const int pc = dead[0][2 * s];
        const bool stuck = pc < static_cast<int>(sc.per_stage[s].size());
        const std::string named = "stage " + std::to_string(s) + " blocked at ";
        EXPECT_EQ(problem.find(named) != std::string::npos, stuck) << problem;
        if (!stuck) continue;
        const std::string at = to_string(sc.per_stage[s][pc]) + " (action #" + std::to_string(pc) + ",";
        const std::string batch = "batch " + to_string(sc.per_stage[s][pc]) + " ";
        EXPECT_TRUE(problem.find(named + at) != std::string::npos || problem.find(named + "the " + batch) != std::string::npos)
            << problem;
      }
    }
  }
  // The random programs reach both verdicts under every model. (No model is uniformly
  // stricter: a batch can post a receive and the send its partner waits for together,
  // which async cannot, and a blocking send can complete before its batch would.)
  EXPECT_EQ(checked, 1200);
  for (int mi = 0; mi < 3; ++mi) {
    EXPECT_GT(deadlocks[mi], 0) << to_string(kModels[mi]);
    EXPECT_LT(deadlocks[mi], 400) << to_string(kModels[mi]);
  }
}

}  // namespace
}  // namespace pipelab
