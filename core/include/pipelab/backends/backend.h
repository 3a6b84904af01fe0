// pipelab/backends/backend.h — what the executor asks of a backend (sim, cpu, cuda).
//
// The executor runs one worker thread per device and walks that device's action
// list. For each action it calls the backend, which does the work (or simulates
// it) and returns the measured span. Spans are µs since the step's time origin.
// A backend method for device d is only ever called from d's worker, except
// send(), which may touch the receiver's memory accounting (thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/runtime/memory.h"
#include "pipelab/model/model.h"
#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// A measured span in µs since the step's time origin.
struct Span {
  double start_us = 0;  ///< when the work began
  double end_us = 0;    ///< when it ended (>= start_us)
  /// Thread CPU time the work took (µs), where the backend measures it (cpu); else -1.
  double cpu_us = -1;
};

/// One message between devices: produced by send(), consumed by receive().
struct Transfer {
  Action send;              ///< the SendActivation / SendGrad that produced it
  std::uint64_t bytes = 0;  ///< bytes moved: one (b, d) fp32 tensor
  Span span;                ///< when the bytes moved
  std::shared_ptr<void> payload;  ///< backend-specific data (cpu: the filled buffer)
};

/// Where the bytes of a transfer lie, for a transport between processes (runtime/spmd.h).
struct WireBytes {
  void* data = nullptr;     ///< the first byte
  std::uint64_t bytes = 0;  ///< how many
};

/// Where the devices of a collective (AllReduceGrads) meet. The executor gives one to
/// every participant's call of Backend::all_reduce; a backend calls arrive_and_wait() at
/// each point where every participant must have got that far (e.g. all gradients final)
/// before any goes on. The event engine, which runs a collective only once every device
/// has reached it, gives one that returns at once.
class Rendezvous {
 public:
  virtual ~Rendezvous() = default;
  /// Block until every participant has called it as many times; false if the step was
  /// aborted meanwhile (the caller returns at once, its result unused).
  virtual bool arrive_and_wait() = 0;
};

/// What the executor asks of a backend (sim, cpu, cuda): do or simulate one action,
/// account memory, return the step's numerics. Made by make_sim_backend() and
/// make_cpu_backend() (backends.h).
class Backend {
 public:
  virtual ~Backend() = default;

  /// "sim", "cpu", "cuda".
  virtual std::string name() const = 0;
  /// One human-readable name per device ("sim device 0", "cpu thread 2", "H100 SM 0-31").
  virtual std::vector<std::string> device_names() const = 0;

  /// Called once, on the executor's thread, before the workers start: sets the time origin.
  virtual void begin_step() = 0;
  /// F, B, Recompute or OptimizerStep on action.stage's device.
  virtual Span compute(const Action& action) = 0;
  /// SendActivation / SendGrad: move the bytes toward the receiver.
  virtual Transfer send(const Action& action) = 0;
  /// RecvActivation / RecvGrad: take the matching transfer; returns the span to
  /// draw on the recv lane. Every backend returns the transfer's own span (`transfer.span`:
  /// from the send's start to the arrival, the span of the send lane too), not the
  /// receiver's wait: it can overlap the receiver's compute, and the receiver's idle time
  /// is the gap on its compute lane (docs/backends.md, "The sim's rules").
  virtual Span receive(const Action& action, Transfer& transfer) = 0;

  /// AllReduceGrads on action.stage's device: its part of summing every device's
  /// gradients, the sum left on every device. Called once per participating device (from
  /// its worker), each call with `together` to meet the others. The returned transfer's
  /// span is the collective's on this device, from when all had arrived to when this
  /// device has the sum, and its bytes are what this device sent. The default refuses:
  /// a backend without data parallelism.
  virtual Transfer all_reduce(const Action& action, Rendezvous& together);

  /// The device's allocator accounting.
  virtual DeviceMemory& memory(int device) = 0;
  /// Loss, gradients and updated parameters of the step, if the backend computes
  /// them (cpu, cuda); nullopt for sim.
  virtual std::optional<StepNumerics> numerics() const = 0;

  /// True when the backend keeps virtual time (sim, replay): spans are a function of the
  /// schedule and the costs, not of thread timing, so the single-threaded event engine
  /// (runtime/event_engine.h) runs it instead of one OS thread per device.
  virtual bool virtual_time() const { return false; }

  /// True when the backend can run warm-up steps (set_warm_up) and starts every step
  /// (begin_step) from zero gradients, its loss at 0 and fresh memory books, so several
  /// steps on one backend measure the same step. The runner then runs untimed warm-up
  /// steps first (cuda: lazy kernel loading, library set-up and the allocator's first
  /// cudaMalloc calls would otherwise land in the measured step; cpu: cold caches and
  /// first-touch page faults). A backend without it gets a fresh instance per step.
  virtual bool supports_warm_up() const { return false; }
  /// While on, steps are warm-up steps: they leave the parameters as initialised,
  /// so the measured step that follows computes what a first step would.
  virtual void set_warm_up(bool on) { (void)on; }

  // A transport between processes (one rank per stage, runtime/spmd.h) moves the bytes
  // itself: send() leaves them in the sender's buffer, the transport puts them on the
  // wire and writes them into the buffer wire_transfer() made on the receiver.

  /// Where the bytes of `transfer` (made by send()) lie. The default throws: only
  /// backends that run one stage per process (cpu) have it.
  virtual WireBytes wire_bytes(Transfer& transfer) {
    PIPELAB_THROW(name() + " backend: transfer " + to_string(transfer.send) + " cannot leave the process",
                  "run this backend in one process (without mpirun), or use --backend cpu");
  }
  /// A Transfer for `recv` whose payload (charged to recv's device as receive() charges
  /// it) has room for the bytes; `into` is set to where they go. receive() takes it then.
  virtual Transfer wire_transfer(const Action& recv, WireBytes& into) {
    (void)into;
    PIPELAB_THROW(name() + " backend: " + to_string(recv) + " cannot receive from another process",
                  "run this backend in one process (without mpirun), or use --backend cpu");
  }
  /// The gradient tensors of `device`'s stage (every chunk's blocks, each block's tensors
  /// in for_each_tensor order), fp32, where a transport between processes sums them in
  /// place over the replicas: AllReduceGrads of a data-parallel rank (runtime/spmd/). The
  /// default throws: only backends that run one stage per process (cpu) have it.
  virtual std::vector<WireBytes> gradient_wire(int device) {
    PIPELAB_THROW(name() + " backend: device " + std::to_string(device) + "'s gradients cannot leave the process",
                  "run this backend in one process (without mpirun), or use --backend cpu");
  }
  /// The steady-clock instant of the step's time origin (begin_step()), which every span
  /// is µs after; nullopt where spans are not host steady-clock time (sim, replay, cuda).
  virtual std::optional<std::chrono::steady_clock::time_point> time_origin() const { return std::nullopt; }
};

}  // namespace pipelab
