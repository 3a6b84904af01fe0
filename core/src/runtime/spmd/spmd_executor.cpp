// spmd_executor.cpp — one step on one rank: the stage's program on this process's one
// worker (the calling thread), its transfers over MPI (spmd_run.h).
//
// A send hands the backend's buffer to MPI_Isend and moves on (async p2p, the model the
// schedule was validated under: schedule/p2p.h); the buffer stays charged to the sender
// until the send completes, which each rank checks after every action. A receive posts
// MPI_Irecv into a buffer charged to the receiver and polls until the bytes are there:
// its span runs from the post to the arrival on this rank's clock; the merge
// (spmd_merge.cpp) moves its start to the send's start, as every backend draws a
// transfer (backends/backend.h). A rank has no progress thread, so a message that came
// while the rank computed is seen when the rank reaches its receive. A data-parallel
// rank (replica r) sends nothing: its AllReduceGrads is an MPI all-reduce
// (spmd_all_reduce.h).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <list>
#include <string>

#include "../step_trace.h"
#include "mpi_comm.h"
#include "pipelab/error.h"
#include "spmd_all_reduce.h"
#include "spmd_executor.h"

namespace pipelab::spmd {

namespace {

// The tag of a transfer, from its send (micro-batch m, the sender's chunk c of v):
// 2·(m·v + c) for an activation, + 1 for a gradient. Source and tag identify it: from one
// rank to another each (kind, m, sending chunk) crosses once a step.
int tag_of(const Action& send, int chunks) {
  const bool grad = send.kind == ActionKind::SendGrad;
  return 2 * (send.microbatch * chunks + send.chunk) + (grad ? 1 : 0);
}

// Fault injection for the fault tests (tests/mpi): PIPELAB_SPMD_FAULT="RANK:throw" makes
// rank RANK throw a pipelab::Error, "RANK:kill" SIGKILL itself, "RANK:hang" stop (sleep)
// for an hour, at the middle action of its program in its first step.
void inject_fault(int rank, std::size_t index, std::size_t program_size) {
  static bool injected = false;  // the first step only: the test ends there
  const char* fault = std::getenv("PIPELAB_SPMD_FAULT");
  if (fault == nullptr || injected || index != program_size / 2) return;
  const std::string text = fault;
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos || std::atoi(text.substr(0, colon).c_str()) != rank) return;
  injected = true;
  if (text.substr(colon + 1) == "kill") raise(SIGKILL);
  if (text.substr(colon + 1) == "hang") sleep(3600);  // alive, silent: the others' watchdog ends it
  PIPELAB_THROW("injected fault (PIPELAB_SPMD_FAULT=" + text + ")", "unset PIPELAB_SPMD_FAULT: it is for the tests");
}

// A send in flight: its request and the transfer whose buffer MPI reads.
struct InFlight {
  Request request;
  Transfer transfer;
};

}  // namespace

std::vector<TraceEvent> run_stage_program(const Schedule& schedule, Backend& backend,
                                          const ExecutorOptions& options) {
  const int me = rank();
  const auto origin = *backend.time_origin();  // the cpu backend's: begin_step() ran
  auto now_us = [&] {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - origin).count();
  };
  const std::vector<Action>& program = schedule.per_stage.at(me);
  const ChunkMap map = schedule.chunk_map();  // where each chunk's neighbour lives
  std::vector<TraceEvent> events;
  std::list<InFlight> sends;
  auto finish_sends = [&] { sends.remove_if([](InFlight& s) { return s.request.done(); }); };
  const std::string who =
      "rank " + std::to_string(me) + (schedule.replicas > 1 ? " (replica " : " (stage ") + std::to_string(me) + ")";
  for (std::size_t i = 0; i < program.size(); ++i) {
    const Action& a = program[i];
    inject_fault(me, i, program.size());
    switch (a.kind) {
      case ActionKind::SendActivation:
      case ActionKind::SendGrad: {
        Transfer t = backend.send(a);
        const WireBytes wire = backend.wire_bytes(t);
        const int to = matching_recv(a, map).stage;  // the receiving device = its rank
        sends.emplace_back();
        check(MPI_Isend(wire.data, static_cast<int>(wire.bytes), MPI_BYTE, to, tag_of(a, map.chunks), comm(),
                        sends.back().request.out()),
              "MPI_Isend");
        // The send lane: from the backend's send() to MPI's taking the message.
        events.push_back(detail::make_event(me, Lane::Send, a, {t.span.start_us, now_us(), -1}, t.bytes));
        sends.back().transfer = std::move(t);
        break;
      }
      case ActionKind::RecvActivation:
      case ActionKind::RecvGrad: {
        WireBytes wire;
        Transfer t = backend.wire_transfer(a, wire);
        const int from = t.send.stage;  // wire_transfer: the matching send, on its device = rank
        Request request;
        const double posted = now_us();
        check(MPI_Irecv(wire.data, static_cast<int>(wire.bytes), MPI_BYTE, from, tag_of(t.send, map.chunks), comm(),
                        request.out()),
              "MPI_Irecv");
        wait(request, options.watchdog_seconds,
             [&] { return who + " waiting at " + to_string(a) + " for " + to_string(t.send) + " from rank " +
                          std::to_string(from); },
             finish_sends);
        t.span = {posted, now_us(), -1};
        const Span span = backend.receive(a, t);
        events.push_back(detail::make_event(me, Lane::Recv, a, span, t.bytes));
        break;
      }
      case ActionKind::Forward:
      case ActionKind::Backward:
      case ActionKind::Recompute:
      case ActionKind::BackwardInput:
      case ActionKind::BackwardWeight:
      case ActionKind::OptimizerStep:
        events.push_back(detail::make_event(me, Lane::Compute, a, backend.compute(a), 0));
        break;
      case ActionKind::AllReduceGrads: {
        // A collective: drawn on the send lane, the comm lane of its bytes, as in one process.
        const Transfer t = all_reduce_grads(backend, a, schedule.replicas, options.watchdog_seconds, now_us, who);
        events.push_back(detail::make_event(me, Lane::Send, a, t.span, t.bytes));
        break;
      }
      default:  // an action kind this transport does not know yet: refused, never guessed at
        PIPELAB_THROW(who + ": the multi-process mode cannot run " + to_string(a) + " yet",
                      "run this schedule without mpirun (the stages as threads of one process)");
    }
    finish_sends();
  }
  // The step ends when every send has left: its buffer is free, its receiver has it.
  for (InFlight& s : sends)
    wait(s.request, options.watchdog_seconds,
         [&] { return who + " waiting for " + to_string(s.transfer.send) + " to be received"; });
  return events;
}

}  // namespace pipelab::spmd
