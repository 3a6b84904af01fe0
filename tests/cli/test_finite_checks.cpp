// test_finite_checks.cpp — the last line before printing (core/cli/finite_checks.h): a
// result with an infinite, NaN or zero time is a failed run naming the number, never a
// table of inf and -nan.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "../../core/cli/finite_checks.h"
#include "pipelab/error.h"
#include "pipelab/runtime/run.h"

namespace {

// A real sim step: finite everywhere.
pipelab::RunResult small_sim_run() {
  pipelab::RunConfig c;
  c.backend = pipelab::BackendKind::Sim;
  c.devices = 2;
  c.microbatches = 2;
  c.model.layers = 2;
  return pipelab::run_step(c);
}

// The message of what check_printable(r) throws ("" if nothing).
std::string thrown_by(const pipelab::RunResult& r) {
  try {
    pipelab::cli::check_printable(r);
  } catch (const pipelab::Error& e) {
    return e.message();
  }
  return "";
}

TEST(FiniteChecks, FiniteRunPasses) { EXPECT_EQ(thrown_by(small_sim_run()), ""); }

TEST(FiniteChecks, InfiniteStepTimeIsNamed) {
  pipelab::RunResult r = small_sim_run();
  r.metrics.makespan_ms = std::numeric_limits<double>::infinity();
  EXPECT_NE(thrown_by(r).find("the step time is infinite"), std::string::npos) << thrown_by(r);
}

TEST(FiniteChecks, ZeroStepTimeIsNamed) {
  pipelab::RunResult r = small_sim_run();
  r.metrics.makespan_ms = 0;
  EXPECT_NE(thrown_by(r).find("the step time is 0"), std::string::npos) << thrown_by(r);
}

TEST(FiniteChecks, NanUtilizationNamesTheDevice) {
  pipelab::RunResult r = small_sim_run();
  r.metrics.utilization[1] = std::nan("");
  EXPECT_NE(thrown_by(r).find("the utilization of device 1 is NaN"), std::string::npos) << thrown_by(r);
}

TEST(FiniteChecks, NanTransparencyDifferenceIsNamed) {
  try {
    pipelab::cli::check_printable(small_sim_run(), std::nan(""));
    FAIL() << "a NaN transparency difference passed";
  } catch (const pipelab::Error& e) {
    EXPECT_NE(e.message().find("the transparency difference is NaN"), std::string::npos) << e.message();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(FiniteChecks, NanOnCoreFractionIsAllowed) {
  // NaN by definition for a device without CPU times (metrics.h): printed as such.
  pipelab::RunResult r = small_sim_run();
  r.metrics.on_core_fraction = {std::nan(""), 0.5};
  EXPECT_EQ(thrown_by(r), "");
}

}  // namespace
