// pipelab/backends/replay.h — a step replayed from measured costs on dedicated devices.
//
// A wall-clock measurement on a shared machine mixes two things: the schedule's
// overlap and how often each worker thread was on a core. The replay keeps the first
// and removes the second. It takes the measured per-action costs (of one step, or the
// per-action median over a run's timed steps) — the thread
// CPU time of each compute action on cpu (what it costs on a core of its own), the span
// on sim and cuda — and the measured transfer times, and runs the same schedule again
// in virtual time with one dedicated device per stage (on the event engine). Every
// number that comes out is labelled "replayed from measured costs".
//
// Link model, as measured: a transfer takes its measured time; transfers from one
// sender in one direction go one after another. On cpu the sender's thread does the
// copy (sender_busy: its clock advances by the transfer); on sim and cuda sends are
// asynchronous, as they were measured. A receive waits for the transfer to arrive.
// No memory is modelled: the replay's trace has no memory samples.
#pragma once

#include <memory>
#include <unordered_map>

#include "pipelab/backends/backend.h"
#include "pipelab/trace/trace.h"

namespace pipelab {

/// What one measured step cost, per action: the input of a replay.
struct MeasuredCosts {
  /// µs of each compute action (F, B, R, OptimizerStep), keyed by action_key().
  std::unordered_map<std::uint64_t, double> compute_us;
  /// µs of each transfer, keyed by its send's action_key().
  std::unordered_map<std::uint64_t, double> transfer_us;
  /// True when compute costs are thread CPU times (cpu), false for spans (sim, cuda).
  bool cpu_time = false;
  /// True when a sender is busy while its transfer moves (the cpu backend's memcpy).
  bool sender_busy = false;
  std::string measured_backend;  ///< the trace's backend ("cpu", "sim", "cuda")
};

/// The costs of `measured`: thread CPU time where every compute span has one (cpu),
/// else span durations. Throws pipelab::Error if the trace has no events.
MeasuredCosts measured_costs(const Trace& measured);
/// The costs of several measured steps of one schedule: each action's cost is the
/// median of its measurements over `steps` (thread CPU times only if every step has
/// them). Throws pipelab::Error if there is no step or the first has no events.
MeasuredCosts measured_costs(const std::vector<const Trace*>& steps);

/// A backend that replays `costs` (one device per stage, virtual time). An action the
/// costs lack throws pipelab::Error naming it (replay the schedule that was measured).
std::unique_ptr<Backend> make_replay_backend(MeasuredCosts costs, int devices);

}  // namespace pipelab
