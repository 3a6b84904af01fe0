// metrics.cpp — the numbers of one step, computed from a Trace (definitions in metrics.h
// and docs/metrics.md). Times in the trace are µs; StepMetrics reports ms.
#include "pipelab/report/metrics.h"

#include <algorithm>
#include <limits>
#include <string>

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

namespace {
constexpr double kMsPerUs = 1e-3;

void check_device(int device, int devices, const std::string& what) {
  if (device < 0 || device >= devices)
    PIPELAB_THROW(what + " is on device " + std::to_string(device) + ", outside [0, " +
                      std::to_string(devices) + ") of trace.meta.devices",
                  "set trace.meta.devices to the number of devices the step ran on");
}
}  // namespace

StepMetrics compute_metrics(const Trace& trace) {
  const int devices = trace.meta.devices;
  if (devices < 0)
    PIPELAB_THROW("trace.meta.devices is " + std::to_string(devices) + ", must be >= 0",
                  "set trace.meta.devices to the number of devices the step ran on");
  const auto device_count = static_cast<std::size_t>(devices);

  StepMetrics m;
  m.busy_ms.assign(device_count, 0.0);
  m.utilization.assign(device_count, 0.0);
  m.comm_ms.assign(device_count, 0.0);
  m.peak_memory_bytes.assign(device_count, 0);
  m.peak_memory_by_category.assign(device_count, MemoryBytes{});

  // 1-3. Makespan, busy time, utilization and bubble: ex04's measure_utilization is
  //      the one definition (docs/metrics.md); it also checks every event's device.
  const TraceUtilization u = measure_utilization(trace);
  if (u.busy_us.size() != device_count || u.utilization.size() != device_count)
    PIPELAB_THROW("measure_utilization returned " + std::to_string(u.utilization.size()) + " devices for " +
                      std::to_string(devices),
                  "ex04: return one entry per device of trace.meta.devices");
  m.makespan_ms = u.makespan_us * kMsPerUs;
  for (std::size_t d = 0; d < device_count; ++d) {
    m.busy_ms[d] = u.busy_us[d] * kMsPerUs;
    m.utilization[d] = u.utilization[d];
  }
  m.mean_utilization = u.mean_utilization;
  m.bubble_fraction = u.bubble_fraction;
  // Megatron's convention: the idle time of all devices over their busy time. With one
  // makespan T for every device, idle_d = T - busy_d (docs/metrics.md).
  double busy_total_us = 0;
  for (double busy : u.busy_us) busy_total_us += busy;
  const double idle_total_us = static_cast<double>(devices) * u.makespan_us - busy_total_us;
  m.bubble_over_busy = busy_total_us > 0 ? idle_total_us / busy_total_us : 0.0;

  // Communication: comm_d = |union of d's send and recv spans| (ex04's busy_time, so
  // overlaps count once). Each transfer has one send span and one recv span; counting
  // only the send side counts every transfer once (its duration and its bytes).
  std::vector<std::vector<Interval>> comm_spans(device_count);
  double send_us = 0;
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    const TraceEvent& e = trace.events[i];
    // The message is built only for a bad event: a string per event would cost more
    // than the metrics themselves on a million-action trace.
    if (e.device < 0 || e.device >= devices)
      check_device(e.device, devices, "trace event " + std::to_string(i) + " (" + to_string(e.action) + ")");
    if (e.lane == Lane::Send || e.lane == Lane::Recv) comm_spans[e.device].push_back({e.start_us, e.end_us()});
    if (e.lane == Lane::Send) {
      send_us += e.dur_us;
      m.comm_bytes += e.bytes;
    }
  }
  m.comm_time_ms = send_us * kMsPerUs;
  for (std::size_t d = 0; d < device_count; ++d) m.comm_ms[d] = busy_time(std::move(comm_spans[d])) * kMsPerUs;

  // On-core fraction: what part of each device's compute wall time its worker thread
  // actually ran (thread CPU time / wall time), from the spans that carry a CPU time.
  std::vector<double> cpu_us(device_count, 0.0), wall_us(device_count, 0.0);
  bool any_cpu_time = false;
  for (const TraceEvent& e : trace.events) {
    if (e.lane != Lane::Compute || !is_compute(e.action.kind) || !(e.cpu_us >= 0)) continue;
    any_cpu_time = true;
    cpu_us[e.device] += e.cpu_us;
    wall_us[e.device] += e.dur_us;
  }
  if (any_cpu_time) {
    m.on_core_fraction.assign(device_count, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t d = 0; d < device_count; ++d)
      if (wall_us[d] > 0) m.on_core_fraction[d] = std::min(1.0, cpu_us[d] / wall_us[d]);
  }

  // 4. Memory. Per category: the allocator's own peaks (trace.peak_memory, exact even
  //    when samples were thinned), raised by any sample that exceeds them.
  if (!trace.peak_memory.empty() && trace.peak_memory.size() != device_count)
    PIPELAB_THROW("trace.peak_memory has " + std::to_string(trace.peak_memory.size()) + " entries for " +
                      std::to_string(devices) + " devices",
                  "give one MemoryBytes per device, or leave peak_memory empty");
  for (std::size_t d = 0; d < trace.peak_memory.size(); ++d)
    m.peak_memory_by_category[d] = trace.peak_memory[d];
  std::vector<bool> has_samples(device_count, false);
  std::vector<std::uint64_t> sampled_peak_total(device_count, 0);
  for (std::size_t i = 0; i < trace.memory.size(); ++i) {
    const MemorySample& s = trace.memory[i];
    if (s.device < 0 || s.device >= devices) check_device(s.device, devices, "memory sample " + std::to_string(i));
    std::uint64_t total = 0;
    for (int c = 0; c < kMemoryCategoryCount; ++c) {
      total += s.current[c];
      m.peak_memory_by_category[s.device][c] = std::max(m.peak_memory_by_category[s.device][c], s.current[c]);
    }
    has_samples[s.device] = true;
    sampled_peak_total[s.device] = std::max(sampled_peak_total[s.device], total);
  }
  // Peak of the total. Categories peak at different times (stash peaks after the last
  // F, grads during B), so the sum of per-category peaks over-states the real peak.
  //  - With samples: the peak of the total is the maximum over samples of the summed
  //    categories (exact when every allocator change was sampled). It is raised to the
  //    largest single category's peak if needed, because the total can never be below
  //    any one category — this only matters when samples were thinned out.
  //  - Without samples for a device: the only information is the per-category peaks,
  //    and their sum is reported as an UPPER BOUND of the real peak.
  for (std::size_t d = 0; d < device_count; ++d) {
    const MemoryBytes& by_category = m.peak_memory_by_category[d];
    if (has_samples[d]) {
      const std::uint64_t largest_category = *std::max_element(by_category.begin(), by_category.end());
      m.peak_memory_bytes[d] = std::max(sampled_peak_total[d], largest_category);
    } else {
      std::uint64_t upper_bound = 0;
      for (std::uint64_t bytes : by_category) upper_bound += bytes;
      m.peak_memory_bytes[d] = upper_bound;
    }
  }
  return m;
}

}  // namespace pipelab
