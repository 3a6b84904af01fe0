// test_registry.cpp — the contract every schedule of the registry meets, checked for
// each row without row-specific code: a new row (one generator + one row, see
// docs/add-schedule.md) is validated, simulated against its theory and
// transparency-checked on the cpu backend by this file as it is.
//
// The oracles are independent of the generators: validate() (completeness, order,
// deadlock freedom), the single-device reference step, and for the theory the sim on
// balanced stages with free links, where every F (and every B) costs the same, so a
// schedule's measured utilization is exactly its stated formula.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "pipelab/error.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"
#include "balanced_sim.h"
#include "pipelab/schedule/validate.h"

namespace pipelab {
namespace {

class RegistrySchedule : public ::testing::TestWithParam<std::size_t> {
 protected:
  const ScheduleInfo& row() const { return schedule_registry().at(GetParam()); }
};

TEST(Registry, NamesAreUniqueAndReadBothWays) {
  std::set<std::string> names;
  for (const ScheduleInfo& row : schedule_registry()) {
    EXPECT_TRUE(names.insert(row.name).second) << "duplicate name " << row.name;
    EXPECT_EQ(schedule_from_string(row.name), row.kind);
    EXPECT_EQ(std::string(to_string(row.kind)), row.name);
    EXPECT_EQ(&schedule_info(row.kind), &row);
    EXPECT_NE(std::string(row.title), "");
    EXPECT_NE(std::string(row.theory_formula), "");
    EXPECT_NE(std::string(row.theory_source), "");
  }
  EXPECT_THROW(schedule_from_string("no-such-schedule"), UsageError);
  EXPECT_THROW(schedule_info(ScheduleKind::Custom), Error);
}

TEST_P(RegistrySchedule, GeneratesValidSchedulesWithTheirIdentity) {
  for (int K = 1; K <= 5; ++K) {
    for (int M = 1; M <= 7; ++M) {
      for (bool remat : {false, true}) {
        const Schedule s = generate_schedule(row().kind, K, M, remat);
        SCOPED_TRACE(s.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M));
        EXPECT_EQ(s.kind, row().kind);
        EXPECT_EQ(s.remat, remat);
        EXPECT_EQ(s.name(), std::string(row().name) + (remat ? "+remat" : ""));
        EXPECT_EQ(s.stages, K);
        // naive: one batch; data-parallel: one share per device; else M as asked.
        const int expected_m = row().microbatch_rule == MicrobatchRule::One         ? 1
                               : row().microbatch_rule == MicrobatchRule::PerDevice ? K
                                                                                    : M;
        EXPECT_EQ(s.microbatches, expected_m);
        EXPECT_EQ(validation_error(s), "");
      }
    }
  }
}

TEST_P(RegistrySchedule, RefusesImpossibleInputs) {
  EXPECT_THROW(row().generate(0, 4, 1), Error);
  EXPECT_THROW(row().generate(-3, 4, 1), Error);
  if (row().microbatch_rule == MicrobatchRule::AsGiven) {
    EXPECT_THROW(row().generate(4, 0, 1), Error);
  }
}

TEST_P(RegistrySchedule, SimOnBalancedStagesMatchesItsTheory) {
  for (int K : {1, 2, 3, 4}) {
    for (int M : {1, 2, 3, 4, 8, 16}) {
      const RunResult r = run_step(balanced_sim(row().kind, K, M));
      SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M));
      const Theory theory = row().theory(K, r.schedule.microbatches, r.schedule.chunks);
      EXPECT_NEAR(r.metrics.mean_utilization, theory.utilization, 1e-9);
      EXPECT_NEAR(r.metrics.bubble_fraction, theory.bubble_fraction, 1e-9);
      EXPECT_NEAR(theory.utilization + theory.bubble_fraction, 1.0, 1e-12);
      // Megatron's convention, idle over busy, measured and in theory.
      EXPECT_NEAR(r.metrics.bubble_over_busy, theory.bubble_over_busy(), 1e-9);
      // The run and its trace carry the row's theory, computed once.
      EXPECT_EQ(r.theory.utilization, theory.utilization);
      EXPECT_EQ(r.trace.meta.theory_utilization, theory.utilization);
    }
  }
}

TEST_P(RegistrySchedule, CpuStepEqualsTheSingleDeviceStep) {
  RunConfig c;
  c.model.layers = 6;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 10;  // uneven micro-batches for M = 3 and 4
  c.backend = BackendKind::Cpu;
  c.schedule = row().kind;
  const StepNumerics reference = reference_step(c.model);
  for (int K : {1, 2, 3}) {
    for (int M : {1, 3, 4}) {
      for (bool remat : {false, true}) {
        c.devices = K;
        c.microbatches = M;
        c.remat = remat;
        const RunResult r = run_step(c);
        SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M));
        ASSERT_TRUE(r.numerics.has_value());
        EXPECT_LE(max_relative_difference(*r.numerics, reference), kTransparencyTolerance);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRow, RegistrySchedule,
                         ::testing::Range<std::size_t>(0, schedule_registry().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           std::string name = schedule_registry().at(info.param).name;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace pipelab
