// test_transparency.cpp — a pipelined step on the cpu backend equals the
// single-device reference step (loss, every gradient, updated parameters) for
// K ∈ {1,2,3,4,8} × M ∈ {1,2,3,4,8,16}, with a batch that most M do not divide.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

// Small enough to run 30 steps in well under a second, odd sizes on purpose.
RunConfig small_cpu_config(int devices, int microbatches) {
  RunConfig c;
  c.model.layers = 8;
  c.model.width = 12;
  c.model.hidden = 20;
  c.model.batch = 37;  // prime: uneven micro-batches for every M > 1
  c.model.seed = 42;
  c.devices = devices;
  c.microbatches = microbatches;
  c.schedule = ScheduleKind::Gpipe;
  c.backend = BackendKind::Cpu;
  c.watchdog_seconds = 20;
  return c;
}

class Transparency : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(Transparency, PipelinedStepEqualsSingleDeviceStep) {
  const auto [devices, microbatches] = GetParam();
  const RunConfig c = small_cpu_config(devices, microbatches);
  const RunResult run = run_step(c);
  ASSERT_TRUE(run.numerics.has_value());
  const StepNumerics reference = reference_step(c.model);
  const double diff = max_relative_difference(*run.numerics, reference);
  EXPECT_LE(diff, 1e-5) << "K=" << devices << " M=" << microbatches << " loss " << run.numerics->loss << " vs "
                        << reference.loss;
  // The reference must not be trivially zero (a broken model would match a broken copy).
  EXPECT_GT(reference.loss, 0.1);
  double grad_norm = 0;
  for (const auto& g : reference.grads)
    for (float v : g.w1) grad_norm += static_cast<double>(v) * v;
  EXPECT_GT(grad_norm, 0.0);
}

class RematTransparency : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(RematTransparency, RematDoesNotChangeGradients) {
  const auto [devices, microbatches] = GetParam();
  RunConfig c = small_cpu_config(devices, microbatches);
  c.remat = true;
  const RunResult run = run_step(c);
  ASSERT_TRUE(run.numerics.has_value());
  EXPECT_LE(max_relative_difference(*run.numerics, reference_step(c.model)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(KByM, Transparency,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4, 8),
                                            ::testing::Values(1, 2, 3, 4, 8, 16)),
                         [](const auto& info) {
                           return "K" + std::to_string(std::get<0>(info.param)) + "M" +
                                  std::to_string(std::get<1>(info.param));
                         });

INSTANTIATE_TEST_SUITE_P(KByM, RematTransparency,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4, 8), ::testing::Values(1, 3, 16)),
                         [](const auto& info) {
                           return "K" + std::to_string(std::get<0>(info.param)) + "M" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(Transparency, NaiveScheduleEqualsReference) {
  RunConfig c = small_cpu_config(4, 1);
  c.schedule = ScheduleKind::Naive;
  const RunResult run = run_step(c);
  EXPECT_LE(max_relative_difference(*run.numerics, reference_step(c.model)), 1e-5);
}

TEST(Transparency, DetectsAWrongGradient) {
  // The comparison itself must bite: perturb one gradient entry by 1e-3 relative.
  const RunConfig c = small_cpu_config(2, 2);
  StepNumerics got = *run_step(c).numerics;
  const StepNumerics reference = reference_step(c.model);
  got.grads[3].w2[5] += 1e-3f * std::max(1e-6f, std::fabs(got.grads[3].w2[5]) + 1.0f);
  EXPECT_GT(max_relative_difference(got, reference), 1e-5);
}

}  // namespace
}  // namespace pipelab
