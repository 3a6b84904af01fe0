// gap.cpp — a step decomposed into compute, optimizer, comm, bubble and host time, and the
// speedup chain built on it (definitions in gap.h and docs/metrics.md).
#include "pipelab/report/gap.h"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>

#include "pipelab/error.h"

namespace pipelab {

namespace {

constexpr double kMsPerUs = 1e-3;

// The terms in the order they claim an instant: an instant inside a compute span is
// compute whatever else covers it, and so on; an instant no term covers is host time.
enum Term : int { kCompute = 0, kOptimizer = 1, kComm = 2, kBubble = 3, kTermCount = 4 };

// One end of an interval of a term: +1 where it begins, -1 where it ends.
struct Edge {
  double time_us;
  int term;
  int delta;
};

void add(std::vector<Edge>& edges, Term term, double from_us, double to_us) {
  if (!(to_us > from_us)) return;  // empty (or NaN): covers no instant
  edges.push_back({from_us, term, +1});
  edges.push_back({to_us, term, -1});
}

// Sweep [t0, T] once: every elementary segment goes to the first term covering it.
GapTerms sweep(std::vector<Edge>& edges, double t0_us, double step_end_us) {
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.time_us < b.time_us; });
  std::array<double, kTermCount> us{};
  std::array<int, kTermCount> open{};
  double host_us = 0;
  double at = t0_us;
  std::size_t i = 0;
  while (at < step_end_us) {
    // Apply every edge at `at`, then the segment runs to the next edge (or T).
    for (; i < edges.size() && edges[i].time_us <= at; ++i) open[edges[i].term] += edges[i].delta;
    const double next = i < edges.size() ? std::min(edges[i].time_us, step_end_us) : step_end_us;
    const double length = next - at;
    int term = 0;
    while (term < kTermCount && open[term] == 0) ++term;
    (term < kTermCount ? us[term] : host_us) += length;
    at = next;
  }
  GapTerms g;
  g.compute_ms = us[kCompute] * kMsPerUs;
  g.optimizer_ms = us[kOptimizer] * kMsPerUs;
  g.comm_ms = us[kComm] * kMsPerUs;
  g.bubble_ms = us[kBubble] * kMsPerUs;
  g.host_ms = host_us * kMsPerUs;
  return g;
}

}  // namespace

StepGap decompose_step(const Trace& trace, const Schedule& schedule) {
  const int devices = trace.meta.devices;
  if (static_cast<int>(schedule.per_stage.size()) != devices)
    PIPELAB_THROW("the trace has " + std::to_string(devices) + " devices, the schedule " +
                      std::to_string(schedule.per_stage.size()) + " programs",
                  "decompose a trace with the schedule that produced it");
  StepGap gap;
  if (trace.events.empty() || devices == 0) {
    gap.per_device.assign(static_cast<std::size_t>(std::max(devices, 0)), GapTerms{});
    return gap;
  }
  // The step [t0, T]: the makespan's ends (docs/metrics.md).
  double t0 = trace.events.front().start_us, end = trace.events.front().end_us();
  // Each device's spans by action: its program says in which order it waited for them.
  std::vector<std::unordered_map<std::uint64_t, const TraceEvent*>> by_action(static_cast<std::size_t>(devices));
  std::vector<double> last_end(static_cast<std::size_t>(devices), -std::numeric_limits<double>::infinity());
  for (const TraceEvent& e : trace.events) {
    if (e.device < 0 || e.device >= devices)
      PIPELAB_THROW("trace event " + to_string(e.action) + " is on device " + std::to_string(e.device) +
                        ", outside [0, " + std::to_string(devices) + ")",
                    "set trace.meta.devices to the number of devices the step ran on");
    t0 = std::min(t0, e.start_us);
    end = std::max(end, e.end_us());
    by_action[e.device][action_key(e.action)] = &e;
    last_end[e.device] = std::max(last_end[e.device], e.end_us());
  }
  gap.step_ms = (end - t0) * kMsPerUs;

  std::vector<Edge> edges;
  for (int d = 0; d < devices; ++d) {
    edges.clear();
    double on_core_us = 0;
    bool all_on_core = true, any_compute = false;
    double previous_end = t0;  // end of the previous compute-lane span (t0 before the first)
    double blocked_until = -std::numeric_limits<double>::infinity();  // latest arrival waited for
    for (const Action& a : schedule.per_stage[static_cast<std::size_t>(d)]) {
      const auto found = by_action[d].find(action_key(a));
      if (found == by_action[d].end())
        PIPELAB_THROW("the trace has no span of " + to_string(a) + " on device " + std::to_string(d),
                      "decompose a complete trace with the schedule that produced it");
      const TraceEvent& e = *found->second;
      if (e.lane == Lane::Compute) {
        // Until its receives had arrived the device waited on them: the bubble. What
        // the transfers' own spans cover of that wait is comm (the sweep's order).
        if (blocked_until > previous_end) add(edges, kBubble, previous_end, std::min(blocked_until, e.start_us));
        add(edges, is_compute(a.kind) ? kCompute : kOptimizer, e.start_us, e.end_us());
        previous_end = std::max(previous_end, e.end_us());
        blocked_until = -std::numeric_limits<double>::infinity();
        if (is_compute(a.kind)) {
          any_compute = true;
          // Capped at the span, as metrics' on-core fraction is: thread CPU time is read
          // around the span with a coarser clock, so a span of a few µs can show more CPU
          // time than wall time, which would make "waiting for a core" negative.
          if (e.cpu_us >= 0) on_core_us += std::min<double>(e.cpu_us, e.dur_us);
          else all_on_core = false;
        }
      } else {
        add(edges, kComm, e.start_us, e.end_us());
        // A receive waits for its arrival, a collective for its end; a send waits for nothing.
        if (e.lane == Lane::Recv || a.kind == ActionKind::AllReduceGrads)
          blocked_until = std::max(blocked_until, e.end_us());
      }
    }
    if (blocked_until > previous_end) add(edges, kBubble, previous_end, blocked_until);
    // Done before the step's end: the drain part of the bubble.
    add(edges, kBubble, last_end[d], end);
    GapTerms g = sweep(edges, t0, end);
    if (any_compute && all_on_core) g.on_core_ms = on_core_us * kMsPerUs;
    gap.per_device.push_back(g);
  }

  // The mean over devices: each device's terms add up to T, so their means do too.
  const double n = devices;
  bool on_core_everywhere = true;
  double on_core_sum = 0;
  for (const GapTerms& g : gap.per_device) {
    gap.mean.compute_ms += g.compute_ms / n;
    gap.mean.optimizer_ms += g.optimizer_ms / n;
    gap.mean.comm_ms += g.comm_ms / n;
    gap.mean.bubble_ms += g.bubble_ms / n;
    gap.mean.host_ms += g.host_ms / n;
    on_core_everywhere = on_core_everywhere && g.on_core_ms.has_value();
    if (g.on_core_ms) on_core_sum += *g.on_core_ms;
  }
  if (on_core_everywhere) gap.mean.on_core_ms = on_core_sum / n;
  return gap;
}

ComputeSplit split_compute(const StepGap& run, const StepGap* reference, const std::string& backend) {
  ComputeSplit s;
  const GapTerms& m = run.mean;
  // On cpu the spans hold time off a core (more workers than cores): thread CPU time is
  // what the work itself took, and the rest of the span is waiting for a core.
  if (m.on_core_ms) {
    s.off_core_ms = m.compute_ms - *m.on_core_ms;
  } else {
    s.off_core_na = backend == "sim"    ? "the sim runs in virtual time, no threads"
                    : backend == "cuda" ? "cuda times the GPU, no thread CPU time"
                                        : "the " + backend + " trace has no thread CPU time";
  }
  if (!reference) {
    s.reference_na = "work at B rows needs the naive run, pipelab compare";
    return s;
  }
  // The same work at B rows, measured the same way: CPU time when both runs have it.
  const bool cpu_time = m.on_core_ms && reference->mean.on_core_ms;
  s.full_batch_ms = cpu_time ? *reference->mean.on_core_ms : reference->mean.compute_ms;
  s.microbatch_ms = (cpu_time ? *m.on_core_ms : m.compute_ms) - *s.full_batch_ms;
  if (!cpu_time && s.off_core_ms) {
    // Spans against spans: the waiting for a core is inside the difference.
    s.off_core_ms.reset();
    s.off_core_na = "the naive run has no thread CPU time";
  }
  return s;
}

std::optional<SpeedupChain> speedup_chain(const StepGap& naive, const StepGap& run, const ComputeSplit& split,
                                          const Theory& run_theory) {
  if (!split.full_batch_ms || !split.microbatch_ms || !(*split.full_batch_ms > 0) || !(run.step_ms > 0) ||
      !(naive.step_ms > 0))
    return std::nullopt;
  // S = T_naive / T = (W / T) · c with c = T_naive / W: every point of the step that is
  // not work at B rows costs c · (its share); the theory's share of W is u_th, its
  // bubble 1 − u_th (docs/metrics.md, "The speedup chain").
  const double T = run.step_ms;
  const double c = naive.step_ms / *split.full_batch_ms;
  const double u_theory = run_theory.utilization;
  SpeedupChain chain;
  chain.ideal = run_theory.ideal_speedup;
  chain.naive_gaps = c * u_theory - chain.ideal;
  chain.bubble_above_theory = c * (run.mean.bubble_ms / T - (1 - u_theory));
  chain.microbatch = c * *split.microbatch_ms / T;
  if (split.off_core_ms) chain.off_core = c * *split.off_core_ms / T;
  chain.comm = c * run.mean.comm_ms / T;
  chain.host = c * run.mean.host_ms / T;
  chain.optimizer = c * run.mean.optimizer_ms / T;
  chain.measured = naive.step_ms / T;
  return chain;
}

}  // namespace pipelab
