// ex04_measuring.cpp — ex04 reference: busy time, utilization and bubble of one step's
// trace (the definitions of docs/metrics.md).
//
//   busy_time(spans)  = |union of spans|       (sort + sweep; overlaps count once)
//   T                 = max(end) - min(start) over all events (every lane: transfers are part of the step)
//   busy_d            = busy_time(d's F, B, R spans)
//   utilization_d     = busy_d / T,  bubble = 1 - mean_d utilization_d
#include <algorithm>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

double busy_time(std::vector<Interval> spans) {
  // Empty and negative-length spans cover nothing.
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Interval& i) { return !(i.end > i.start); }),
              spans.end());
  if (spans.empty()) return 0.0;
  std::sort(spans.begin(), spans.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  // Sweep left to right, keeping the current merged run [run_start, run_end); a span
  // that starts after run_end closes the run and adds its length.
  double total = 0.0;
  double run_start = spans.front().start;
  double run_end = spans.front().end;
  for (const Interval& span : spans) {
    if (span.start > run_end) {
      total += run_end - run_start;
      run_start = span.start;
      run_end = span.end;
    } else {
      run_end = std::max(run_end, span.end);
    }
  }
  return total + (run_end - run_start);
}

TraceUtilization measure_utilization(const Trace& trace) {
  const int devices = trace.meta.devices;
  if (devices < 0)
    PIPELAB_THROW("trace.meta.devices is " + std::to_string(devices), "set it to the number of devices");
  std::vector<std::vector<Interval>> compute(devices);
  double first_start = 0, last_end = 0;
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& e = trace.events[i];
    if (e.device < 0 || e.device >= devices)
      PIPELAB_THROW("trace event " + std::to_string(i) + " is on device " + std::to_string(e.device) +
                        ", outside [0, " + std::to_string(devices) + ")",
                    "set trace.meta.devices to the number of devices the step ran on");
    first_start = i == 0 ? e.start_us : std::min(first_start, e.start_us);
    last_end = i == 0 ? e.end_us() : std::max(last_end, e.end_us());
    if (is_compute(e.action.kind)) compute[e.device].push_back({e.start_us, e.end_us()});
  }
  TraceUtilization u;
  u.makespan_us = trace.events.empty() ? 0.0 : last_end - first_start;
  u.busy_us.assign(devices, 0.0);
  u.utilization.assign(devices, 0.0);
  double sum = 0;
  for (int d = 0; d < devices; ++d) {
    u.busy_us[d] = busy_time(std::move(compute[d]));
    u.utilization[d] = u.makespan_us > 0 ? u.busy_us[d] / u.makespan_us : 0.0;
    sum += u.utilization[d];
  }
  if (devices > 0 && u.makespan_us > 0) {
    u.mean_utilization = sum / devices;
    u.bubble_fraction = 1.0 - u.mean_utilization;
  }
  return u;
}

}  // namespace pipelab
