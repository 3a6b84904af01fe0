// report.cpp — tables, JSON and CSV (see report.h).
#include "pipelab/report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "pipelab/report/gap_report.h"  // gap_lines, gap_json: the gap decomposed
#include "pipelab/report/processes.h"  // process_lines, processes_json (mpirun)
#include "pipelab/runtime/memory.h"  // bytes_to_mib


namespace pipelab {

namespace {

std::uint64_t max_peak(const StepMetrics& m) {
  return m.peak_memory_bytes.empty() ? 0 : *std::max_element(m.peak_memory_bytes.begin(), m.peak_memory_bytes.end());
}

// Speedup of `run` over the naive run: the median of the paired step-time ratios
// (with one step each, the ratio of the two step times).
double speedup_over(const RunResult& naive, const RunResult& run) { return paired_speedup(naive, run).median; }

// "98.120 ms [95.200 - 103.410]": the median step and the spread of all timed steps.
std::string step_spread(const RunResult& r) {
  const auto [lo, hi] = std::minmax_element(r.step_ms.begin(), r.step_ms.end());
  return format_number("%.3f ms", r.metrics.makespan_ms) + " [" + format_number("%.3f", *lo) + " - " +
         format_number("%.3f", *hi) + "]";
}

// Mean over devices, skipping NaN (a device without measured spans); 1 when none.
double mean_fraction(const std::vector<double>& v) {
  double sum = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) sum += x, ++n;
  return n > 0 ? sum / n : 1.0;
}

double replayed_speedup(const RunResult& naive, const RunResult& run) {
  return run.replay->metrics.makespan_ms > 0 ? naive.replay->metrics.makespan_ms / run.replay->metrics.makespan_ms : 0;
}

// The lines under a measured (not virtual-time) table: how many steps and their
// spread, the paired speedup, the replay, contention, and any speedup above the
// ideal explained. `runs[0]` is naive when `ideal` > 0 (the theory speedup of runs[1]).
std::string timing_lines(const std::vector<const RunResult*>& runs, const PairedSpeedup* paired, double ideal) {
  const RunResult& first = *runs.front();
  // A sweep has one run per M of one schedule: name each line's run with its M.
  const auto label = [&](const RunResult* r) {
    return runs.size() > 2 ? r->schedule.name() + " M=" + std::to_string(r->schedule.microbatches)
                           : r->schedule.name();
  };
  if (first.step_ms.size() <= 1 && !first.replay) return "";
  std::ostringstream out;
  out << "# steps: " << first.plan.warmup << " warm-up + " << first.plan.timed << " timed"
      << (runs.size() > 1 ? " per schedule, alternating" : "")
      << "; the rows and per-device table are the median step\n";
  for (const RunResult* r : runs) {
    out << "#   " << label(r) << " step time " << step_spread(*r);
    if (!r->metrics.on_core_fraction.empty())
      out << ", on a core " << format_number("%.0f%%", 100 * mean_fraction(r->metrics.on_core_fraction))
          << " of its compute time";
    out << "\n";
  }
  if (paired && !paired->ratios.empty())
    out << "#   speedup: median of " << paired->ratios.size() << " paired step ratios "
        << format_number("%.2fx", paired->median) << " [" << format_number("%.2f", paired->min) << " - "
        << format_number("%.2f", paired->max) << "]\n";
  // The replay: every number on this line is "replayed from measured costs".
  bool replayed = true;
  for (const RunResult* r : runs) replayed = replayed && r->replay.has_value();
  if (replayed) {
    out << "# replayed from measured costs (" << (first.replay->cpu_time ? "thread CPU time" : "measured spans");
    if (first.replay->steps > 1) out << ", each action's median over " << first.replay->steps << " steps";
    out << ", one dedicated device per stage):";
    for (const RunResult* r : runs)
      out << " " << label(r) << " " << format_number("%.3f ms", r->replay->metrics.makespan_ms)
          << " (util " << format_number("%.1f%%", 100 * r->replay->metrics.mean_utilization) << ")";
    if (runs.size() == 2) {
      out << ", speedup " << format_number("%.2fx", replayed_speedup(*runs[0], *runs[1]));
      if (ideal > 0) out << " (ideal " << format_number("%.2fx", ideal) << ", theory)";
    }
    out << "\n";
  }
  // Contention: the device whose worker was off its core the most, when that is more
  // than a tenth of its compute time (on-core fraction < 0.9, docs/metrics.md).
  const RunResult* worst_run = nullptr;
  std::size_t worst_device = 0;
  for (const RunResult* r : runs) {
    const auto& f = r->metrics.on_core_fraction;
    for (std::size_t d = 0; d < f.size(); ++d)
      if (f[d] < 0.9 && (!worst_run || f[d] < worst_run->metrics.on_core_fraction[worst_device])) {
        worst_run = r;
        worst_device = d;
      }
  }
  if (worst_run) {
    const RunResult* r = worst_run;
    const unsigned threads = r->host.hardware_threads;
    // One decimal: the line appears below 90%, which "%.0f" could print as "90%".
    out << "# contention: " << label(r) << " device " << worst_device << " was on a core "
        << format_number("%.1f%%", 100 * r->metrics.on_core_fraction[worst_device])
        << " of its compute time: " << r->config.devices
        << (r->trace.meta.ranks.empty() ? " worker threads on " : " ranks (processes) on ") << threads
        << " hardware threads";
    if (r->host.load_average >= 0) out << ", load average " << format_number("%.1f", r->host.load_average);
    if (ideal > 0 && threads > 0)
      out << "; the wall-clock speedup is bounded by min(ideal " << format_number("%.2f", ideal) << ", "
          << threads << " cores) = " << format_number("%.2fx", std::min(ideal, static_cast<double>(threads)));
    out << "; the replay is not\n";
  }
  // A speedup above the ideal means one of the two measurements was disturbed.
  if (paired && ideal > 0 && runs.size() == 2 && paired->median > ideal) {
    const double naive_on = mean_fraction(runs[0]->metrics.on_core_fraction);
    const double run_on = mean_fraction(runs[1]->metrics.on_core_fraction);
    out << "# note: the measured speedup " << format_number("%.2fx", paired->median) << " is above the ideal "
        << format_number("%.2fx", ideal) << " (theory): ";
    if (!runs[0]->metrics.on_core_fraction.empty() && naive_on < run_on)
      out << "the naive steps were disturbed (on a core " << format_number("%.0f%%", 100 * naive_on) << " vs "
          << format_number("%.0f%%", 100 * run_on) << ")";
    else
      out << "the naive steps ran slow or the pipelined ones fast for reasons outside the schedule (spread naive ["
          << format_number("%.3f", *std::min_element(runs[0]->step_ms.begin(), runs[0]->step_ms.end())) << " - "
          << format_number("%.3f", *std::max_element(runs[0]->step_ms.begin(), runs[0]->step_ms.end())) << "] ms)";
    out << "; read the replayed speedup\n";
  }
  out << process_lines(runs);  // "" unless the stages ran as processes (mpirun)
  return out.str();
}

// The schedule column: 12 characters, or the longest name shown ("data-parallel+remat").
int name_width(const std::vector<const RunResult*>& runs) {
  std::size_t width = 12;
  for (const RunResult* r : runs) width = std::max(width, r->schedule.name().size());
  return static_cast<int>(width);
}

std::string run_row(const RunResult& r, std::optional<double> speedup, int width) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "  %-*s %3d %5d %11.3f %8s %9.1f %8.1f %14.1f %9.3f %12.2f\n", width,
                r.schedule.name().c_str(), r.config.devices, r.schedule.microbatches, r.metrics.makespan_ms,
                speedup ? format_number("%.2f", *speedup).c_str() : "-", 100.0 * r.metrics.mean_utilization,
                100.0 * r.metrics.bubble_fraction, 100.0 * r.theory.bubble_fraction, r.metrics.comm_time_ms,
                bytes_to_mib(max_peak(r.metrics)));
  out << line;
  return out.str();
}

// The header over run_row's columns, the schedule column `width` wide.
std::string run_header(int width) {
  const std::string pad(static_cast<std::size_t>(width - 12), ' ');
  return "# schedule" + pad + "       K     M   step time  speedup  mean util   bubble  bubble theory  comm time  peak memory\n"
         "#" + pad + "                               (ms)  (x naive)       (%)      (%)   (%, theory)       (ms)  (MiB, max)\n";
}

std::string per_device_table(const std::vector<const RunResult*>& runs) {
  std::ostringstream out;
  char cell[96];
  const int K = runs.front()->config.devices;
  const int width = name_width(runs);
  out << "# per device               " << std::string(static_cast<std::size_t>(width - 12), ' ');
  for (int d = 0; d < K; ++d) {
    std::snprintf(cell, sizeof cell, " %8s", ("GPU " + std::to_string(d)).c_str());
    out << cell;
  }
  out << "\n";
  for (const RunResult* r : runs) {
    std::snprintf(cell, sizeof cell, "  %-*s util (%%)    ", width, r->schedule.name().c_str());
    out << cell;
    for (double u : r->metrics.utilization) out << format_number(" %8.1f", 100.0 * u);
    out << "\n";
    std::snprintf(cell, sizeof cell, "  %-*s peak (MiB)  ", width, r->schedule.name().c_str());
    out << cell;
    for (std::uint64_t b : r->metrics.peak_memory_bytes) out << format_number(" %8.2f", bytes_to_mib(b));
    out << "\n";
    // The stashed activations alone: what GPipe's M micro-batches and remat change.
    std::snprintf(cell, sizeof cell, "  %-*s stash (MiB) ", width, r->schedule.name().c_str());
    out << cell;
    for (const MemoryBytes& m : r->metrics.peak_memory_by_category)
      out << format_number(" %8.2f", bytes_to_mib(m[static_cast<int>(MemoryCategory::Stash)]));
    out << "\n";
  }
  return out.str();
}

std::string transparency_line(std::optional<double> max_rel_diff, const RunConfig& config, double tolerance) {
  if (!max_rel_diff)
    return "# transparency: not checked (the " + std::string(to_string(config.backend)) +
           " backend computes no numerics)\n";
  const bool ok = *max_rel_diff <= tolerance;
  return "# transparency: loss, gradients and updated parameters vs " + describe(reference_kind(config)) +
         ": max normwise rel diff " + format_number("%.2e", *max_rel_diff) + " (tolerance " +
         format_number("%.0e", tolerance) + ") " + (ok ? "OK" : "FAILED") + "\n";
}

// "# theory (balanced stages, free links): utilization M/(M+K-1) = 72.7% for GPipe, ...":
// the run's own formulas from the registry, their options (remat, cost ratio) named.
std::string theory_line(const Theory& naive, const Theory& run) {
  return "# theory (" + (run.options.empty() ? "" : run.options + "; ") +
         "balanced stages, free links): utilization " + run.formula + " = " +
         format_number("%.1f%%", 100 * run.utilization) + " for " + run.schedule + ", " + naive.formula + " = " +
         format_number("%.1f%%", 100 * naive.utilization) + " for " + naive.schedule + "; ideal speedup " +
         format_number("%.2f", run.ideal_speedup) + "x (theory)\n";
}

// The footer of a sweep: fill-drain's formulas, or with remat the remat ones.
std::string sweep_theory_line(const Theory& naive, const Theory& run) {
  if (run.options.empty()) return "# theory: bubble (K-1)/(M+K-1); ideal speedup K*M/(M+K-1)\n";
  return "# theory (" + run.options + "): utilization " + run.formula +
         ", bubble 1 - utilization; ideal speedup utilization / naive's " + naive.formula + "\n";
}

// GPipe's speedup chain over naive: both median steps decomposed (report/gap.h).
std::optional<SpeedupChain> comparison_chain(const Comparison& c) {
  const RunGap gpipe = run_gap(c.gpipe, &c.naive);
  return speedup_chain(decompose_step(c.naive.trace, c.naive.schedule), gpipe.step, gpipe.split, c.gpipe.theory);
}

}  // namespace

std::string format_number(const char* printf_format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, value);
  return buf;
}

std::string describe_config(const RunConfig& c) {
  std::ostringstream out;
  out << "backend " << to_string(c.backend) << ", K=" << c.devices << " devices, model L=" << c.model.layers
      << " d=" << c.model.width << " h=" << c.model.hidden << " B=" << c.model.batch
      << (c.microbatch_rows > 0 ? " (M*b, b=" + std::to_string(c.microbatch_rows) + " rows per micro-batch)" : "")
      << ", seed " << c.model.seed
      << (c.remat ? ", remat" : "") << (c.w_batch ? ", w-batch" : "") << ", partition " << to_string(c.partition);
  if (c.backend == BackendKind::Sim) {
    out << ", sim " << c.sim.device_tflops << " TFLOP/s per device, links "
        << (c.sim.link_gbps > 0 ? format_number("%g Gbit/s", c.sim.link_gbps) : std::string("ideal"));
    if (c.sim.link_latency_us > 0) out << " + " << c.sim.link_latency_us << " us";
    if (c.sim.costs == SimCosts::Unit) out << ", unit costs (F = I = W = 1, B = 2; loss, optimizer free)";
  }
  return out.str();
}

nlohmann::json theory_json(const Theory& t) {
  return {{"utilization", t.utilization},
          {"bubble_fraction", t.bubble_fraction},
          {"bubble_over_busy", t.bubble_over_busy()},
          {"ideal_speedup", t.ideal_speedup},
          {"peak_in_flight_microbatches", t.peak_stash_microbatches},  // the bound, max over devices
          {"name", t.name()},
          {"formula", t.formula}};
}

nlohmann::json run_json(const RunResult& r, std::optional<double> speedup, const RunResult* reference) {
  nlohmann::json j;
  j["schedule"] = r.schedule.name();
  if (!r.config.schedule_file.empty()) j["schedule_file"] = r.config.schedule_file;  // only for a file's schedule
  j["devices"] = r.config.devices;
  j["microbatches"] = r.schedule.microbatches;
  j["batch"] = r.config.model.batch;  // B, split into the micro-batches
  if (r.config.microbatch_rows > 0) j["microbatch_rows"] = r.config.microbatch_rows;  // B = M·b: only when given
  j["backend"] = to_string(r.config.backend);
  j["remat"] = r.config.remat;
  if (r.schedule.chunks > 1) j["chunks"] = r.schedule.chunks;  // chunked schedules only (interleaved-1f1b, zbv): the shape stays
  j["step_time_ms"] = r.metrics.makespan_ms;
  j["speedup_vs_naive"] = speedup ? nlohmann::json(*speedup) : nlohmann::json(nullptr);
  j["utilization"] = r.metrics.utilization;
  j["busy_ms"] = r.metrics.busy_ms;
  j["mean_utilization"] = r.metrics.mean_utilization;
  j["bubble_fraction"] = r.metrics.bubble_fraction;      // GPipe's convention: share of the step
  j["bubble_over_busy"] = r.metrics.bubble_over_busy;    // Megatron's: idle over busy time
  j["p2p"] = to_string(r.config.p2p);                    // the model the schedule was proven under
  // The run's own formula (schedule and options, remat included), computed once by the registry.
  j["theory"] = theory_json(r.theory);
  j["comm_time_ms"] = r.metrics.comm_time_ms;
  j["comm_bytes"] = r.metrics.comm_bytes;
  j["peak_memory_bytes"] = r.metrics.peak_memory_bytes;
  nlohmann::json by_cat = nlohmann::json::array();
  for (const MemoryBytes& m : r.metrics.peak_memory_by_category)
    by_cat.push_back({{"params", m[0]}, {"grads", m[1]}, {"stash", m[2]}, {"buffers", m[3]}});
  j["peak_memory_by_category"] = by_cat;
  if (r.numerics) j["loss"] = r.numerics->loss;
  // Repeats: every timed step, and which one the figures above are from.
  j["warmup_steps"] = r.plan.warmup;
  j["step_times_ms"] = r.step_ms;
  j["median_step"] = r.median_step;
  j["on_core_fraction"] = r.metrics.on_core_fraction.empty() ? nlohmann::json(nullptr)
                                                             : nlohmann::json(r.metrics.on_core_fraction);
  if (r.replay) {
    j["replay"] = {{"label", "replayed from measured costs"},
                   {"costs", r.replay->cpu_time ? "thread_cpu_time" : "measured_spans"},
                   {"median_of_steps", r.replay->steps},
                   {"step_time_ms", r.replay->metrics.makespan_ms},
                   {"utilization", r.replay->metrics.utilization},
                   {"mean_utilization", r.replay->metrics.mean_utilization},
                   {"bubble_fraction", r.replay->metrics.bubble_fraction},
                   {"bubble_over_busy", r.replay->metrics.bubble_over_busy}};
  } else {
    j["replay"] = nullptr;
  }
  j["gap"] = gap_json(run_gap(r, reference));  // the step decomposed (docs/metrics.md)
  // Stages run as processes (mpirun): "ranks" (each one's host and clock alignment) and
  // "transfer" (the MPI path's cost); absent for a run in one process.
  if (!r.trace.meta.ranks.empty()) j.update(processes_json(r));
  return j;
}

nlohmann::json transparency_json(std::optional<double> max_rel_diff, const RunConfig& config, double tolerance) {
  if (!max_rel_diff)
    return {{"max_rel_diff", nullptr}, {"ok", nullptr}, {"tolerance", tolerance}, {"reference", nullptr}};
  return {{"reference", reference_kind(config) == ReferenceKind::Cpu ? "cpu" : "cuda"},
          {"max_rel_diff", *max_rel_diff},
          {"ok", *max_rel_diff <= tolerance},
          {"tolerance", tolerance}};
}

nlohmann::json comparison_json(const Comparison& c) {
  nlohmann::json j;
  j["runs"] = {run_json(c.naive, 1.0), run_json(c.gpipe, c.speedup, &c.naive)};
  j["speedup"] = {{"median", c.paired.median},
                  {"min", c.paired.min},
                  {"max", c.paired.max},
                  {"paired", c.paired.ratios},
                  {"replayed", c.replayed_speedup ? nlohmann::json(*c.replayed_speedup) : nlohmann::json(nullptr)}};
  j["transparency"] = transparency_json(c.max_rel_diff, c.gpipe.config, transparency_tolerance(c.gpipe.config));
  j["speedup_chain"] = speedup_chain_json(comparison_chain(c));
  return j;
}

nlohmann::json single_run_json(const RunResult& run, std::optional<double> max_rel_diff) {
  nlohmann::json j;
  j["runs"] = {run_json(run, run.config.schedule == ScheduleKind::Naive ? std::optional<double>(1.0) : std::nullopt)};
  j["transparency"] = transparency_json(max_rel_diff, run.config, transparency_tolerance(run.config));
  return j;
}

std::string format_comparison(const Comparison& c) {
  std::ostringstream out;
  out << "# pipelab compare: naive model parallelism vs GPipe\n# " << describe_config(c.gpipe.config) << "\n"
      << run_header(name_width({&c.naive, &c.gpipe})) << run_row(c.naive, 1.0, name_width({&c.naive, &c.gpipe}))
      << run_row(c.gpipe, c.speedup, name_width({&c.naive, &c.gpipe})) << per_device_table({&c.naive, &c.gpipe})
      << timing_lines({&c.naive, &c.gpipe}, &c.paired, c.gpipe.theory.ideal_speedup)
      << gap_lines(c.naive, run_gap(c.naive, nullptr)) << gap_lines(c.gpipe, run_gap(c.gpipe, &c.naive))
      << speedup_chain_line(comparison_chain(c)) << theory_line(c.naive.theory, c.gpipe.theory)
      << (c.gpipe.config.remat ? "# remat: recompute (R) counts as busy time, so utilization goes up while the step "
                                 "gets longer: compare step times\n"
                               : "")
      << transparency_line(c.max_rel_diff, c.gpipe.config, transparency_tolerance(c.gpipe.config));
  return out.str();
}

std::string format_run(const RunResult& r, std::optional<double> max_rel_diff) {
  std::ostringstream out;
  out << "# pipelab run: " << r.schedule.name()
      << (r.config.schedule_file.empty() ? "" : " from " + r.config.schedule_file) << "\n# "
      << describe_config(r.config) << "\n"
      << run_header(name_width({&r}))
      << run_row(r, r.config.schedule == ScheduleKind::Naive ? std::optional<double>(1.0) : std::nullopt,
                 name_width({&r}))
      << per_device_table({&r}) << timing_lines({&r}, nullptr, 0);
  // A hand-written schedule has no formula of its own. Fill-drain's bubble is the least
  // any schedule of whole-stage F and B can have (the last stage starts (K-1)·t_f late,
  // the first ends (K-1)·t_b after the last one's final B): a yardstick, labelled so.
  if (r.schedule.kind == ScheduleKind::Custom)
    out << "# theory: a schedule from a file has no formula of its own; the bubble theory is fill-drain's "
        << "(utilization " << r.theory.formula << " = " << format_number("%.1f%%", 100 * r.theory.utilization)
        << "), the least bubble a schedule of whole-stage F and B can have\n";
  out << gap_lines(r, run_gap(r, nullptr));
  if (r.numerics) out << "# loss " << format_number("%.6f", r.numerics->loss) << "\n";
  out << transparency_line(max_rel_diff, r.config, transparency_tolerance(r.config));
  return out.str();
}

std::string format_sweep(const std::vector<RunResult>& runs) {
  std::ostringstream out;
  if (runs.empty()) return out.str();
  out << "# pipelab sweep: GPipe over M (first row: naive baseline)\n# " << describe_config(runs.front().config)
      << "\n";
  std::vector<const RunResult*> all;
  for (const RunResult& r : runs) all.push_back(&r);
  out << run_header(name_width(all));
  for (const RunResult& r : runs) out << run_row(r, speedup_over(runs.front(), r), name_width(all));
  out << timing_lines(all, nullptr, 0);
  out << sweep_theory_line(runs.front().theory, runs.back().theory);
  return out.str();
}

std::string sweep_csv(const std::vector<RunResult>& runs) {
  std::ostringstream out;
  out << "schedule,devices,microbatches,backend,step_time_ms,speedup_vs_naive,mean_utilization,bubble_fraction,"
         "theory_utilization,theory_bubble_fraction,comm_time_ms,peak_memory_bytes_max\n";
  for (const RunResult& r : runs) {
    out << r.schedule.name() << ',' << r.config.devices << ',' << r.schedule.microbatches << ','
        << to_string(r.config.backend) << ',' << format_number("%.6f", r.metrics.makespan_ms) << ','
        << format_number("%.6f", speedup_over(runs.front(), r)) << ',' << format_number("%.9f", r.metrics.mean_utilization) << ','
        << format_number("%.9f", r.metrics.bubble_fraction) << ',' << format_number("%.9f", r.theory.utilization) << ','
        << format_number("%.9f", r.theory.bubble_fraction) << ',' << format_number("%.6f", r.metrics.comm_time_ms) << ','
        << max_peak(r.metrics) << '\n';
  }
  return out.str();
}

nlohmann::json sweep_json(const std::vector<RunResult>& runs) {
  nlohmann::json j;
  j["runs"] = nlohmann::json::array();
  for (const RunResult& r : runs) j["runs"].push_back(run_json(r, speedup_over(runs.front(), r), &runs.front()));
  return j;
}

}  // namespace pipelab
