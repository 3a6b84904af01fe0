// spmd_config.cpp — before a multi-process run: the right number of ranks, the cpu
// backend, one configuration on every rank; after it: the numerics put together (and,
// for data parallelism, every replica's checked against replica 0's).
#include <cstdint>
#include <nlohmann/json.hpp>

#include "../spmd_run.h"
#include "bytes.h"
#include "mpi_comm.h"
#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/spmd.h"

namespace pipelab::detail {

namespace {

// The config every rank must share, as text: the trace's config JSON plus the settings
// it leaves out that change what a rank does (the watchdog). --trace and --json are rank
// 0's business (it alone writes) and are not compared.
std::string shared_config_text(const RunConfig& c) {
  nlohmann::json j = nlohmann::json::parse(to_json(c));
  j["watchdog_seconds"] = c.watchdog_seconds;
  return j.dump();
}

// FNV-1a, 64 bits: h ← (h xor byte) · 1099511628211, from 14695981039346656037.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The command-line flag behind a key of shared_config_text ("sim.link_gbps" → --link-gbps).
std::string flag_of(const std::string& key) {
  static const std::pair<const char*, const char*> flags[] = {
      {"layers", "--layers"}, {"width", "--width"}, {"hidden", "--hidden"}, {"batch", "--batch"},
      {"seed", "--seed"}, {"learning_rate", "--lr"}, {"devices", "--devices"},
      {"microbatches", "--microbatches"}, {"schedule", "--schedule"}, {"schedule_file", "--schedule-file"},
      {"remat", "--remat"}, {"w_batch", "--w-batch"}, {"microbatch_rows", "--microbatch-rows"}, {"p2p", "--p2p"}, {"backend", "--backend"}, {"partition", "--partition"},
      {"sim.costs", "--sim-costs"}, {"sim.device_tflops", "--device-tflops"}, {"sim.link_gbps", "--link-gbps"},
      {"sim.link_latency_us", "--link-latency-us"}, {"sim.stage_skew", "--stage-skew"},
      {"cuda.placement", "--placement"}, {"cuda.transport", "--transport"}, {"cuda.gemm", "--gemm"},
      {"cuda.tf32", "--tf32"}, {"cuda.instrument", "--no-trace"},
      {"cuda.split_backward", "--cuda-split-backward"}, {"cpu.gemm", "--gemm"},
      {"warmup_steps", "--warmup"}, {"repeat_steps", "--repeat"}, {"device_memory_mib", "--device-memory-mib"},
      {"watchdog_seconds", "--watchdog-s"}};
  for (const auto& [name, flag] : flags)
    if (key == name) return flag;
  return key;  // a setting without a flag of its own: its config name
}

// The first key (depth first, "sim.link_gbps") whose value differs, with both values.
bool first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix,
                      std::string& key, std::string& value_a, std::string& value_b) {
  for (auto it = a.begin(); it != a.end(); ++it) {
    const std::string name = prefix + it.key();
    const nlohmann::json other = b.contains(it.key()) ? b.at(it.key()) : nlohmann::json();
    if (it->is_object() && other.is_object()) {
      if (first_difference(*it, other, name + ".", key, value_a, value_b)) return true;
    } else if (*it != other) {
      key = name, value_a = it->dump(), value_b = other.is_null() ? "(not set)" : other.dump();
      return true;
    }
  }
  for (auto it = b.begin(); it != b.end(); ++it)  // a key only the other rank has
    if (!a.contains(it.key())) {
      key = prefix + it.key(), value_a = "(not set)", value_b = it->dump();
      return true;
    }
  return false;
}

// Every tensor of every block, one after the other, in for_each_tensor order.
std::vector<float> flatten(std::vector<BlockParams>& blocks) {
  std::vector<float> values;
  for (BlockParams& b : blocks)
    for_each_tensor(b, [&](const char*, std::vector<float>& t) { values.insert(values.end(), t.begin(), t.end()); });
  return values;
}

// One block of `spec`'s shapes read back from `values` at `at` (which moves past it).
BlockParams read_block(const ModelSpec& spec, const std::vector<float>& values, std::size_t& at) {
  BlockParams block = zero_block(spec);
  for_each_tensor(block, [&](const char*, std::vector<float>& t) {
    if (at + t.size() > values.size())
      PIPELAB_THROW("a rank sent fewer parameters than its layers hold", "every rank must run the same model flags");
    std::copy(values.begin() + at, values.begin() + at + t.size(), t.begin());
    at += t.size();
  });
  return block;
}

// What one rank sent of the step's numerics: its device's blocks, flattened.
struct RankBlocks {
  std::vector<float> grads, params;
  std::size_t at_grads = 0, at_params = 0;  // how far they have been read back
};

// Data parallelism: rank r holds replica r / P of device r % P's stage (P devices per
// pipeline), which must equal replica 0's to the bit after the all-reduce (one sum on every
// rank, spmd_all_reduce.cpp) and the same SGD step. A difference is a bug, never rounding.
void check_replicas_agree(const std::vector<RankBlocks>& ranks, const Partition& partition) {
  const int P = partition.pipeline_devices();
  for (std::size_t r = P; r < ranks.size(); ++r) {
    const RankBlocks& mine = ranks[r];
    const RankBlocks& first = ranks[r % P];
    if (mine.grads != first.grads || mine.params != first.params)
      PIPELAB_THROW("rank " + std::to_string(r) + " (replica " + std::to_string(r / P) +
                        ") ended the step with gradients or parameters that differ from replica 0's",
                    "every replica applies the same all-reduced gradients (MPI_Allreduce gives every rank "
                    "the same sum): a bug, please report with the mpirun line");
  }
}

}  // namespace

void spmd_check_run(const RunConfig& c) {
  const SpmdRank& me = *spmd_rank();
  const double seconds = c.watchdog_seconds;
  // One configuration on every rank, first: a rank started with another -K would
  // otherwise be told about the rank count instead of the flag that differs.
  const std::string text = shared_config_text(c);
  const std::uint64_t hash = fnv1a(text);
  std::vector<char> mine(reinterpret_cast<const char*>(&hash), reinterpret_cast<const char*>(&hash) + sizeof hash);
  const std::vector<std::vector<char>> hashes = spmd::allgather_bytes(mine, seconds, "the config hashes");
  int differing = -1;
  for (int r = 1; r < me.ranks && differing < 0; ++r)
    if (hashes[r] != hashes[0]) differing = r;
  if (differing >= 0) {
    // Every rank learns rank 0's and the first differing rank's configs, and so throws
    // the same message (whichever rank's report comes first, it names the flag).
    std::vector<char> root_text(text.begin(), text.end()), other_text = root_text;
    spmd::broadcast_bytes(root_text, 0, seconds, "rank 0's config");
    spmd::broadcast_bytes(other_text, differing, seconds, "rank " + std::to_string(differing) + "'s config");
    std::string key, value_root, value_other;
    first_difference(nlohmann::json::parse(std::string(root_text.begin(), root_text.end())),
                     nlohmann::json::parse(std::string(other_text.begin(), other_text.end())), "", key,
                     value_root, value_other);
    const std::string flag = flag_of(key);
    PIPELAB_USAGE_ERROR(flag, "rank " + std::to_string(differing) + " was started with " + flag + " " +
                                  value_other + ", rank 0 with " + value_root +
                                  ": every rank must run the same configuration",
                        "start every rank with the same flags (one mpirun line, or one srun script)");
  }
  if (c.backend != BackendKind::Cpu)
    PIPELAB_USAGE_ERROR("--backend", std::string("the multi-process mode runs the cpu backend, not ") +
                                         to_string(c.backend),
                        "use --backend cpu; NCCL across GPUs is not built yet (docs/distributed.md)");
  // Step tags 2·(m·v + c) + 1 (spmd_executor.cpp) stay below the clock's two (spmd_clock.cpp).
  if (2.0 * c.microbatches * c.chunks + 1 >= spmd::max_tag() - 1)
    PIPELAB_USAGE_ERROR("--microbatches", "M·v = " + std::to_string(c.microbatches * c.chunks) +
                                              " transfers per link need more message tags than this MPI has",
                        "use a smaller -M or --chunks under mpirun");
  // One rank per device: a pipeline's stage, or a data-parallel replica of the whole model.
  const bool replicas = c.schedule == ScheduleKind::DataParallel;
  const std::string devices = replicas ? "data parallelism over K=" + std::to_string(c.devices) + " replicas"
                                       : "a pipeline of K=" + std::to_string(c.devices) + " stages";
  if (me.ranks != c.devices)
    PIPELAB_USAGE_ERROR("--devices", "the launcher started " + std::to_string(me.ranks) + " ranks for " + devices +
                                         (replicas ? "; one rank runs one replica" : "; one rank runs one stage"),
                        "start K ranks (mpirun -np " + std::to_string(c.devices) + " pipelab ...), or pass -K " +
                            std::to_string(me.ranks));
}

std::unique_ptr<Backend> spmd_make_backend(const RunConfig& config, const Partition& partition,
                                           int microbatches) {
  return make_cpu_backend(config, partition, microbatches, spmd::rank());
}

StepNumerics spmd_numerics(const Backend& backend, const RunConfig& config, const Partition& partition) {
  // This rank's layers (its stage's grads and params, or its replica's of the whole model,
  // each block's tensors flattened in for_each_tensor order) and, from the last stage,
  // the loss (every replica's: its share of the batch's).
  StepNumerics local = *backend.numerics();
  spmd::ByteWriter out;
  out.value(local.loss);
  out.value(static_cast<std::uint64_t>(local.grads.size()));
  out.values(flatten(local.grads));
  out.values(flatten(local.params));
  const auto all = spmd::allgather_bytes(out.bytes(), config.watchdog_seconds, "the step's numerics");
  // Every rank's blocks, read in the order it sent them: its virtual stages in increasing
  // order (with one chunk per device: its one stage), as the backend's numerics() lists them.
  std::vector<RankBlocks> ranks(all.size());
  StepNumerics n;
  for (std::size_t r = 0; r < all.size(); ++r) {
    spmd::ByteReader in(all[r]);
    n.loss += in.value<double>();  // only the last stage's ranks (one per replica) compute one
    in.value<std::uint64_t>();     // its block count (the partition says it again)
    ranks[r].grads = in.values<float>();
    ranks[r].params = in.values<float>();
  }
  check_replicas_agree(ranks, partition);
  // The model's layers in order: virtual stage vs lives on device (= rank) device_of(vs)
  // (of replica 0, with data parallelism: the others hold the same, checked above).
  const ChunkMap map = partition.chunk_map();
  for (int vs = 0; vs < partition.stages(); ++vs) {
    RankBlocks& from = ranks.at(static_cast<std::size_t>(map.device_of(vs)));
    for (int l = partition.first_layer(vs); l < partition.end_layer(vs); ++l) {
      n.grads.push_back(read_block(config.model, from.grads, from.at_grads));
      n.params.push_back(read_block(config.model, from.params, from.at_params));
    }
  }
  return n;
}

}  // namespace pipelab::detail
