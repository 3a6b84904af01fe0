// pipelab/model/partition.h — which layers each stage owns.
//
// A Partition splits L layers into K contiguous ranges: stage s owns layers
// [first_layer(s), end_layer(s)). The loss always belongs to the last stage.
// `replicas` copies of that pipeline run side by side (data parallelism): device d
// runs stage d mod K of replica d / K. A pipeline is one replica (device = stage); the
// data-parallel baseline is K replicas of one stage that owns every layer.
#pragma once

#include <string>
#include <vector>

namespace pipelab {

/// K contiguous, non-empty layer ranges covering 0..L-1 in order.
struct Partition {
  /// boundaries.size() == K + 1; boundaries[0] == 0, boundaries[K] == L, strictly increasing.
  std::vector<int> boundaries;

  /// Copies of the pipeline, each on stages() devices of its own (data parallelism); 1 for a pipeline.
  int replicas = 1;

  /// K, the number of stages.
  int stages() const { return static_cast<int>(boundaries.size()) - 1; }
  /// The devices the partition runs on: stages() · replicas.
  int devices() const { return stages() * replicas; }
  /// The stage device `device` runs: device mod stages().
  int stage_of_device(int device) const { return device % stages(); }
  /// True when `device` runs the first stage of its replica (it reads the batch's inputs).
  bool first_on(int device) const { return stage_of_device(device) == 0; }
  /// True when `device` runs the last stage of its replica (it computes the loss).
  bool last_on(int device) const { return stage_of_device(device) == stages() - 1; }
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
