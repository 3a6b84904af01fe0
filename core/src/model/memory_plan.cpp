// memory_plan.cpp — the bytes one stage holds (memory_plan.h), from the model's sizes.
#include "pipelab/model/memory_plan.h"

namespace pipelab {

std::uint64_t StageMemoryPlan::block_params_bytes() const { return 4ull * block_param_count(spec); }

std::uint64_t StageMemoryPlan::params_bytes() const {
  return block_params_bytes() * static_cast<std::uint64_t>(blocks);
}

std::uint64_t StageMemoryPlan::grads_bytes() const { return params_bytes(); }

std::uint64_t StageMemoryPlan::input_bytes(int rows) const { return boundary_bytes(spec, rows); }

std::uint64_t StageMemoryPlan::block_input_bytes(int rows) const { return boundary_bytes(spec, rows); }

std::uint64_t StageMemoryPlan::hidden_bytes(int rows) const {
  return 4ull * static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(spec.hidden);  // (b, h) fp32
}

std::uint64_t StageMemoryPlan::activations_bytes(int rows) const {
  // a block's stash less its input x: a and g, (b, h) each.
  return (block_stash_bytes(spec, rows) - boundary_bytes(spec, rows)) * static_cast<std::uint64_t>(blocks);
}

std::uint64_t StageMemoryPlan::logits_bytes(int rows) const { return last_stage ? boundary_bytes(spec, rows) : 0; }

std::uint64_t StageMemoryPlan::full_stash_bytes(int rows) const {
  return block_stash_bytes(spec, rows) * static_cast<std::uint64_t>(blocks) + logits_bytes(rows);
}

std::uint64_t StageMemoryPlan::forward_stash_bytes(int rows) const {
  return remat ? input_bytes(rows) : full_stash_bytes(rows);
}

std::uint64_t StageMemoryPlan::recompute_stash_bytes(int rows) const {
  return full_stash_bytes(rows) - input_bytes(rows);
}

std::uint64_t StageMemoryPlan::block_output_grad_bytes(int rows) const {
  return boundary_bytes(spec, rows);  // dy has the shape of the block's output: (b, d) fp32
}

std::uint64_t StageMemoryPlan::block_preactivation_grad_bytes(int rows) const {
  return hidden_bytes(rows);  // da has the shape of a: (b, h) fp32
}

std::uint64_t StageMemoryPlan::weight_stash_bytes(int rows) const {
  // dy and da of each of the n blocks: n · 4 · b · (d + h).
  return (block_output_grad_bytes(rows) + block_preactivation_grad_bytes(rows)) * static_cast<std::uint64_t>(blocks);
}

std::uint64_t StageMemoryPlan::batched_weight_stash_bytes(int batch_rows) const {
  // Σ_m (full_stash(b_m) + weight_stash(b_m)) = full_stash(B) + weight_stash(B): every term
  // is rows times a constant, and Σ_m b_m = B.
  return full_stash_bytes(batch_rows) + weight_stash_bytes(batch_rows);
}

StageMemoryPlan plan_stage_memory(const ModelSpec& spec, const Partition& partition, int device, bool remat,
                                  int chunk) {
  StageMemoryPlan plan;
  plan.spec = spec;
  plan.blocks = partition.layer_count(partition.stage_on(device, chunk));
  plan.last_stage = partition.last_on(device, chunk);
  plan.remat = remat;
  return plan;
}

}  // namespace pipelab
