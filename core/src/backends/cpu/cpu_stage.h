// cpu_stage.h — what one cpu device holds for its stage (parameters, gradients, and per
// micro-batch what F keeps for the backward and what I keeps for W), and the backward
// data flow over it (cpu_backward.cpp: B, and its two halves I and W;
// cpu_batched_weight.cpp: the whole-batch W of --w-batch) that the cpu backend
// (cpu_backend.cpp) calls. Internal to backends/cpu/.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "pipelab/backends/backend.h"

#include "pipelab/backends/microbatches.h"
#include "pipelab/kernels/cpu.h"
#include "pipelab/model/memory_plan.h"
#include "pipelab/model/model.h"
#include "pipelab/runtime/memory.h"

namespace pipelab::cpu_detail {

/// Bytes of n fp32 values.
inline std::uint64_t float_bytes(std::size_t n) { return 4ull * n; }

/// A tensor held by a device: data plus its memory charge.
struct Held {
  std::vector<float> data;  ///< the values
  MemoryCharge charge;      ///< what they cost the device, in their category

  /// Take `values` and charge their bytes to `cat` of `mem` (releasing what was held).
  void hold(DeviceMemory& mem, MemoryCategory cat, std::vector<float> values) {
    charge = MemoryCharge();  // release first: the accounting follows the buffer
    data = std::move(values);
    charge = mem.charge(cat, float_bytes(data.size()));
  }
  /// Free the values and their charge.
  void release() {
    data.clear();
    data.shrink_to_fit();
    charge.reset();
  }
};

/// What a stage keeps for one micro-batch between its F and its B (or its I and W).
struct MicrobatchState {
  Held input;        ///< stage input (b, d): Stash, kept until B (or W)
  std::vector<Held> block_inputs;             ///< inputs of blocks 1..n-1 of the stage (b, d)
  std::vector<BlockActivations> activations;  ///< per block: a, g (b, h)
  MemoryCharge activation_charge;             ///< Stash bytes of `activations`
  Held output;       ///< stage output (b, d): Buffers until sent; logits (Stash) on the last stage
  Held grad_output;  ///< dL/d output (b, d): received (Buffers) or dlogits on the last stage
  Held grad_input;   ///< dL/d input (b, d): Buffers until sent

  // The split backward: what I keeps for W, per block i of the stage.
  std::vector<std::vector<float>> output_grads;         ///< dy (b, d) of block i
  std::vector<std::vector<float>> preactivation_grads;  ///< da (b, h) of block i
  MemoryCharge weight_stash_charge;  ///< Stash bytes of the two (plan's weight_stash_bytes)
  bool awaiting_weight = false;      ///< I ran and its W has not yet
};

/// One device's stage (one chunk of it, when it holds several): its layers' parameters
/// and gradients, and its micro-batches.
struct Stage {
  int index = 0;                ///< the device number, for messages (= the stage in a pipeline)
  int chunk = 0;                ///< which of the device's model chunks (virtual stages) it is
  bool first_stage = false;     ///< first stage of its replica: reads the batch, sends no input gradient
  int first_layer = 0;          ///< the model layer of its block 0
  StageMemoryPlan memory_plan;  ///< what the stage holds, in bytes
  std::vector<BlockParams> params;
  std::vector<BlockParams> grads;
  std::vector<MemoryCharge> resident;  ///< params + grads
  std::vector<MicrobatchState> mb;     ///< per micro-batch
  std::vector<float> scratch;          ///< block_backward's / block_backward_input's workspace
  /// The a, g buffers of dropped activations, reused by the next F/R of this stage (one
  /// worker thread): a fresh (b, h) vector would be fresh pages from the OS each time
  /// (glibc maps large blocks): ~10% of a step in page faults. Memory charges are unchanged:
  /// they follow what a micro-batch holds, not these spares.
  std::vector<BlockActivations> spare_activations;
  double loss = 0;  ///< Σ over micro-batches of (scaled) loss, last stage only
};

/// What every stage's math reads and nobody writes during a step.
struct StepData {
  const ModelSpec& spec;               ///< the model's shape
  kernels::cpu::GemmImpl gemm;         ///< who computes the GEMMs (--gemm)
  const Batch& batch;                  ///< the step's inputs and labels
  const MicrobatchRows& microbatches;  ///< each micro-batch's rows in the batch
};

/// Free what F (and R) kept, except the stage input (remat keeps only that); on the last
/// stage (`last`) also the logits.
void drop_activations(Stage& st, MicrobatchState& mb, bool last);

/// B of micro-batch m: the whole backward through the stage's blocks (last to first),
/// gradients accumulated; frees what F kept; the input gradient waits for SendGrad.
void stage_backward(Stage& st, DeviceMemory& mem, const StepData& step, int m);

/// I of micro-batch m: the input-gradient half of B through the stage's blocks (last to
/// first, chaining dx; the loss backward on the last stage), keeping every block's dy and
/// da for W (charged as the plan's weight_stash_bytes). F's stash stays: W reads it.
void stage_backward_input(Stage& st, DeviceMemory& mem, const StepData& step, int m);

/// W of micro-batch m: accumulate the stage's parameter gradients from what I kept and
/// F's stash, then free both. Throws pipelab::Error unless I of m ran and W of m has not.
void stage_backward_weight(Stage& st, const StepData& step, int m);

/// What W frees once it has read it: the micro-batch's F (and R) stash, the logits, and
/// I's dy and da with their charge; the micro-batch no longer awaits its weight gradient.
void release_weight_inputs(Stage& st, MicrobatchState& mb);

/// The whole-batch W of --w-batch (cpu_batched_weight.cpp): the stage's parameter gradients
/// of every micro-batch as one GEMM per weight over all B rows (k = B), from what F and I
/// kept, then frees all of it. `mem` is charged the (B, ·) copies it multiplies. Throws
/// pipelab::Error unless every micro-batch's I ran and its weight gradient has not.
void stage_backward_weight_batch(Stage& st, DeviceMemory& mem, const StepData& step);

/// One gradient tensor of a stage: its values, seen as a piece of one flat vector.
struct Piece {
  float* data;       ///< the first value
  std::size_t size;  ///< how many
};
/// The stage's gradient tensors in order (its blocks, each block's in for_each_tensor
/// order): the flat vector the all-reduce shares out, and the one a rank sums over MPI.
std::vector<Piece> gradient_pieces(Stage& st);

/// AllReduceGrads of device action.stage: its part of summing the gradients of every
/// replica of its stage (`stages` holds one Stage per device of `partition`), the sum left
/// in every replica's grads. Meets the other devices at `together` when all gradients are
/// final, then reduces its 1/R share of them (R = partition.replicas), meets them again,
/// and copies the other shares from their owners: a reduce-scatter and an all-gather, the
/// 2(R-1)/R × G bytes per device of a ring (cpu_all_reduce.cpp). `now_us` is the
/// backend's clock, for the span.
Transfer all_reduce_grads(std::vector<Stage>& stages, const Partition& partition, const Action& action,
                          Rendezvous& together, const std::function<double()>& now_us);

/// Throws pipelab::Error unless every replica's parameters and gradients equal replica
/// 0's bit for bit (after a data-parallel step they must: one sum, copied).
void check_replicas_agree(const std::vector<Stage>& stages, const Partition& partition);

}  // namespace pipelab::cpu_detail
