// pipelab/backends/backends.h — constructing the backends.
//
//   sim  discrete-event simulation, cost model from FLOPs and link bandwidth; no
//        numerics; deterministic to the bit (each link has one sender, so every
//        device's virtual clock is a pure function of the schedule).
//   cpu  each device is a worker thread with its own accounted memory; the real
//        kernels/ reference math; steady-clock timestamps.
#pragma once

#include <memory>

#include "pipelab/backends/backend.h"
#include "pipelab/model/config.h"
#include "pipelab/model/partition.h"

namespace pipelab {

/// Sim backend for `config` (model shape, micro-batches, remat, cost model).
std::unique_ptr<Backend> make_sim_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches);

/// Cpu backend: builds each stage's parameters (seeded per layer) in its device's memory.
std::unique_ptr<Backend> make_cpu_backend(const RunConfig& config, const Partition& partition,
                                          int microbatches);

/// Bytes of the activations kept for backward by one block for `rows` rows:
/// its input x (b, d) and a, g (b, h), fp32.
std::uint64_t block_stash_bytes(const ModelSpec& spec, int rows);

}  // namespace pipelab
