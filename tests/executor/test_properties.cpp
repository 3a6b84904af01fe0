// test_properties.cpp — properties that must hold for *every* valid configuration,
// checked on random ones (seeded, so every run checks the same cases).
//
//   sim, 200 configs (K ≤ 8, M ≤ 32, L, B, d, h, remat, partition, uneven micro-batches,
//        stage skew, link costs, device rate): naive, gpipe and 1f1b, each with and
//        without re-materialization, validate and run to the end; every action runs
//        once; utilization lies in [0, 1]; comm bytes, params and the GPipe stash peak
//        equal the formulas of docs/gpipe.md; re-materialization never raises the stash.
//   sim, 60 balanced configs: utilization is exactly M/(M+K−1) for gpipe and 1f1b, 1/K
//        for naive, and the re-materialization formula of docs/gpipe.md.
//   cpu, 40 tiny configs: every schedule, with and without re-materialization, computes
//        the single-device step (loss, gradients, updated parameters) within 1e-5.
//
// A failure prints the case (schedule, K, M, L, B, ...) so it can be rerun by hand;
// PIPELAB_PROPERTY_SEED=n draws other cases.
//   ./build/tests/pipelab_executor_tests --gtest_filter='*Property*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pipelab/backends/backends.h"
#include "pipelab/exercise.h"
#include "pipelab/model/model.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/validate.h"

namespace pipelab {
namespace {

// ------------------------------------------------------------------ random cases

// SplitMix64: small, and the same numbers on every platform and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int uniform(int lo, int hi) {  // [lo, hi]
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double uniform_real(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform_real(0, 1) < p; }

 private:
  std::uint64_t state_;
};

std::uint64_t base_seed() {
  const char* text = std::getenv("PIPELAB_PROPERTY_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240611ull;
}

constexpr ScheduleKind kSchedules[] = {ScheduleKind::Naive, ScheduleKind::Gpipe, ScheduleKind::OneFOneB};

std::string describe_case(const RunConfig& c) {
  std::ostringstream out;
  out << "case: schedule " << to_string(c.schedule) << (c.remat ? "+remat" : "") << " on "
      << to_string(c.backend) << ", K=" << c.devices << " M=" << c.microbatches << " L=" << c.model.layers
      << " B=" << c.model.batch << " d=" << c.model.width << " h=" << c.model.hidden
      << " partition=" << to_string(c.partition) << " tflops=" << c.sim.device_tflops
      << " link=" << c.sim.link_gbps << "Gbps/" << c.sim.link_latency_us << "us loss=" << c.sim.count_loss
      << " optimizer=" << c.sim.count_optimizer << " skew=[";
  for (double f : c.sim.stage_skew) out << f << ' ';
  out << "] seed " << base_seed();
  return out.str();
}

RunConfig random_sim_config(Rng& rng) {
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.devices = rng.uniform(1, 8);
  c.model.layers = rng.uniform(c.devices, 3 * c.devices);
  c.microbatches = rng.uniform(1, 32);
  c.model.batch = rng.uniform(c.microbatches, 3 * c.microbatches + 5);  // mostly uneven
  c.model.width = rng.uniform(2, 64);
  c.model.hidden = rng.uniform(2, 128);
  c.partition = rng.chance(0.3) ? PartitionMethod::Balanced : PartitionMethod::Even;
  c.sim.device_tflops = rng.uniform_real(0.5, 100);
  if (rng.chance(0.3)) c.sim.link_gbps = rng.uniform_real(1, 200);
  if (rng.chance(0.3)) c.sim.link_latency_us = rng.uniform_real(0, 5);
  if (rng.chance(0.4))
    for (int s = 0; s < c.devices; ++s) c.sim.stage_skew.push_back(rng.uniform_real(0.25, 4));
  c.sim.count_loss = rng.chance(0.7);
  c.sim.count_optimizer = rng.chance(0.7);
  return c;
}

// ------------------------------------------------------------------ shared checks

struct KindCounts {
  std::map<ActionKind, int> of;
  int operator[](ActionKind k) const { return of.count(k) ? of.at(k) : 0; }
};

KindCounts count_kinds(const Trace& trace) {
  KindCounts counts;
  for (const TraceEvent& e : trace.events) ++counts.of[e.action.kind];
  return counts;
}

// What every step must satisfy, whatever the backend, schedule and config.
void check_step(const RunConfig& c, const RunResult& r) {
  const int K = c.devices;
  const int M = r.schedule.microbatches;  // 1 for naive
  const StepMetrics& m = r.metrics;
  EXPECT_EQ(r.trace.events.size(), r.schedule.size()) << "every action appears once in the trace";
  const KindCounts kinds = count_kinds(r.trace);
  EXPECT_EQ(kinds[ActionKind::Forward], K * M);
  EXPECT_EQ(kinds[ActionKind::Backward], K * M);
  EXPECT_EQ(kinds[ActionKind::Recompute], c.remat ? K * M : 0);
  EXPECT_EQ(kinds[ActionKind::OptimizerStep], K);
  EXPECT_EQ(kinds[ActionKind::SendActivation], (K - 1) * M);
  EXPECT_EQ(kinds[ActionKind::RecvGrad], (K - 1) * M);

  ASSERT_EQ(static_cast<int>(m.utilization.size()), K);
  EXPECT_GT(m.makespan_ms, 0);
  double sum = 0;
  for (int d = 0; d < K; ++d) {
    EXPECT_GE(m.utilization[d], 0) << "device " << d;
    EXPECT_LE(m.utilization[d], 1 + 1e-12) << "device " << d;
    EXPECT_LE(m.busy_ms[d], m.makespan_ms * (1 + 1e-12)) << "device " << d;
    sum += m.utilization[d];
  }
  EXPECT_NEAR(m.mean_utilization, sum / K, 1e-12);
  EXPECT_NEAR(m.bubble_fraction, 1 - m.mean_utilization, 1e-12);
  EXPECT_GE(m.bubble_fraction, -1e-12);
  EXPECT_LE(m.bubble_fraction, 1);

  // Each of the B rows crosses each of the K−1 boundaries twice (activation forward,
  // gradient back) as a (rows, d) fp32 tensor.
  const std::uint64_t B = c.model.batch, width = c.model.width;
  EXPECT_EQ(m.comm_bytes, 2ull * static_cast<std::uint64_t>(K - 1) * 4ull * B * width);

  // Params and grads: 4 · P · n_s bytes, P = 2dh + h + d, held all step.
  const std::uint64_t h = c.model.hidden, P = 2 * width * h + h + width;
  for (int s = 0; s < K; ++s) {
    const std::uint64_t expected = 4 * P * static_cast<std::uint64_t>(r.partition.layer_count(s));
    EXPECT_EQ(m.peak_memory_by_category[s][static_cast<int>(MemoryCategory::Params)], expected) << "stage " << s;
    EXPECT_EQ(m.peak_memory_by_category[s][static_cast<int>(MemoryCategory::Grads)], expected) << "stage " << s;
  }
}

// docs/gpipe.md: the fill–drain stash peak of stage s on sim. S(s, m) is the full stash
// of micro-batch m, I(m) its input; without remat all M are alive after the last F;
// with remat R(s, m) runs while the inputs of micro-batches 0..m are held.
std::uint64_t gpipe_stash_peak(const RunConfig& c, const Partition& p, int stage, int microbatches) {
  const std::vector<int> rows = split_microbatches(c.model.batch, microbatches);
  const std::uint64_t d = c.model.width, h = c.model.hidden;
  const bool last = stage == p.stages() - 1;
  const auto S = [&](int m) {
    const std::uint64_t b = rows[m];
    return static_cast<std::uint64_t>(p.layer_count(stage)) * 4 * b * (d + 2 * h) + (last ? 4 * b * d : 0);
  };
  std::uint64_t peak = 0, inputs_before = 0;
  for (int m = 0; m < microbatches; ++m) {
    peak = c.remat ? std::max(peak, inputs_before + S(m)) : peak + S(m);
    inputs_before += 4 * static_cast<std::uint64_t>(rows[m]) * d;
  }
  return peak;
}

RunResult run_checked(const RunConfig& c) {
  // The validator must accept what the generators build, before anything runs.
  const Schedule schedule = build_schedule(c);
  EXPECT_EQ(validation_error(schedule), "") << "generated schedule does not validate";
  try {
    return run_step(c);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the step failed: " << e.what();
    throw;
  }
}

// ------------------------------------------------------------------ sim, random configs

constexpr int kSimShards = 10;
constexpr int kSimCasesPerShard = 20;  // 200 configs, 6 runs each

class PropertySim : public ::testing::TestWithParam<int> {};

TEST_P(PropertySim, EveryScheduleValidatesRunsAndStaysInBounds) {
  Rng rng(base_seed() * 1000 + static_cast<std::uint64_t>(GetParam()));
  for (int i = 0; i < kSimCasesPerShard; ++i) {
    const RunConfig base = random_sim_config(rng);
    for (ScheduleKind kind : kSchedules) {
      std::vector<std::uint64_t> stash_without_remat;
      for (bool remat : {false, true}) {
        RunConfig c = base;
        c.schedule = kind;
        c.remat = remat;
        if (kind == ScheduleKind::Naive) c.microbatches = 1;
        SCOPED_TRACE(describe_case(c));
        const RunResult r = run_checked(c);
        check_step(c, r);
        const int K = c.devices;
        for (int s = 0; s < K; ++s) {
          const std::uint64_t stash = r.metrics.peak_memory_by_category[s][static_cast<int>(MemoryCategory::Stash)];
          if (kind != ScheduleKind::OneFOneB) {
            EXPECT_EQ(stash, gpipe_stash_peak(c, r.partition, s, r.schedule.microbatches)) << "stage " << s;
          }
          if (!remat) {
            stash_without_remat.push_back(stash);
          } else {
            EXPECT_LE(stash, stash_without_remat[s]) << "re-materialization raised stage " << s << "'s stash";
          }
        }
        if (i % 5 == 0) {  // deterministic to the bit
          const RunResult again = run_step(c);
          EXPECT_EQ(again.metrics.makespan_ms, r.metrics.makespan_ms);
          EXPECT_EQ(again.metrics.busy_ms, r.metrics.busy_ms);
        }
        if (HasFailure()) return;  // one failing case is enough to read
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, PropertySim, ::testing::Range(0, kSimShards));

// ------------------------------------------------------------------ sim, balanced: theory

constexpr int kTheoryShards = 4;
constexpr int kTheoryCasesPerShard = 15;  // 60 configs, 5 runs each

class PropertySimTheory : public ::testing::TestWithParam<int> {};

TEST_P(PropertySimTheory, BalancedStagesMatchTheFormulas) {
  Rng rng(base_seed() * 1000 + 500 + static_cast<std::uint64_t>(GetParam()));
  for (int i = 0; i < kTheoryCasesPerShard; ++i) {
    // Balanced: L = n·K, B = b·M, no loss or optimizer cost, free links, no skew.
    RunConfig base;
    base.backend = BackendKind::Sim;
    base.devices = rng.uniform(1, 8);
    base.microbatches = rng.uniform(1, 32);
    const int layers_per_stage = rng.uniform(1, 3), rows = rng.uniform(1, 4);
    base.model.layers = layers_per_stage * base.devices;
    base.model.batch = rows * base.microbatches;
    base.model.width = rng.uniform(2, 32);
    base.model.hidden = rng.uniform(2, 64);
    base.sim.device_tflops = rng.uniform_real(0.5, 100);
    base.sim.count_loss = false;
    base.sim.count_optimizer = false;
    const double K = base.devices, M = base.microbatches;
    // Per micro-batch and stage, from the sim's cost model (FLOPs; the rate cancels).
    const double t_f = layers_per_stage * block_forward_flops(base.model, rows);
    const double t_b = layers_per_stage * block_backward_flops(base.model, rows);
    for (ScheduleKind kind : kSchedules) {
      for (bool remat : {false, true}) {
        if (kind == ScheduleKind::Naive && remat) continue;
        RunConfig c = base;
        c.schedule = kind;
        c.remat = remat;
        SCOPED_TRACE(describe_case(c));
        const RunResult r = run_checked(c);
        double expected = M / (M + K - 1);  // gpipe and 1f1b
        if (kind == ScheduleKind::Naive) expected = 1 / K;
        if (remat) expected = M * (2 * t_f + t_b) / (M * (2 * t_f + t_b) + (K - 1) * (t_f + t_b));
        for (int d = 0; d < c.devices; ++d)
          EXPECT_NEAR(r.metrics.utilization[d], expected, 1e-9) << "device " << d;
        if (HasFailure()) return;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, PropertySimTheory, ::testing::Range(0, kTheoryShards));

// ------------------------------------------------------------------ cpu, tiny configs: transparency

constexpr int kCpuShards = 4;
constexpr int kCpuCasesPerShard = 10;  // 40 configs, 6 runs each

class PropertyCpu : public ::testing::TestWithParam<int> {};

TEST_P(PropertyCpu, EveryScheduleComputesTheSingleDeviceStep) {
  Rng rng(base_seed() * 1000 + 900 + static_cast<std::uint64_t>(GetParam()));
  for (int i = 0; i < kCpuCasesPerShard; ++i) {
    RunConfig base;
    base.backend = BackendKind::Cpu;
    base.devices = rng.uniform(1, 4);
    base.model.layers = rng.uniform(base.devices, base.devices + 3);
    base.model.batch = rng.uniform(1, 13);
    base.microbatches = rng.uniform(1, std::min(6, base.model.batch));  // uneven when M ∤ B
    base.model.width = rng.uniform(2, 8);
    base.model.hidden = rng.uniform(2, 12);
    base.model.seed = rng.next();
    base.partition = rng.chance(0.3) ? PartitionMethod::Balanced : PartitionMethod::Even;
    const StepNumerics reference = reference_step(base.model);
    for (ScheduleKind kind : kSchedules) {
      for (bool remat : {false, true}) {
        RunConfig c = base;
        c.schedule = kind;
        c.remat = remat;
        if (kind == ScheduleKind::Naive) c.microbatches = 1;
        SCOPED_TRACE(describe_case(c) + " model seed " + std::to_string(c.model.seed));
        const RunResult r = run_checked(c);
        check_step(c, r);
        ASSERT_TRUE(r.numerics.has_value());
        EXPECT_LE(max_relative_difference(*r.numerics, reference), kTransparencyTolerance);
        if (HasFailure()) return;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, PropertyCpu, ::testing::Range(0, kCpuShards));

}  // namespace
}  // namespace pipelab
