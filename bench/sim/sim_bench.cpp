// sim_bench.cpp — how fast the sim runs on the event engine (issue: one fast event engine).
//
//   build/bin/pipelab-sim-bench [--json]
//
// For each (schedule, K, M) — GPipe at five sizes, 1F1B at the largest — on balanced stages: build the schedule, validate it, run it
// on the sim backend (event engine, no trace file), compute the metrics. Prints one row
// per configuration (nccl-tests style) with the engine's rate in actions per second and
// the process's peak RSS after the row. Speed is checked here, never in the tests.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "pipelab/backends/backends.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/event_engine.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/validate.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  struct Row {
    pipelab::ScheduleKind schedule;
    int K, M;
  };
  using pipelab::ScheduleKind;
  const std::vector<Row> configs = {{ScheduleKind::Gpipe, 4, 8},      {ScheduleKind::Gpipe, 8, 512},
                                    {ScheduleKind::Gpipe, 64, 1024},  {ScheduleKind::Gpipe, 64, 4096},
                                    {ScheduleKind::Gpipe, 1024, 1024}, {ScheduleKind::OneFOneB, 1024, 1024}};
  if (!json) {
    std::printf("# pipelab-sim-bench: the sim backend (event engine), balanced stages, no trace file\n");
    std::printf("# schedule    K      M    actions  build+validate   engine  metrics  engine rate  peak RSS\n");
    std::printf("#                                      (ms)        (ms)     (ms)  (M actions/s)   (MiB)\n");
  } else {
    std::printf("{\"rows\":[");
  }
  bool first = true;
  for (const auto& [kind, K, M] : configs) {
    pipelab::RunConfig c;
    c.schedule = kind;
    c.backend = pipelab::BackendKind::Sim;
    c.devices = K;
    c.microbatches = M;
    c.model.layers = K;
    c.model.batch = M;
    c.model.width = 64;
    c.model.hidden = 256;
    auto t = Clock::now();
    const pipelab::Partition partition = pipelab::build_partition(c);
    const pipelab::Schedule schedule = pipelab::build_schedule(c);
    pipelab::validate(schedule);
    const double build_ms = ms_since(t);
    auto backend = pipelab::make_backend(c, partition, schedule.microbatches);
    t = Clock::now();
    // execute_event_driven validates again: subtract nothing, it is part of a real run.
    const pipelab::Trace trace = pipelab::execute_event_driven(schedule, *backend);
    const double engine_ms = ms_since(t);
    t = Clock::now();
    const pipelab::StepMetrics m = pipelab::compute_metrics(trace);
    const double metrics_ms = ms_since(t);
    const double rate = static_cast<double>(schedule.size()) / (engine_ms * 1e-3) / 1e6;
    if (!json) {
      std::printf("  %-7s %5d %6d %10zu %14.1f %9.1f %8.1f %12.2f %9.0f\n", pipelab::to_string(kind), K, M,
                  schedule.size(), build_ms, engine_ms,
                  metrics_ms, rate, peak_rss_mib());
    } else {
      std::printf("%s{\"schedule\":\"%s\",\"devices\":%d,\"microbatches\":%d,\"actions\":%zu,\"build_validate_ms\":%.3f,"
                  "\"engine_ms\":%.3f,\"metrics_ms\":%.3f,\"engine_m_actions_per_s\":%.4f,\"peak_rss_mib\":%.1f,"
                  "\"mean_utilization\":%.9f}",
                  first ? "" : ",", pipelab::to_string(kind), K, M, schedule.size(), build_ms, engine_ms, metrics_ms, rate, peak_rss_mib(),
                  m.mean_utilization);
    }
    first = false;
  }
  if (json) std::printf("]}\n");
  if (!json) std::printf("# OK (engine time includes validate(), the run and the trace's sort)\n");
  return 0;
}
