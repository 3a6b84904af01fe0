// pipelab/backends/backends.h — constructing the backends.
//
//   sim  discrete-event simulation, cost model from FLOPs and link bandwidth; no
//        numerics; deterministic to the bit (each link has one sender, so every
//        device's virtual clock is a pure function of the schedule).
//   cpu  each device is a worker thread with its own accounted memory; the real
//        kernels/ reference math; steady-clock timestamps.
//   cuda each device is a GPU, an SM partition of one, or a stream (backends/cuda_backend.h);
//        only in builds where CMake found nvcc.
// make_backend() picks one of them for a config; it is the only place that knows
// which backends this build has (the runner never asks).
#pragma once

#include <memory>
#include <string>

#include "pipelab/backends/backend.h"
#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"

namespace pipelab {

/// Sim backend for `config` (model shape, micro-batches, remat, cost model).
std::unique_ptr<Backend> make_sim_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches);

/// Cpu backend: builds each stage's parameters (seeded per layer) in its device's memory.
/// `only_stage` >= 0: the backend of one rank of a multi-process run (runtime/spmd.h): it
/// builds that stage's parameters only, and its transfers leave the process (wire_bytes).
std::unique_ptr<Backend> make_cpu_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches, int only_stage = -1);

/// Whether each backend can run here, and why not.
struct BackendAvailability {
  bool sim = true;    ///< always available
  bool cpu = true;    ///< always available
  bool cuda = false;  ///< a cuda backend is built and a GPU is usable
  std::string cuda_reason;  ///< why cuda is unavailable ("" when available)
};
/// What `pipelab devices` prints: which backends can run here.
BackendAvailability backend_availability();

/// auto → cuda if a GPU is usable, else cpu. Throws UsageError("--backend") when
/// cuda is requested and unavailable.
BackendKind resolve_backend(BackendKind requested);

/// The cuda part of `pipelab devices` (runtime, driver, GPUs, green contexts, peer
/// access, NCCL, the placement for config.devices), or "" in a build without cuda.
std::string describe_gpu_backend(const RunConfig& config);

/// The backend `config.backend` names (resolved: not Auto) for `partition` and
/// `microbatches`. Throws pipelab::Error when this build lacks it.
std::unique_ptr<Backend> make_backend(const RunConfig& config, const Partition& partition, int microbatches);

}  // namespace pipelab
