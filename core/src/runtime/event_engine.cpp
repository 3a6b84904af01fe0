// event_engine.cpp — the single-threaded event engine (see event_engine.h).
#include "pipelab/runtime/event_engine.h"

#include <cstdint>
#include <deque>
#include <sstream>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/schedule/validate.h"
#include "step_trace.h"

namespace pipelab {

namespace {

// The transfers posted and not yet received, found by their receive in O(1) without a
// hash or an allocation per message: one slot per (receiving stage, chunk, channel,
// micro-batch) — validate() proved stage, chunk and micro-batch in range and each
// receive unique — holding 1 + an index into a pool of transfers whose freed entries are
// reused. 4 bytes a slot: 8·K·v·M bytes, about 1.3 bytes per action.
class Mailbox {
 public:
  Mailbox(int stages, int chunks, int microbatches)
      : chunks_(static_cast<std::size_t>(chunks)),
        microbatches_(static_cast<std::size_t>(microbatches)),
        slot_(2 * static_cast<std::size_t>(stages) * chunks_ * microbatches_, 0) {}

  void post(const Action& recv, Transfer t) {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
      pool_[index] = std::move(t);
    } else {
      index = static_cast<std::uint32_t>(pool_.size());
      pool_.push_back(std::move(t));
    }
    slot_[slot_of(recv)] = index + 1;
  }
  /// The transfer `recv` waits for, or null if its send has not happened yet.
  Transfer* find(const Action& recv) {
    const std::uint32_t s = slot_[slot_of(recv)];
    return s == 0 ? nullptr : &pool_[s - 1];
  }
  /// Forget the transfer of `recv` (find() returned it).
  void erase(const Action& recv) {
    std::uint32_t& s = slot_[slot_of(recv)];
    pool_[s - 1] = Transfer{};  // drop the payload now, as the executor's mailbox does
    free_.push_back(s - 1);
    s = 0;
  }

 private:
  std::size_t slot_of(const Action& recv) const {
    const std::size_t channel = recv.kind == ActionKind::RecvGrad ? 1 : 0;
    const std::size_t virtual_stage = static_cast<std::size_t>(recv.stage) * chunks_ + recv.chunk;
    return (virtual_stage * 2 + channel) * microbatches_ + static_cast<std::size_t>(recv.microbatch);
  }

  std::size_t chunks_;
  std::size_t microbatches_;
  std::vector<std::uint32_t> slot_;
  std::vector<Transfer> pool_;
  std::vector<std::uint32_t> free_;
};

// The event engine runs a collective only once every device has reached it: there is
// nobody left to wait for.
class AllArrived final : public Rendezvous {
 public:
  bool arrive_and_wait() override { return true; }
};

}  // namespace

Trace execute_event_driven(const Schedule& schedule, Backend& backend) {
  validate(schedule);
  const int devices = static_cast<int>(schedule.per_stage.size());
  // One list for every device's spans (one thread: no per-worker lists to merge), each
  // (device, lane) in its own run: the canonical order's layout, so the sort at the
  // end sorts runs of a few thousand spans in cache instead of millions at once.
  detail::LaneSlots slots = detail::lane_slots(schedule);
  std::vector<TraceEvent> events(slots.total);
  const auto record = [&](int d, Lane lane, const Action& a, Span span, std::uint64_t bytes) {
    events[slots.first[d][static_cast<int>(lane)]++] = detail::make_event(d, lane, a, span, bytes);
  };
  std::vector<std::size_t> next(devices, 0);       // program counter of each stage
  Mailbox in_flight(devices, schedule.chunks, schedule.microbatches);  // posted, not yet received
  const ChunkMap map = schedule.chunk_map();
  // A blocked stage waits for the receive at its program counter; nothing else.
  std::vector<char> blocked(devices, 0);
  std::deque<int> runnable;
  for (int d = 0; d < devices; ++d) runnable.push_back(d);
  // Devices parked at a collective (AllReduceGrads); when all are, it runs on every one.
  int at_collective = 0;
  AllArrived all_arrived;
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
        record(d, Lane::Send, a, t.span, t.bytes);
        const Action recv = matching_recv(a, map);
        in_flight.post(recv, std::move(t));
        const int r = recv.stage;
        if (blocked[r] && schedule.per_stage[r][next[r]] == recv) {
          blocked[r] = 0;
          runnable.push_back(r);  // the receiver can go on
        }
      } else if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
        Transfer* t = in_flight.find(a);
        if (t == nullptr) {
          blocked[d] = 1;
          break;  // blocked; the matching send puts this stage back on the queue
        }
        const Span span = backend.receive(a, *t);
        record(d, Lane::Recv, a, span, t->bytes);
        in_flight.erase(a);
      } else if (is_collective(a.kind)) {
        // validate() proved every device runs it once: park until the last one arrives,
        // then run every device's part in device order and let them all go on.
        if (++at_collective < devices) break;
        at_collective = 0;
        for (int p = 0; p < devices; ++p) {
          const Action& part = schedule.per_stage[p][next[p]];
          const Transfer t = backend.all_reduce(part, all_arrived);
          record(p, Lane::Send, part, t.span, t.bytes);
          ++next[p];
          if (p != d) runnable.push_back(p);
        }
        continue;  // d's part is done too: go on with its next action
      } else {
        const Span span = backend.compute(a);
        record(d, Lane::Compute, a, span, 0);
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
