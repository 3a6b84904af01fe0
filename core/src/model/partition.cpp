// partition.cpp — which layers each stage owns: lookup, checks, listing, costs (partition.h).
#include "pipelab/model/partition.h"

#include <algorithm>
#include <sstream>

#include "pipelab/error.h"
#include "pipelab/name_table.h"

namespace pipelab {

int Partition::stage_of(int layer) const {
  if (boundaries.size() < 2 || layer < 0 || layer >= layers())
    PIPELAB_THROW("layer " + std::to_string(layer) + " is outside the partition's layers [0, " +
                      std::to_string(layers()) + ")",
                  "layer ids run 0..L-1");
  // boundaries is strictly increasing: the owner is the last s with boundaries[s] <= layer.
  const auto after = std::upper_bound(boundaries.begin(), boundaries.end(), layer);
  return static_cast<int>(after - boundaries.begin()) - 1;
}

namespace {
constexpr EnumName<PartitionMethod> kPartitionNames[] = {{PartitionMethod::Even, "even"},
                                                         {PartitionMethod::Balanced, "balanced"}};
}  // namespace

const char* to_string(PartitionMethod method) { return name_of(kPartitionNames, method); }

PartitionMethod partition_from_string(const std::string& name) {
  if (const auto m = value_named(kPartitionNames, name)) return *m;
  PIPELAB_USAGE_ERROR("--partition", "unknown partition method '" + name + "'", "use even or balanced");
}

void check_partition(const Partition& p, int layers, int stages) {
  if (p.replicas < 1)
    PIPELAB_THROW("partition has " + std::to_string(p.replicas) + " replicas",
                  "a partition runs at least one copy of its pipeline (replicas = 1 for a pipeline)");
  if (stages < 1 || layers < stages)
    PIPELAB_THROW("cannot split " + std::to_string(layers) + " layers into " + std::to_string(stages) +
                      " stages",
                  "every stage needs at least one layer: use 1 <= devices <= layers");
  const auto expected = static_cast<std::size_t>(stages) + 1;
  if (p.boundaries.size() != expected)
    PIPELAB_THROW("partition has " + std::to_string(p.boundaries.size()) + " boundaries, expected " +
                      std::to_string(expected) + " for " + std::to_string(stages) + " stages",
                  "boundaries holds K + 1 numbers: 0, the first layer of stages 1..K-1, and L");
  if (p.boundaries.front() != 0)
    PIPELAB_THROW("partition starts at layer " + std::to_string(p.boundaries.front()) + ", not 0",
                  "boundaries[0] must be 0 so stage 0 owns the first layer");
  if (p.boundaries.back() != layers)
    PIPELAB_THROW("partition ends at layer " + std::to_string(p.boundaries.back()) + ", expected " +
                      std::to_string(layers),
                  "boundaries[K] must be L so the last stage owns the last layer");
  for (int s = 0; s < stages; ++s)
    if (p.boundaries[s] >= p.boundaries[s + 1])
      PIPELAB_THROW("stage " + std::to_string(s) + " owns no layers: [" + std::to_string(p.boundaries[s]) +
                        "," + std::to_string(p.boundaries[s + 1]) + ")",
                    "boundaries must be strictly increasing (every stage non-empty, in order)");
}

std::string describe(const Partition& p) {
  std::ostringstream out;
  if (p.replicas > 1) out << p.replicas << " replicas of ";
  for (int s = 0; s < p.stages(); ++s)
    out << (s ? " " : "") << '[' << p.first_layer(s) << ',' << p.end_layer(s) << ')';
  return out.str();
}

std::vector<double> stage_costs(const Partition& p, const std::vector<double>& layer_costs,
                                double extra_last) {
  if (static_cast<int>(layer_costs.size()) != p.layers())
    PIPELAB_THROW("partition covers " + std::to_string(p.layers()) + " layers but " +
                      std::to_string(layer_costs.size()) + " layer costs were given",
                  "give one cost per layer");
  std::vector<double> costs(std::max(p.stages(), 0), 0.0);
  // Summed left to right from 0, the order balanced_partition uses, so equal ranges give equal sums.
  for (int s = 0; s < p.stages(); ++s)
    for (int layer = p.first_layer(s); layer < p.end_layer(s); ++layer) costs[s] += layer_costs[layer];
  if (!costs.empty()) costs.back() += extra_last;
  return costs;
}

}  // namespace pipelab
