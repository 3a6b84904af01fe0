// interleaved.cpp — interleaved 1F1B (schedule/interleaved.h).
#include "pipelab/schedule/interleaved.h"

#include <algorithm>

#include "pipelab/error.h"

namespace pipelab {

namespace {

// Megatron-LM's order of a device's virtual micro-batches (interleaved.h): K micro-batches
// at a time through each chunk, chunks in order for the forwards, reversed for the backwards.
int microbatch_of(int k, int devices, int chunks) { return (k / (devices * chunks)) * devices + k % devices; }
int forward_chunk(int k, int devices, int chunks) { return (k / devices) % chunks; }
int backward_chunk(int k, int devices, int chunks) { return chunks - 1 - (k / devices) % chunks; }

// The warm-up forwards of device d: Megatron-LM's 2(K - 1 - d) + (v - 1)·K for v > 1;
// 1F1B's K - 1 - d for v = 1; at most all M·v.
int warmup_forwards(int device, int devices, int microbatches, int chunks) {
  const int warmup = chunks == 1 ? devices - 1 - device : 2 * (devices - 1 - device) + (chunks - 1) * devices;
  return std::min(warmup, microbatches * chunks);
}

}  // namespace

Schedule interleaved_1f1b_schedule(int devices, int microbatches, int chunks) {
  if (chunks < 1 || chunks > 64)
    PIPELAB_THROW("interleaved_1f1b_schedule: chunks = " + std::to_string(chunks) + ", outside 1..64",
                  "give each device 1..64 model chunks (--chunks)");
  Schedule s = start_schedule(ScheduleKind::Interleaved1F1B, "interleaved_1f1b_schedule", devices, microbatches);
  // Megatron-LM's constraint, refused as the flag it comes from (the CLI exits 2).
  if (chunks > 1 && microbatches % devices != 0)
    PIPELAB_USAGE_ERROR("--microbatches",
                        "interleaved-1f1b with " + std::to_string(chunks) + " chunks needs M a multiple of K, got M=" +
                            std::to_string(microbatches) + ", K=" + std::to_string(devices),
                        "the micro-batches go through each chunk K at a time: use -M " +
                            std::to_string((microbatches / devices + 1) * devices) + ", or --chunks 1");
  s.chunks = chunks;
  s.placement = ChunkPlacement::Interleaved;
  const ChunkMap map = s.chunk_map();
  const int total = microbatches * chunks;  // virtual micro-batches per device
  for (int d = 0; d < devices; ++d) {
    std::vector<Action>& program = s.per_stage[d];
    const auto forward = [&](int k) {
      append_chunk_forward(program, map, d, forward_chunk(k, devices, chunks), microbatch_of(k, devices, chunks));
    };
    const auto backward = [&](int k) {
      append_chunk_backward(program, map, d, backward_chunk(k, devices, chunks), microbatch_of(k, devices, chunks));
    };
    const int warmup = warmup_forwards(d, devices, microbatches, chunks);
    for (int k = 0; k < warmup; ++k) forward(k);
    // Steady state: one forward, then one backward; then the backwards left.
    for (int k = 0; k < total - warmup; ++k) {
      forward(warmup + k);
      backward(k);
    }
    for (int k = total - warmup; k < total; ++k) backward(k);
    program.push_back({ActionKind::OptimizerStep, d, -1});
  }
  return s;
}

Theory interleaved_1f1b_theory(int devices, int microbatches, int chunks) {
  if (devices < 1 || microbatches < 1 || chunks < 1)
    PIPELAB_THROW("interleaved_1f1b_theory needs K, M and chunks >= 1", "pass the run's K, M and --chunks");
  const double k = devices, vm = static_cast<double>(chunks) * microbatches;
  Theory theory;
  // Fill and drain in chunk-sized steps (1/v of a stage's F + B each): K - 1 of them idle
  // per device against v·M busy ones.
  theory.utilization = vm / (vm + k - 1.0);
  theory.bubble_fraction = (k - 1.0) / (vm + k - 1.0);
  // Against naive (utilization 1/K), the same busy work per device.
  theory.ideal_speedup = theory.utilization * k;
  // Device 0 holds its warm-up's forwards and one more before its first backward frees
  // one, then 1F1B keeps the count: (chunk, micro-batch) pairs, each a chunk's activations.
  const int warmup = chunks == 1 ? devices - 1 : 2 * (devices - 1) + (chunks - 1) * devices;
  theory.peak_stash_microbatches = std::min(warmup + 1, microbatches * chunks);
  theory.schedule = "interleaved 1F1B";
  theory.formula = "vM/(vM+K-1)";
  return theory;
}

}  // namespace pipelab
