// pipelab/model/partition.h — which layers each stage owns.
//
// A Partition splits L layers into K contiguous ranges: stage s owns layers
// [first_layer(s), end_layer(s)). The loss always belongs to the last stage.
// `replicas` copies of that pipeline run side by side (data parallelism): device d
// runs stage d mod K of replica d / K. A pipeline is one replica (device = stage); the
// data-parallel baseline is K replicas of one stage that owns every layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pipelab {

/// Where the virtual stages of a device that holds several model chunks sit.
enum class ChunkPlacement : std::uint8_t {
  /// Chunk c of device d is virtual stage c·K + d: a micro-batch goes round the devices v
  /// times (Megatron-LM's interleaved schedule, Narayanan et al. 2021).
  Interleaved,
  /// Chunk c of device d is c·K + d for even c and (c + 1)·K - 1 - d for odd c: down the
  /// devices and back up, so the first and last stage share device 0 (the V schedules:
  /// ZBV, DualPipeV).
  VShape,
};

/// The K·v virtual stages of K devices with v chunks each (v = 1: stage = device).
struct ChunkMap {
  int devices = 1;  ///< K
  int chunks = 1;   ///< v, model chunks per device
  ChunkPlacement placement = ChunkPlacement::Interleaved;  ///< how chunks map to virtual stages

  /// K·v.
  int count() const { return devices * chunks; }
  /// The virtual stage of (device, chunk).
  int virtual_stage(int device, int chunk) const {
    const bool reversed = placement == ChunkPlacement::VShape && chunk % 2 == 1;
    return chunk * devices + (reversed ? devices - 1 - device : device);
  }
  /// The device that runs virtual stage `vs`.
  int device_of(int vs) const {
    const int c = vs / devices, r = vs % devices;
    return placement == ChunkPlacement::VShape && c % 2 == 1 ? devices - 1 - r : r;
  }
  /// The chunk of its device that virtual stage `vs` is.
  int chunk_of(int vs) const { return vs / devices; }
};

/// K contiguous, non-empty layer ranges covering 0..L-1 in order.
struct Partition {
  /// boundaries.size() == K + 1; boundaries[0] == 0, boundaries[K] == L, strictly increasing.
  std::vector<int> boundaries;

  /// Copies of the pipeline, each on its own devices (data parallelism); 1 for a pipeline.
  int replicas = 1;
  /// Model chunks per device (virtual stages, interleaved 1F1B): the stages() ranges are
  /// the K·v virtual stages, placed on the K devices by chunk_map(). 1: stage = device.
  int chunks = 1;
  /// How the chunks map to virtual stages (chunks > 1).
  ChunkPlacement placement = ChunkPlacement::Interleaved;

  /// The number of stages: K, or the K·v virtual stages of a chunked partition.
  int stages() const { return static_cast<int>(boundaries.size()) - 1; }
  /// The devices of one replica: stages() / chunks.
  int pipeline_devices() const { return stages() / chunks; }
  /// The devices the partition runs on: pipeline_devices() · replicas.
  int devices() const { return pipeline_devices() * replicas; }
  /// Where the virtual stages sit on one replica's devices.
  ChunkMap chunk_map() const { return {pipeline_devices(), chunks, placement}; }
  /// The stage (virtual stage) chunk `chunk` of device `device` runs, in its replica.
  int stage_on(int device, int chunk = 0) const {
    return chunk_map().virtual_stage(device % pipeline_devices(), chunk);
  }
  /// Where (device, chunk) sits in a table with one entry per device and chunk: device·chunks + chunk.
  std::size_t slot(int device, int chunk = 0) const {
    return static_cast<std::size_t>(device) * static_cast<std::size_t>(chunks) + static_cast<std::size_t>(chunk);
  }
  /// True when (device, chunk) runs the first stage of its replica (it reads the batch's inputs).
  bool first_on(int device, int chunk = 0) const { return stage_on(device, chunk) == 0; }
  /// True when (device, chunk) runs the last stage of its replica (it computes the loss).
  bool last_on(int device, int chunk = 0) const { return stage_on(device, chunk) == stages() - 1; }
  /// L, the number of layers.
  int layers() const { return boundaries.empty() ? 0 : boundaries.back(); }
  /// First layer of `stage`.
  int first_layer(int stage) const { return boundaries.at(stage); }
  /// One past the last layer of `stage`.
  int end_layer(int stage) const { return boundaries.at(stage + 1); }
  /// Number of layers `stage` owns.
  int layer_count(int stage) const { return end_layer(stage) - first_layer(stage); }
  /// The stage that owns `layer`.
  int stage_of(int layer) const;
};

/// How to split layers: evenly by count, or balanced by per-layer cost.
enum class PartitionMethod { Even, Balanced };
/// "even" or "balanced".
const char* to_string(PartitionMethod method);
/// "even" | "balanced" (throws UsageError("--partition") on anything else).
PartitionMethod partition_from_string(const std::string& name);

/// Throws pipelab::Error unless `p` is a valid partition of `layers` into `stages`.
void check_partition(const Partition& p, int layers, int stages);

/// "[0,4) [4,8) [8,12) [12,16)"; with replicas, "4 replicas of [0,16)".
std::string describe(const Partition& p);

/// Sum of costs of each stage's layers (`extra_last` added to the last stage, e.g. the loss).
std::vector<double> stage_costs(const Partition& p, const std::vector<double>& layer_costs,
                                double extra_last = 0.0);

}  // namespace pipelab
