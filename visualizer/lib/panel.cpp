// panel.cpp — panels from runs and files; bubble intervals.
#include "pipelab_viz/panel.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "pipelab/error.h"
#include "pipelab/name_table.h"
#include "pipelab/schedule/batched_weight.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/trace/trace_reader.h"
#include "pipelab_viz/time_axis.h"

namespace pipelab::viz {

namespace {

// Panel titles are shorter than the registry's titles ("GPipe (fill-drain)"): they sit
// in a title band beside K, M, the backend and the step time.
constexpr EnumName<ScheduleKind> kTitles[] = {
    {ScheduleKind::Naive, "Naive model parallelism"},
    {ScheduleKind::Gpipe, "GPipe"},
    {ScheduleKind::OneFOneB, "1F1B"},
    {ScheduleKind::ZbH1, "ZB-H1 (zero bubble)"},
    {ScheduleKind::ZbH2, "ZB-H2 (zero bubble)"},
    {ScheduleKind::DataParallel, "Data parallelism"},
    {ScheduleKind::Interleaved1F1B, "Interleaved 1F1B"},
    {ScheduleKind::Zbv, "ZB-V (zero bubble, V)"},
    {ScheduleKind::DualPipeV, "DualPipeV (no F/B overlap)"},
    {ScheduleKind::Custom, "custom"},
};

// lanes and memory_by_device (see panel.h). Events out of [0, K) are left out, as the
// layout draws none of them. A trace written by pipelab is sorted already (Trace::sort),
// so the sorts only run for hand-made traces.
void index_panel(Panel& p) {
  const int k = std::max(p.devices(), 0);
  p.lanes.assign(static_cast<std::size_t>(k) * kLaneCount, {});
  const std::vector<TraceEvent>& events = p.trace.events;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (e.device < 0 || e.device >= k || static_cast<int>(e.lane) >= kLaneCount) continue;
    p.lanes[static_cast<std::size_t>(e.device) * kLaneCount + static_cast<std::size_t>(e.lane)].push_back(
        static_cast<std::uint32_t>(i));
  }
  const auto by_start = [&](std::uint32_t a, std::uint32_t b) { return events[a].start_us < events[b].start_us; };
  for (auto& lane : p.lanes)
    if (!std::is_sorted(lane.begin(), lane.end(), by_start)) std::stable_sort(lane.begin(), lane.end(), by_start);

  p.memory_by_device.assign(static_cast<std::size_t>(k), {});
  const std::vector<MemorySample>& memory = p.trace.memory;
  for (std::size_t i = 0; i < memory.size(); ++i)
    if (memory[i].device >= 0 && memory[i].device < k)
      p.memory_by_device[static_cast<std::size_t>(memory[i].device)].push_back(static_cast<std::uint32_t>(i));
  const auto by_time = [&](std::uint32_t a, std::uint32_t b) { return memory[a].time_us < memory[b].time_us; };
  for (auto& samples : p.memory_by_device)
    if (!std::is_sorted(samples.begin(), samples.end(), by_time))
      std::stable_sort(samples.begin(), samples.end(), by_time);
}

// The gap of `p` with `schedule`'s programs, or why not (a trace that is not a step of it).
void decompose(Panel& p, const Schedule& schedule) {
  try {
    p.gap = decompose_step(p.trace, schedule);
    p.gap_unavailable.clear();
  } catch (const Error& e) {
    p.gap.reset();
    p.gap_unavailable = e.message();
  }
}

// The schedule a trace file ran, rebuilt from its metadata: its registry row with K, M,
// remat and the chunks its config records (1 when it records none), and --w-batch's
// whole-batch W's when the trace says it ran with them.
std::optional<Schedule> schedule_of(const TraceMeta& meta) {
  if (meta.schedule_kind == ScheduleKind::Custom) return std::nullopt;
  int chunks = 1;
  const nlohmann::json config = nlohmann::json::parse(meta.config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_object() && config.contains("chunks") && config["chunks"].is_number_integer())
    chunks = config["chunks"].get<int>();
  try {
    const Schedule s = generate_schedule(meta.schedule_kind, meta.devices, meta.microbatches, meta.remat, chunks);
    return meta.w_batch ? with_batched_weight(s) : s;
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

const std::vector<std::uint32_t>& Panel::lane_events(int device, Lane lane) const {
  static const std::vector<std::uint32_t> kNone;
  const std::size_t i = static_cast<std::size_t>(device) * kLaneCount + static_cast<std::size_t>(lane);
  return device >= 0 && i < lanes.size() ? lanes[i] : kNone;
}

std::string schedule_title(ScheduleKind kind, bool remat, bool w_batch) {
  return std::string(name_of(kTitles, kind)) + (remat ? " + remat" : "") + (w_batch ? " + w-batch" : "");
}

Panel make_panel(Trace trace, std::string source) {
  Panel p;
  p.title = schedule_title(trace.meta.schedule_kind, trace.meta.remat, trace.meta.w_batch);
  p.source = std::move(source);
  p.trace = std::move(trace);
  p.metrics = compute_metrics(p.trace);
  // Theory is computed once, by the runtime from the schedule registry, and travels in
  // the trace (pipelab.theory in a file), so the panel shows what the CLI printed.
  p.theory.utilization = p.trace.meta.theory_utilization;
  p.theory.bubble_fraction = p.trace.meta.theory_bubble_fraction;
  double first = std::numeric_limits<double>::infinity(), last = -first;
  for (const TraceEvent& e : p.trace.events) {
    first = std::min(first, e.start_us);
    last = std::max(last, e.end_us());
  }
  if (!p.trace.events.empty()) {
    p.origin_us = first;
    p.step_us = last - first;
  }
  index_panel(p);
  if (const std::optional<Schedule> schedule = schedule_of(p.trace.meta)) {
    decompose(p, *schedule);
  } else {
    p.gap_unavailable = p.trace.meta.schedule_kind == ScheduleKind::Custom
                            ? "a custom schedule's programs are not in its trace (open it with the live run)"
                            : "the trace's schedule could not be rebuilt from its metadata";
  }
  return p;
}

Panel make_panel(const RunResult& run) {
  Panel p = make_panel(run.trace, "live " + std::string(to_string(run.config.backend)));
  decompose(p, run.schedule);  // the programs that ran, a custom one included
  return p;
}

Panel load_panel(const std::string& path) {
  Trace trace = read_chrome_trace_file(path);
  if (trace.meta.devices < 1)
    PIPELAB_THROW(path + ": pipelab.devices is " + std::to_string(trace.meta.devices) + ", nothing to draw",
                  "write the trace with `pipelab run --trace` or `pipelab compare --trace`");
  if (trace.events.empty())
    PIPELAB_THROW(path + ": traceEvents holds no spans (ph \"X\"), nothing to draw",
                  "write the trace with `pipelab run --trace` or `pipelab compare --trace`");
  return make_panel(std::move(trace), path);
}

std::size_t keep_stackable(std::vector<Panel>& panels) {
  if (panels.size() <= kMaxStackedPanels) return 0;
  const std::size_t dropped = panels.size() - kMaxStackedPanels;
  panels.resize(kMaxStackedPanels);
  return dropped;
}

std::string stacked_runs_note(std::size_t shown, std::size_t not_shown) {
  if (not_shown == 0) return "";
  return std::to_string(shown + not_shown) + " runs loaded: showing the first " + std::to_string(shown) +
         " (pipelab-viz stacks at most " + std::to_string(kMaxStackedPanels) + " on one time axis)";
}

void order_naive_first(std::vector<Panel>& panels) {
  if (panels.size() == 2 && !panels[0].is_naive() && panels[1].is_naive()) std::swap(panels[0], panels[1]);
}

std::vector<Interval> bubble_intervals(const Panel& panel, int device) {
  // The compute lane is sorted by start already (Panel::lanes).
  std::vector<Interval> busy;
  for (std::uint32_t i : panel.lane_events(device, Lane::Compute)) {
    const TraceEvent& e = panel.trace.events[i];
    if (is_compute(e.action.kind) && e.dur_us > 0)
      busy.push_back({e.start_us - panel.origin_us, e.end_us() - panel.origin_us});
  }
  std::vector<Interval> idle;
  double cursor = 0;
  for (const Interval& span : busy) {
    if (span.start > cursor) idle.push_back({cursor, std::min(span.start, panel.step_us)});
    cursor = std::max(cursor, span.end);
  }
  if (cursor < panel.step_us) idle.push_back({cursor, panel.step_us});
  idle.erase(std::remove_if(idle.begin(), idle.end(), [](const Interval& i) { return i.end <= i.start; }), idle.end());
  return idle;
}

std::string format_percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

namespace {
// Rows whose theory is fill-drain's (K-1)/(M+K-1) (naive with M = 1); a custom schedule
// is shown against fill-drain's too (registry.h schedule_theory).
bool fill_drain_theory_row(ScheduleKind kind) {
  return kind == ScheduleKind::Naive || kind == ScheduleKind::Gpipe || kind == ScheduleKind::OneFOneB ||
         kind == ScheduleKind::Custom;
}
}  // namespace

std::string theory_bubble_label(const Panel& panel) {
  const std::string value = format_percent(panel.theory.bubble_fraction);
  const ScheduleKind kind = panel.trace.meta.schedule_kind;
  if (!fill_drain_theory_row(kind)) {
    const ScheduleInfo& row = schedule_info(kind);
    return value + " (" + (row.theory_name ? row.theory_name : row.name) + (panel.trace.meta.remat ? " + remat" : "") +
           ")";
  }
  // Naive is fill-drain with M = 1 (the registry's naive row), whatever meta.microbatches says.
  const int k = panel.devices(), m = panel.is_naive() ? 1 : panel.microbatches();
  if (panel.trace.meta.remat) return value + " (remat)";
  return value + " = " + std::to_string(k - 1) + "/" + std::to_string(m + k - 1);
}

std::string theory_bubble_formula(const Panel& panel) {
  const ScheduleKind kind = panel.trace.meta.schedule_kind;
  if (!fill_drain_theory_row(kind)) {
    const ScheduleInfo& row = schedule_info(kind);
    const char* u = panel.trace.meta.remat && row.remat_formula ? row.remat_formula : row.theory_formula;
    return "1 - " + std::string(u);
  }
  if (panel.trace.meta.remat)
    return panel.is_naive() ? "1 - (F+B+R)/((F+B+R)+(K-1)(F+B)), F:B:R = 1:2:1"
                            : "1 - M(F+B+R)/(M(F+B+R)+(K-1)(F+B)), F:B:R = 1:2:1";
  return panel.is_naive() ? "(K-1)/K" : "(K-1)/(M+K-1)";
}

std::string panel_heading(const Panel& panel) {
  const char* dot = " \xC2\xB7 ";  // U+00B7 middle dot
  return panel.title + dot + "K=" + std::to_string(panel.devices()) + ", M=" + std::to_string(panel.microbatches()) +
         dot + panel.trace.meta.backend + dot + "step " + format_duration(panel.step_us);
}

std::string panel_summary(const Panel& panel, const Panel* baseline) {
  const char* dot = " \xC2\xB7 ";
  std::string s = "mean util " + format_percent(panel.metrics.mean_utilization) + dot + "bubble " +
                  format_percent(panel.metrics.bubble_fraction) + " (theory " +
                  format_percent(panel.theory.bubble_fraction) + ")";
  if (baseline && baseline != &panel) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2fx vs %s", speedup(*baseline, panel), baseline->is_naive() ? "naive" : "top");
    s += dot + std::string(buf);
  }
  return s;
}

std::vector<LoadedRunSummary> loaded_run_summaries(const std::vector<Panel>& panels) {
  std::vector<LoadedRunSummary> out;
  for (const Panel& p : panels)
    out.push_back({p.source, p.trace.meta.schedule_name(), p.trace.meta.backend, p.devices(), p.microbatches()});
  return out;
}

double speedup(const Panel& baseline, const Panel& panel) {
  return panel.step_us > 0 ? baseline.step_us / panel.step_us : 0.0;
}

}  // namespace pipelab::viz
