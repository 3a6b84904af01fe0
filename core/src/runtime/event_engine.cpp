// event_engine.cpp — the single-threaded event engine (see event_engine.h).
#include "pipelab/runtime/event_engine.h"

#include <deque>
#include <sstream>
#include <unordered_map>

#include "pipelab/error.h"
#include "pipelab/schedule/validate.h"
#include "step_trace.h"

namespace pipelab {

Trace execute_event_driven(const Schedule& schedule, Backend& backend) {
  validate(schedule);
  const int devices = static_cast<int>(schedule.per_stage.size());
  // One list for every device's spans (one thread: no per-worker lists to merge).
  std::vector<TraceEvent> events;
  events.reserve(schedule.size());
  std::vector<std::size_t> next(devices, 0);       // program counter of each stage
  std::unordered_map<std::uint64_t, Transfer> in_flight;  // posted, not yet received
  std::unordered_map<std::uint64_t, int> waiting;  // receive key → the stage blocked on it
  std::deque<int> runnable;
  for (int d = 0; d < devices; ++d) runnable.push_back(d);
  backend.begin_step();

  while (!runnable.empty()) {
    const int d = runnable.front();
    runnable.pop_front();
    const std::vector<Action>& program = schedule.per_stage[d];
    // Run stage d until its program ends or it waits for a transfer not yet sent.
    while (next[d] < program.size()) {
      const Action& a = program[next[d]];
      if (a.kind == ActionKind::SendActivation || a.kind == ActionKind::SendGrad) {
        Transfer t = backend.send(a);
        events.push_back(detail::make_event(d, Lane::Send, a, t.span, t.bytes));
        const std::uint64_t key = action_key(matching_recv(a));
        in_flight.emplace(key, std::move(t));
        if (auto w = waiting.find(key); w != waiting.end()) {
          runnable.push_back(w->second);  // the receiver can go on
          waiting.erase(w);
        }
      } else if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
        const std::uint64_t key = action_key(a);
        auto it = in_flight.find(key);
        if (it == in_flight.end()) {
          waiting.emplace(key, d);
          break;  // blocked; the matching send puts this stage back on the queue
        }
        const Span span = backend.receive(a, it->second);
        events.push_back(detail::make_event(d, Lane::Recv, a, span, it->second.bytes));
        in_flight.erase(it);
      } else {
        const Span span = backend.compute(a);
        events.push_back(detail::make_event(d, Lane::Compute, a, span, 0));
      }
      ++next[d];
    }
  }

  // validate() proved the schedule deadlock-free; this guards the engine itself.
  std::ostringstream stuck;
  for (int d = 0; d < devices; ++d)
    if (next[d] < schedule.per_stage[d].size())
      stuck << " stage " << d << " at " << to_string(schedule.per_stage[d][next[d]]) << ";";
  if (!stuck.str().empty())
    PIPELAB_THROW("event engine: stages never finished:" + stuck.str(), "engine bug: please report");
  return detail::assemble_trace(schedule, backend, std::move(events));
}

}  // namespace pipelab
