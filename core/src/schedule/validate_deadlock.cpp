// validate_deadlock.cpp — validate()'s pass 4, deadlock freedom (validate_deadlock.h):
// symbolic execution with non-blocking sends and blocking receives, over the schedule's
// virtual stages (one per device, or K·v with chunks).
#include "validate_deadlock.h"

#include <deque>
#include <sstream>
#include <vector>

#include "pipelab/error.h"

namespace pipelab::detail {

namespace {

bool is_recv(ActionKind k) { return k == ActionKind::RecvActivation || k == ActionKind::RecvGrad; }
bool is_send(ActionKind k) { return k == ActionKind::SendActivation || k == ActionKind::SendGrad; }

}  // namespace

void check_deadlock(const Schedule& sc) {
  const int K = sc.stages;
  const int M = sc.microbatches;
  const ChunkMap map = sc.chunk_map();
  // One cell per (virtual stage, micro-batch) of the sending side.
  const auto cell = [&](const Action& a) {
    return static_cast<std::size_t>(map.virtual_stage(a.stage, a.chunk)) * M + a.microbatch;
  };
  const std::size_t cells = static_cast<std::size_t>(map.count()) * M;

  // sent[kind][cell(s, m)]: the send of (s, m) has executed.
  std::vector<char> sent_act(cells, 0);
  std::vector<char> sent_grad(cells, 0);
  // waiter[...][cell(s, m)]: the stage blocked on the receive that this send feeds (-1: none).
  std::vector<int> waiter_act(cells, -1);
  std::vector<int> waiter_grad(cells, -1);
  std::vector<std::size_t> pc(K, 0);  // next action of each stage

  std::deque<int> ready;
  for (int s = 0; s < K; ++s) ready.push_back(s);

  while (!ready.empty()) {
    const int s = ready.front();
    ready.pop_front();
    const auto& program = sc.per_stage[s];
    while (pc[s] < program.size()) {
      const Action& a = program[pc[s]];
      if (is_recv(a.kind)) {
        const Action send = matching_send(a, map);
        const bool act = a.kind == ActionKind::RecvActivation;
        if (!(act ? sent_act : sent_grad)[cell(send)]) {
          (act ? waiter_act : waiter_grad)[cell(send)] = s;
          break;  // blocked; the matching send will wake this stage
        }
      } else if (is_send(a.kind)) {
        const bool act = a.kind == ActionKind::SendActivation;
        const std::size_t c = cell(a);
        (act ? sent_act : sent_grad)[c] = 1;
        int& w = (act ? waiter_act : waiter_grad)[c];
        if (w >= 0) {
          ready.push_back(w);
          w = -1;
        }
      }
      ++pc[s];
    }
  }

  std::ostringstream stuck;
  int stuck_count = 0;
  for (int s = 0; s < K; ++s) {
    if (pc[s] >= sc.per_stage[s].size()) continue;
    const Action& a = sc.per_stage[s][pc[s]];
    const Action send = matching_send(a, map);
    stuck << (stuck_count++ ? "; " : "") << "stage " << s << " waits at " << to_string(a) << " for "
          << to_string(send) << " from stage " << send.stage;
  }
  if (stuck_count > 0)
    PIPELAB_THROW("deadlock: " + stuck.str(),
                  "sends never block but receives do, so each stuck stage waits for a send that another "
                  "stuck stage only issues after its own receive; reorder the programs so every send "
                  "comes before the sender blocks on a receive that depends on it");
}

}  // namespace pipelab::detail
