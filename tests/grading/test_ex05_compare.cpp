// test_ex05_compare.cpp — graded: ex05 utilization_table (lab 03).
// Oracles: the fill-drain formula on balanced sim stages (where it is exact), and on
// cpu each row's own trace, measured here from first principles.
// Needs ex01-ex04: the table runs the real runtime, which calls them. Each test first
// checks the ex01-ex03 outputs the runtime uses are valid, and a wrong utilization is
// blamed on measure_utilization when that is where it comes from (prerequisites.h).
#include <cmath>
#include <sstream>

#include "grading.h"
#include "prerequisites.h"

namespace pipelab::grading {
namespace {

// Balanced sim stages: L divisible by K, B divisible by every M, no loss and no
// optimizer cost, free links — where M / (M + K - 1) is exact.
RunConfig balanced_sim(int devices) {
  RunConfig c;
  c.model.layers = 2 * devices;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 64;
  c.devices = devices;
  c.backend = BackendKind::Sim;
  c.sim.count_loss = false;
  c.sim.count_optimizer = false;
  return c;
}

// "" when the student functions the runtime calls under utilization_table give valid
// output, else the first invalid one, named: "these tests call your gpipe_schedule: ...".
std::string runtime_functions_problem() {
  std::string problem = calls_yours(even_partition_problem(), "even_partition",
                                    "EvenPartition.SizesDifferByAtMostOneLargestFirst");
  if (problem.empty()) problem = calls_yours(naive_schedule_problem(), "naive_schedule", "NaiveSchedule.ValidForAnyK");
  if (problem.empty()) problem = calls_yours(gpipe_schedule_problem(), "gpipe_schedule", "GpipeSchedule.PassesValidator");
  if (problem.empty()) problem = valid_split_microbatches();
  return problem;
}

// "" when the student's measure_utilization gets `row`'s trace right, else a note for a
// wrong utilization that names it: the row's numbers come from it (exercise.h, ex05).
std::string measuring_hint(const UtilizationRow& row) {
  double got = 0;
  try {
    got = measure_utilization(row.trace).mean_utilization;
  } catch (const std::exception&) {
    return "";  // the table did not measure with it, so it is not at fault here
  }
  const double expected = oracle_metrics(row.trace).mean_utilization;
  if (std::fabs(got - expected) <= 1e-9) return "";
  std::ostringstream out;
  out << " — your measure_utilization gives " << got << " for this row's trace, expected " << expected;
  return calls_yours(out.str(), "measure_utilization", "TraceUtilization.*");
}

int count_kind(const Trace& t, ActionKind kind) {
  int n = 0;
  for (const TraceEvent& e : t.events) n += e.action.kind == kind;
  return n;
}

TEST(UtilizationTable, RowsInOrder) {
  GRADE_REQUIRE(runtime_functions_problem());
  const std::vector<UtilizationRow> rows = utilization_table(balanced_sim(3), {2, 4});
  GRADE_ASSERT(rows.size() == 3u, "utilization_table(K=3, M={2,4}) returned " << rows.size()
                                                                            << " rows, expected 3 (naive, then one per M)");
  const char* names[] = {"naive", "gpipe", "gpipe"};
  const int ms[] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    GRADE_EXPECT(rows[i].schedule == names[i],
                 "row " << i << " is schedule '" << rows[i].schedule << "', expected '" << names[i] << "'");
    GRADE_EXPECT(rows[i].microbatches == ms[i],
                 "row " << i << " has M = " << rows[i].microbatches << ", expected " << ms[i]);
    GRADE_EXPECT(rows[i].devices == 3, "row " << i << " has K = " << rows[i].devices << ", expected 3");
    GRADE_EXPECT(rows[i].trace.meta.backend == "sim",
                 "row " << i << "'s trace comes from backend '" << rows[i].trace.meta.backend
                        << "', expected 'sim' (use the config's backend)");
    GRADE_EXPECT(count_kind(rows[i].trace, ActionKind::Forward) == 3 * ms[i],
                 "row " << i << "'s trace has " << count_kind(rows[i].trace, ActionKind::Forward)
                        << " forward spans, expected K * M = " << 3 * ms[i] << " (is row.trace the run's trace?)");
  }
}

TEST(UtilizationTable, SimMatchesTheory) {
  GRADE_REQUIRE(runtime_functions_problem());
  const int k = 4;
  const std::vector<int> ms = {1, 2, 4, 8, 16};
  const std::vector<UtilizationRow> rows = utilization_table(balanced_sim(k), ms);
  GRADE_ASSERT(rows.size() == ms.size() + 1, "returned " << rows.size() << " rows, expected " << ms.size() + 1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int m = i == 0 ? 1 : ms[i - 1];
    const double theory = static_cast<double>(m) / (m + k - 1);  // naive: 1 / K
    GRADE_EXPECT(std::fabs(rows[i].theory_utilization - theory) <= 1e-12,
                 "row " << i << " (" << rows[i].schedule << " M=" << m << "): theory_utilization "
                        << rows[i].theory_utilization << ", expected M/(M+K-1) = " << theory);
    GRADE_EXPECT(std::fabs(rows[i].utilization - theory) <= 1e-9,
                 "row " << i << " (" << rows[i].schedule << " M=" << m << "): measured utilization "
                        << rows[i].utilization << ", but balanced sim stages give exactly " << theory
                        << measuring_hint(rows[i]));
    GRADE_EXPECT(std::fabs(rows[i].bubble_fraction - (1.0 - rows[i].utilization)) <= 1e-12,
                 "row " << i << ": bubble_fraction " << rows[i].bubble_fraction << " is not 1 - utilization");
  }
}

TEST(UtilizationTable, SpeedupIsStepTimeRatio) {
  GRADE_REQUIRE(runtime_functions_problem());
  const int k = 4;
  const std::vector<int> ms = {2, 8};
  const std::vector<UtilizationRow> rows = utilization_table(balanced_sim(k), ms);
  GRADE_ASSERT(rows.size() == 3u, "returned " << rows.size() << " rows, expected 3");
  GRADE_EXPECT(rows[0].speedup == 1.0, "the naive row's speedup is " << rows[0].speedup << ", expected 1");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const OracleMetrics naive = oracle_metrics(rows[0].trace), mine = oracle_metrics(rows[i].trace);
    const double measured = naive.makespan_us / mine.makespan_us;
    GRADE_EXPECT(std::fabs(rows[i].speedup - measured) <= 1e-9 * measured,
                 "row " << i << ": speedup " << rows[i].speedup << ", but the traces give naive / gpipe step time = "
                        << measured);
    // Balanced sim: naive takes K (f + b), GPipe (M + K - 1)(f + b) / M.
    const int m = ms[i - 1];
    const double ideal = static_cast<double>(k) * m / (m + k - 1);
    GRADE_EXPECT(std::fabs(rows[i].speedup - ideal) <= 1e-9,
                 "row " << i << ": speedup " << rows[i].speedup << ", balanced sim stages give K M / (M + K - 1) = "
                        << ideal);
    GRADE_EXPECT(std::fabs(rows[i].step_ms - mine.makespan_us * 1e-3) <= 1e-12,
                 "row " << i << ": step_ms " << rows[i].step_ms << ", its trace lasts " << mine.makespan_us * 1e-3
                        << " ms");
  }
}

TEST(UtilizationTable, CpuRowsMatchTheirTraces) {
  GRADE_REQUIRE(runtime_functions_problem());
  RunConfig c = tiny_cpu_config(2, 2);
  const std::vector<UtilizationRow> rows = utilization_table(c, {2, 4});
  GRADE_ASSERT(rows.size() == 3u, "returned " << rows.size() << " rows, expected 3");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const UtilizationRow& row = rows[i];
    GRADE_EXPECT(row.trace.meta.backend == "cpu",
                 "row " << i << "'s trace comes from backend '" << row.trace.meta.backend << "', expected 'cpu'");
    const OracleMetrics m = oracle_metrics(row.trace);
    GRADE_EXPECT(m.makespan_us > 0, "row " << i << "'s trace is empty");
    GRADE_EXPECT(std::fabs(row.step_ms - m.makespan_us * 1e-3) <= 1e-9 * row.step_ms,
                 "row " << i << ": step_ms " << row.step_ms << ", its trace lasts " << m.makespan_us * 1e-3 << " ms");
    GRADE_EXPECT(std::fabs(row.utilization - m.mean_utilization) <= 1e-9,
                 "row " << i << ": utilization " << row.utilization << ", its trace gives " << m.mean_utilization
                        << measuring_hint(row));
    GRADE_EXPECT(std::fabs(row.bubble_fraction - (1.0 - m.mean_utilization)) <= 1e-9,
                 "row " << i << ": bubble_fraction " << row.bubble_fraction << ", its trace gives "
                        << 1.0 - m.mean_utilization);
  }
}

}  // namespace
}  // namespace pipelab::grading
