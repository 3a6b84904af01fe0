// unit_time_sim.h — a unit-cost event simulation of a schedule's programs, for tests that
// check a theory's idle time against the programs themselves (over its virtual stages:
// one chunk per device, or several).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

// Event simulation of the programs as generated: a stage runs its actions in order; a
// receive waits for its send, sends and links are free; F, B, I, W, R cost `cost`'s t_f,
// t_b, t_i, t_w, t_r. Returns the idle time per device (the same on every device: T -
// busy, busy = chunks · M · (t_f + t_i + t_w (+ t_r)), a B costing t_i + t_w).
inline double simulated_idle(const Schedule& s, const CostRatio& cost) {
  const ChunkMap map = s.chunk_map();
  std::map<std::uint64_t, double> sent;  // action_key(send) → when
  std::vector<std::size_t> pc(s.stages, 0);
  std::vector<double> clock(s.stages, 0.0);
  for (bool moved = true; moved;) {
    moved = false;
    for (int st = 0; st < s.stages; ++st) {
      for (; pc[st] < s.per_stage[st].size(); ++pc[st], moved = true) {
        const Action& a = s.per_stage[st][pc[st]];
        if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
          const auto it = sent.find(action_key(matching_send(a, map)));
          if (it == sent.end()) break;  // blocked: try the other stages
          clock[st] = std::max(clock[st], it->second);
        } else if (a.kind == ActionKind::SendActivation || a.kind == ActionKind::SendGrad) {
          sent[action_key(a)] = clock[st];
        } else if (a.kind == ActionKind::Forward) {
          clock[st] += cost.forward;
        } else if (a.kind == ActionKind::Backward) {
          clock[st] += cost.backward;
        } else if (a.kind == ActionKind::BackwardInput) {
          clock[st] += cost.backward_input;
        } else if (a.kind == ActionKind::BackwardWeight) {
          // A whole-batch W (--w-batch) is the M W's it replaces, one after the other.
          clock[st] += is_batched_weight(a) ? s.microbatches * cost.backward_weight : cost.backward_weight;
        } else if (a.kind == ActionKind::Recompute) {
          clock[st] += cost.recompute;
        }
      }
    }
  }
  for (int st = 0; st < s.stages; ++st)
    EXPECT_EQ(pc[st], s.per_stage[st].size()) << "stage " << st << " is stuck\n" << describe(s);
  const double makespan = *std::max_element(clock.begin(), clock.end());
  const double per_microbatch =
      cost.forward + cost.backward_input + cost.backward_weight + (s.remat ? cost.recompute : 0.0);
  return makespan - static_cast<double>(s.chunks) * s.microbatches * per_microbatch;
}

}  // namespace pipelab
