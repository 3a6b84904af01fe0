// p2p.cpp — deadlock freedom under a p2p model (p2p.h): a worklist simulation of the
// stages' programs.
//
// State: per stage its program counter pc and posted_end, the end of what it has posted
// (actions [0, posted_end) are posted or done). A send or receive is "posted" when its
// stage has reached it (blocking, async) or the first action of its batch (batched).
// A stage runs until its current action cannot complete; posting wakes the stages of the
// partners just posted, since only they can have been waiting for it. Each stage is
// woken at most once per partner posted, so the simulation is O(actions × batch size).
// Positions are looked up in a dense (kind, stage, micro-batch) table.
#include "pipelab/schedule/p2p.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <sstream>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/name_table.h"

namespace pipelab {

namespace {

constexpr EnumName<P2pModel> kP2pNames[] = {
    {P2pModel::Async, "async"}, {P2pModel::Batched, "batched"}, {P2pModel::Blocking, "blocking"}};

bool is_send(ActionKind k) { return k == ActionKind::SendActivation || k == ActionKind::SendGrad; }
bool is_recv(ActionKind k) { return k == ActionKind::RecvActivation || k == ActionKind::RecvGrad; }
bool is_p2p(ActionKind k) { return is_send(k) || is_recv(k); }

// The partner of a send is its receive and the other way round, over virtual stages.
Action partner_of(const Action& a, const ChunkMap& map) {
  return is_send(a.kind) ? matching_recv(a, map) : matching_send(a, map);
}

// Position of every send and receive in its stage's program, -1 if absent: a dense
// table over (kind, stage, micro-batch), the same size class as validate()'s own tables
// (a hash map would cost several times more at the sim's K = 1024, M = 16384).
class P2pPositions {
 public:
  explicit P2pPositions(const Schedule& sc)
      : stages_(static_cast<int>(sc.per_stage.size())),
        chunks_(std::max(sc.chunks, 1)),
        microbatches_(sc.microbatches),
        pos_(static_cast<std::size_t>(4) * stages_ * chunks_ * std::max(microbatches_, 0), -1) {
    for (int s = 0; s < stages_; ++s)
      for (std::size_t i = 0; i < sc.per_stage[s].size(); ++i)
        // An action filed under another stage's program is no partner (validate() names it).
        if (const std::int64_t c = cell(sc.per_stage[s][i]); c >= 0 && sc.per_stage[s][i].stage == s)
          pos_[c] = static_cast<std::int64_t>(i);
  }
  /// The position of `a` in stage a.stage's program, or -1.
  std::int64_t of(const Action& a) const {
    const std::int64_t c = cell(a);
    return c < 0 ? -1 : pos_[c];
  }

 private:
  // -1 for anything outside the table (not a send/receive, stage or micro-batch out of range).
  std::int64_t cell(const Action& a) const {
    if (!is_p2p(a.kind) || a.stage < 0 || a.stage >= stages_ || a.microbatch < 0 || a.microbatch >= microbatches_ ||
        a.chunk >= chunks_)
      return -1;
    const int kind = static_cast<int>(a.kind) - static_cast<int>(ActionKind::SendActivation);  // 0..3
    return ((static_cast<std::int64_t>(kind) * stages_ + a.stage) * chunks_ + a.chunk) * microbatches_ + a.microbatch;
  }
  int stages_;
  int chunks_;
  int microbatches_;
  std::vector<std::int64_t> pos_;
};

class P2pSimulation {
 public:
  P2pSimulation(const Schedule& sc, P2pModel model) : sc_(sc), model_(model), positions_(sc) {
    const std::size_t K = sc.per_stage.size();
    pc_.assign(K, 0);
    posted_end_.assign(K, 0);
    queued_.assign(K, 1);
    for (std::size_t s = 0; s < K; ++s) ready_.push_back(static_cast<int>(s));
  }

  void run() {
    while (!ready_.empty()) {
      const int s = ready_.front();
      ready_.pop_front();
      queued_[s] = 0;
      advance(s);
    }
  }

  // "" when every stage finished; else the deadlock message.
  std::string problem() const {
    std::ostringstream out;
    int blocked = 0;
    for (std::size_t s = 0; s < sc_.per_stage.size(); ++s) {
      if (pc_[s] >= sc_.per_stage[s].size()) continue;
      out << (blocked++ ? "; " : "") << blocked_at(static_cast<int>(s));
    }
    if (blocked == 0) return {};
    return std::string("deadlock under ") + to_string(model_) + " p2p: " + out.str();
  }

 private:
  // One past the last action of the batch that starts at `begin` of stage s: the maximal
  // run of consecutive sends and receives under batched, the action alone otherwise.
  std::size_t batch_end(int s, std::size_t begin) const {
    const auto& program = sc_.per_stage[s];
    std::size_t end = begin + 1;
    if (model_ == P2pModel::Batched)
      while (end < program.size() && is_p2p(program[end].kind)) ++end;
    return end;
  }

  // Has the partner of `a` been posted (reached, or already done) by its stage?
  bool partner_posted(const Action& a) const {
    const Action partner = partner_of(a, sc_.chunk_map());
    const std::int64_t at = positions_.of(partner);
    if (at < 0) return false;  // no partner at all: never completes
    return static_cast<std::size_t>(at) < posted_end_[partner.stage];
  }

  // What an action needs to complete. Async: a send nothing (it is buffered), a
  // receive its send; batched and blocking: every action its partner posted.
  // A send to a chunk on its own device (the bottom of zbv's V) is a local copy under
  // every model, as PyTorch hands a tensor between two stages of one rank: it never waits.
  bool can_complete(const Action& a) const {
    if (model_ == P2pModel::Async && is_send(a.kind)) return true;
    if (is_send(a.kind) && partner_of(a, sc_.chunk_map()).stage == a.stage) return true;
    return partner_posted(a);
  }

  void wake(int stage) {
    if (stage < 0 || queued_[stage]) return;
    queued_[stage] = 1;
    ready_.push_back(stage);
  }

  void advance(int s) {
    const auto& program = sc_.per_stage[s];
    while (pc_[s] < program.size()) {
      if (!is_p2p(program[pc_[s]].kind)) {  // compute never waits
        posted_end_[s] = ++pc_[s];
        continue;
      }
      const std::size_t end = batch_end(s, pc_[s]);
      if (posted_end_[s] < end) {  // post the batch: its partners' stages may now go on
        posted_end_[s] = end;
        for (std::size_t i = pc_[s]; i < end; ++i) {
          const Action partner = partner_of(program[i], sc_.chunk_map());
          if (positions_.of(partner) >= 0) wake(partner.stage);
        }
      }
      for (std::size_t i = pc_[s]; i < end; ++i)
        if (!can_complete(program[i])) return;  // blocked; a partner's posting wakes s
      pc_[s] = end;
    }
  }

  // "stage 0 blocked at SendAct1 s0 (action #3, 0-based) waiting for stage 1 to reach RecvAct1 s1".
  std::string blocked_at(int s) const {
    const auto& program = sc_.per_stage[s];
    const std::size_t begin = pc_[s];
    const std::size_t end = batch_end(s, begin);
    std::ostringstream out;
    out << "stage " << s << " blocked at ";
    if (end - begin == 1) {
      out << to_string(program[begin]) << " (action #" << begin << ", 0-based)";
    } else {
      out << "the batch ";
      for (std::size_t i = begin; i < end; ++i) out << (i > begin ? " + " : "") << to_string(program[i]);
      out << " (actions #" << begin << "..#" << end - 1 << ", 0-based)";
    }
    const char* verb = model_ == P2pModel::Batched ? " to post " : " to reach ";
    int waits = 0;
    for (std::size_t i = begin; i < end; ++i) {
      if (can_complete(program[i])) continue;
      const Action partner = partner_of(program[i], sc_.chunk_map());
      out << (waits++ ? " and for stage " : " waiting for stage ") << partner.stage;
      if (positions_.of(partner) >= 0)
        out << verb << to_string(partner);
      else
        out << " to run " << to_string(partner) << ", which is not in its program";
    }
    return out.str();
  }

  const Schedule& sc_;
  P2pModel model_;
  std::vector<std::size_t> pc_;          // next action of each stage
  std::vector<std::size_t> posted_end_;  // actions [0, posted_end) are posted or done
  std::vector<char> queued_;             // stage is in ready_
  std::deque<int> ready_;
  P2pPositions positions_;  // every send and receive
};

}  // namespace

const char* to_string(P2pModel model) { return name_of(kP2pNames, model); }

P2pModel p2p_model_from_string(const std::string& name) {
  if (const auto m = value_named(kP2pNames, name)) return *m;
  PIPELAB_USAGE_ERROR("--p2p", "unknown p2p model '" + name + "'",
                      "use one of " + list_names(kP2pNames) +
                          " (async: sends never wait; batched: adjacent sends and receives posted together; "
                          "blocking: each send waits for its receive; docs/p2p.md)");
}

std::string deadlock_problem(const Schedule& schedule, P2pModel model) {
  P2pSimulation simulation(schedule, model);
  simulation.run();
  return simulation.problem();
}

std::string deadlock_hint(P2pModel model) {
  switch (model) {
    case P2pModel::Blocking:
      return "a blocking send waits until its receiver reaches the matching receive, so two neighbours that "
             "both send first wait for each other: post each send together with the receive beside it "
             "(--p2p batched, as batch_isend_irecv or an NCCL group does), or reorder the programs so both "
             "ends of every link list its messages in the same order (docs/p2p.md)";
    case P2pModel::Batched:
      return "a batch completes only when the partner of each of its sends and receives is posted: put the "
             "send and the receive that wait on each other in one batch (next to each other), or reorder "
             "the programs so both ends of every link list its messages in the same order (docs/p2p.md)";
    case P2pModel::Async:
      break;
  }
  return "sends never block but receives do, so each stuck stage waits for a send that another stuck stage "
         "only issues after its own receive; reorder the programs so every send comes before the sender "
         "blocks on a receive that depends on it";
}

}  // namespace pipelab
