// schedule_table.cpp — `pipelab compare --schedules`: table and JSON (schedule_table.h).
#include "pipelab/report/schedule_table.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "pipelab/report/report.h"  // format_number, describe_config, transparency_json
#include "pipelab/report/processes.h"  // process_lines, processes_json (mpirun)
#include "pipelab/runtime/memory.h"  // bytes_to_mib

namespace pipelab {
namespace {

std::vector<std::uint64_t> stash_bytes_per_device(const RunResult& r) {
  std::vector<std::uint64_t> out;
  for (const MemoryBytes& m : r.metrics.peak_memory_by_category) out.push_back(m[static_cast<int>(MemoryCategory::Stash)]);
  return out;
}

int max_of(const std::vector<int>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// "naive, gpipe, 1f1b": the schedules as listed.
std::string listed(const ScheduleComparison& c) {
  std::string out;
  for (const ScheduleRow& row : c.rows) out += (out.empty() ? "" : ", ") + row.run.schedule.name();
  return out;
}

// Column by column: the rows' printf below, each header right-aligned over its column.
// comm: every transfer's span summed (the all-reduce's on every device, for data-parallel);
// memory: the allocator's peak of everything a device holds, the most of any device.
// in flight: the peak over the step, the most of any device, beside the registry's bound.
const char* kHeader =
    "# schedule              M   step time    speedup (x first)     bubble (%)       bubble/busy     in flight (max)"
    "       stash       comm      memory\n"
    "#                                (ms)   median [min - max]  measured  theory  measured  theory  measured  theory"
    "  (MiB, max)  (ms, sum)  (MiB, max)\n";

std::string row_line(const ScheduleRow& row) {
  const RunResult& r = row.run;
  const std::string speedup = format_number("%.2f", row.paired.median) + " [" + format_number("%.2f", row.paired.min) +
                              " - " + format_number("%.2f", row.paired.max) + "]";
  char line[256];
  // The bubble twice: the GPipe paper's share of the step and Megatron's idle over busy
  // (metrics.h), each measured from the trace beside the registry's theory.
  const std::vector<std::uint64_t>& peak = r.metrics.peak_memory_bytes;
  const std::uint64_t peak_memory = peak.empty() ? 0 : *std::max_element(peak.begin(), peak.end());
  std::snprintf(line, sizeof line, "  %-19s %3d %11.3f  %19s %9.1f %7.1f %9.3f %7.3f %9d %7g %11.2f %10.3f %11.2f\n",
                r.schedule.name().c_str(), r.schedule.microbatches, r.metrics.makespan_ms, speedup.c_str(),
                100.0 * r.metrics.bubble_fraction, 100.0 * r.theory.bubble_fraction, r.metrics.bubble_over_busy,
                r.theory.bubble_over_busy(), max_of(row.peak_in_flight), r.theory.peak_stash_microbatches,
                bytes_to_mib(max_peak_stash_bytes(r)),
                r.metrics.comm_time_ms, bytes_to_mib(peak_memory));
  return line;
}

// With model chunks, what the in-flight column counts (docs/interleaved.md); "" without.
std::string chunk_line(const ScheduleComparison& c) {
  std::string rows;  // "interleaved-1f1b: 2, zbv: 2"
  for (const ScheduleRow& row : c.rows)
    if (row.run.schedule.chunks > 1)
      rows += (rows.empty() ? "" : ", ") + row.run.schedule.name() + ": " + std::to_string(row.run.schedule.chunks);
  if (rows.empty()) return "";
  return "#   with model chunks (" + rows +
         " per device) it counts (chunk, micro-batch) pairs, each holding one chunk's activations\n";
}

// "# theory (balanced stages, free links): naive 1/K = 25.0%, gpipe M/(M+K-1) = 72.7%, ...".
std::string theory_line(const ScheduleComparison& c) {
  std::string out = "# theory (registry; balanced stages, free links): utilization";
  for (const ScheduleRow& row : c.rows)
    out += (&row == &c.rows.front() ? " " : ", ") + row.run.theory.name() + " " + row.run.theory.formula + " = " +
           format_number("%.1f%%", 100 * row.run.theory.utilization);
  out += "; bubble = 1 - utilization, bubble/busy = bubble / utilization\n";
  // The FLOP-priced sim is near the formulas, not on them: its loss, optimizer and
  // element-wise terms make F, I and W differ a little (docs/backends.md).
  const RunConfig& config = c.rows.front().run.config;
  if (config.backend == BackendKind::Sim && config.sim.costs == SimCosts::Flops)
    out += "#   the sim prices each action's FLOPs; --sim-costs unit prices F = I = W = 1, B = 2, where every "
           "formula is exact on balanced stages\n";
  return out;
}

std::string transparency_lines(const ScheduleComparison& c) {
  const RunConfig& config = c.rows.front().run.config;
  if (!c.rows.front().max_rel_diff)
    return "# transparency: not checked (the " + std::string(to_string(config.backend)) +
           " backend computes no numerics)\n";
  std::ostringstream out;
  out << "# transparency: loss, gradients and updated parameters of each run vs " << describe(c.reference)
      << " (tolerance " << format_number("%.0e", c.tolerance) << "), max normwise rel diff:\n";
  for (const ScheduleRow& row : c.rows) {
    char line[128];
    std::snprintf(line, sizeof line, "#   %-19s %s %s\n", row.run.schedule.name().c_str(),
                  row.max_rel_diff ? format_number("%.2e", *row.max_rel_diff).c_str() : "-",
                  row.transparency_ok ? "OK" : "FAILED");
    out << line;
  }
  return out.str();
}

// The replays (cpu, cuda): every number on the line is "replayed from measured costs".
std::string replay_line(const ScheduleComparison& c) {
  const auto has_replay = [](const ScheduleRow& row) { return row.replayed_speedup.has_value(); };
  if (!std::all_of(c.rows.begin(), c.rows.end(), has_replay)) return "";
  const ReplayResult& first = *c.rows.front().run.replay;
  std::ostringstream out;
  out << "# replayed from measured costs (" << (first.cpu_time ? "thread CPU time" : "measured spans");
  if (first.steps > 1) out << ", each action's median over " << first.steps << " steps";
  out << ", one dedicated device per stage), speedup over " << c.rows.front().run.schedule.name() << ":";
  for (const ScheduleRow& row : c.rows)
    out << (&row == &c.rows.front() ? " " : ", ") << row.run.schedule.name() << " "
        << format_number("%.3f ms", row.run.replay->metrics.makespan_ms) << " "
        << format_number("%.2fx", *row.replayed_speedup);
  return out.str() + "\n";
}

nlohmann::json row_json(const ScheduleRow& row, const ScheduleComparison& c) {
  const RunResult& r = row.run;
  nlohmann::json j;
  j["schedule"] = r.schedule.name();
  j["devices"] = r.config.devices;
  j["microbatches"] = r.schedule.microbatches;  // as scheduled: naive is 1
  j["backend"] = to_string(r.config.backend);
  j["remat"] = r.config.remat;
  j["step_time_ms"] = r.metrics.makespan_ms;  // the median timed step
  j["step_times_ms"] = r.step_ms;
  if (!r.trace.meta.ranks.empty()) j.update(processes_json(r));  // mpirun: ranks, transfer cost
  j["median_step"] = r.median_step;
  // The shape of compare's "speedup", over the first listed schedule ("baseline").
  j["speedup"] = {{"median", row.paired.median},
                  {"min", row.paired.min},
                  {"max", row.paired.max},
                  {"paired", row.paired.ratios},
                  {"replayed", row.replayed_speedup ? nlohmann::json(*row.replayed_speedup) : nlohmann::json(nullptr)}};
  const std::vector<std::uint64_t> stash = stash_bytes_per_device(r);
  j["measured"] = {{"bubble_fraction", r.metrics.bubble_fraction},
                   {"bubble_over_busy", r.metrics.bubble_over_busy},
                   {"mean_utilization", r.metrics.mean_utilization},
                   {"utilization", r.metrics.utilization},
                   {"peak_in_flight_microbatches", max_of(row.peak_in_flight)},
                   {"peak_in_flight_per_device", row.peak_in_flight},
                   {"peak_stash_bytes", max_peak_stash_bytes(r)},
                   {"peak_stash_mib", bytes_to_mib(max_peak_stash_bytes(r))},
                   {"peak_stash_bytes_per_device", stash},
                   {"peak_memory_bytes_per_device", r.metrics.peak_memory_bytes},
                   {"comm_time_ms", r.metrics.comm_time_ms},
                   {"comm_bytes", r.metrics.comm_bytes}};
  j["theory"] = theory_json(r.theory);
  if (r.replay)
    j["replay"] = {{"label", "replayed from measured costs"},
                   {"step_time_ms", r.replay->metrics.makespan_ms},
                   {"bubble_fraction", r.replay->metrics.bubble_fraction},
                   {"bubble_over_busy", r.replay->metrics.bubble_over_busy}};
  else
    j["replay"] = nullptr;
  j["transparency"] = transparency_json(row.max_rel_diff, r.config, c.tolerance);
  return j;
}

}  // namespace

std::uint64_t max_peak_stash_bytes(const RunResult& run) {
  const std::vector<std::uint64_t> stash = stash_bytes_per_device(run);
  return stash.empty() ? 0 : *std::max_element(stash.begin(), stash.end());
}

std::string format_schedule_comparison(const ScheduleComparison& c) {
  std::ostringstream out;
  if (c.rows.empty()) return out.str();
  const RunResult& first = c.rows.front().run;
  out << "# pipelab compare: " << listed(c) << ", paired step by step (speedups over " << first.schedule.name()
      << ")\n# " << describe_config(first.config) << "\n"
      << kHeader;
  for (const ScheduleRow& row : c.rows) out << row_line(row);
  if (first.plan.timed > 1)
    out << "# steps: " << first.plan.warmup << " warm-up + " << first.plan.timed
        << " timed per schedule, alternating; each row is its schedule's median step\n";
  out << "# in flight: a device's micro-batches from the start of their F to the end of their last backward, peak over "
         "the step,\n#   max over devices (measured from the trace; theory: the registry's bound); stash: the "
         "allocator's peak, max over devices\n"
      << chunk_line(c) << theory_line(c) << transparency_lines(c) << replay_line(c);
  std::vector<const RunResult*> runs;
  for (const ScheduleRow& row : c.rows) runs.push_back(&row.run);
  out << process_lines(runs);  // "" unless the stages ran as processes (mpirun)
  for (const RefusedSchedule& r : c.refused)
    out << "# refused, not run: " << to_string(r.schedule) << ": " << r.reason << "\n";
  return out.str();
}

nlohmann::json schedule_comparison_json(const ScheduleComparison& c) {
  nlohmann::json j;
  j["schedules"] = nlohmann::json::array();
  if (c.rows.empty()) return j;
  const RunResult& first = c.rows.front().run;
  j["baseline"] = first.schedule.name();  // every "speedup" is over this one
  j["backend"] = to_string(first.config.backend);
  j["devices"] = first.config.devices;
  for (const ScheduleRow& row : c.rows) j["schedules"].push_back(row_json(row, c));
  j["refused"] = nlohmann::json::array();  // over --device-memory-mib, not run
  for (const RefusedSchedule& r : c.refused)
    j["refused"].push_back({{"schedule", to_string(r.schedule)}, {"reason", r.reason}});
  const bool checked = c.rows.front().max_rel_diff.has_value();
  j["transparency"] = {{"reference", checked ? nlohmann::json(c.reference == ReferenceKind::Cpu ? "cpu" : "cuda")
                                             : nlohmann::json(nullptr)},
                       {"ok", checked ? nlohmann::json(c.transparency_ok()) : nlohmann::json(nullptr)},
                       {"tolerance", c.tolerance}};
  return j;
}

}  // namespace pipelab
