// grading.cpp — oracles and helpers of the graded tests (see grading.h).
#include "grading.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

namespace pipelab::grading {

std::string throws_error(const std::function<void()>& call) {
  try {
    call();
  } catch (const NotImplemented& e) {
    return e.message();
  } catch (const Error&) {
    return "";
  } catch (const std::exception& e) {
    return std::string("threw std::exception '") + e.what() + "' instead of a pipelab::Error (use PIPELAB_THROW)";
  }
  return "returned normally instead of throwing a pipelab::Error (use PIPELAB_THROW)";
}

Action F(int s, int m) { return {ActionKind::Forward, s, m}; }
Action B(int s, int m) { return {ActionKind::Backward, s, m}; }
Action R(int s, int m) { return {ActionKind::Recompute, s, m}; }
Action SA(int s, int m) { return {ActionKind::SendActivation, s, m}; }
Action RA(int s, int m) { return {ActionKind::RecvActivation, s, m}; }
Action SG(int s, int m) { return {ActionKind::SendGrad, s, m}; }
Action RG(int s, int m) { return {ActionKind::RecvGrad, s, m}; }
Action Opt(int s) { return {ActionKind::OptimizerStep, s, -1}; }

namespace {
std::string action_text(const Action& a) {
  if (a.kind == ActionKind::OptimizerStep) return "Opt";
  return std::string(short_label(a.kind)) + std::to_string(a.microbatch);
}
}  // namespace

std::string program_text(const std::vector<Action>& program) {
  std::string out;
  for (const Action& a : program) out += (out.empty() ? "" : " ") + action_text(a);
  return out.empty() ? "(empty)" : out;
}

std::string program_difference(const Schedule& got, const std::vector<std::vector<Action>>& expected) {
  std::ostringstream first;
  if (got.per_stage.size() != expected.size()) {
    first << "schedule has " << got.per_stage.size() << " stage programs, expected " << expected.size();
  } else {
    for (std::size_t s = 0; s < expected.size() && first.str().empty(); ++s) {
      const auto& g = got.per_stage[s];
      const auto& e = expected[s];
      for (std::size_t i = 0; i < std::max(g.size(), e.size()); ++i) {
        if (i < g.size() && i < e.size() && g[i] == e[i]) continue;
        first << "stage " << s << ", action #" << i << " (0-based): ";
        if (i >= g.size()) {
          first << "program ends, expected " << action_text(e[i]) << " next";
        } else if (i >= e.size()) {
          first << "got an extra " << action_text(g[i]) << " after the expected end";
        } else {
          first << "got " << action_text(g[i]) << ", expected " << action_text(e[i]);
          if (g[i].stage != e[i].stage)
            first << " (its .stage is " << g[i].stage << ", must be " << e[i].stage << ")";
        }
        break;
      }
    }
  }
  if (first.str().empty()) return "";
  std::ostringstream out;
  out << first.str() << "\n  got:\n";
  for (std::size_t s = 0; s < got.per_stage.size(); ++s)
    out << "    stage " << s << ": " << program_text(got.per_stage[s]) << "\n";
  out << "  expected:\n";
  for (std::size_t s = 0; s < expected.size(); ++s)
    out << "    stage " << s << ": " << program_text(expected[s]) << "\n";
  return out.str();
}

Schedule fixture_fill_drain(int stages, int microbatches) {
  Schedule s;
  s.kind = ScheduleKind::Gpipe;  // built by hand, like gpipe_schedule
  s.stages = stages;
  s.microbatches = microbatches;
  s.per_stage.resize(stages);
  for (int st = 0; st < stages; ++st) {
    for (int m = 0; m < microbatches; ++m) append_forward(s.per_stage[st], st, m, stages);
    for (int m = microbatches - 1; m >= 0; --m) append_backward(s.per_stage[st], st, m, stages);
    s.per_stage[st].push_back(Opt(st));
  }
  return s;
}

Schedule fixture_one_f_one_b(int stages, int microbatches) {
  Schedule s;
  s.kind = ScheduleKind::OneFOneB;  // built by hand, like one_f_one_b_schedule
  s.stages = stages;
  s.microbatches = microbatches;
  s.per_stage.resize(stages);
  for (int st = 0; st < stages; ++st) {
    auto& p = s.per_stage[st];
    int f = 0, b = 0;
    for (; f < std::min(stages - st, microbatches); ++f) append_forward(p, st, f, stages);
    while (f < microbatches) {
      append_backward(p, st, b++, stages);
      append_forward(p, st, f++, stages);
    }
    while (b < microbatches) append_backward(p, st, b++, stages);
    p.push_back(Opt(st));
  }
  return s;
}

Schedule fixture_fill_drain_remat(int stages, int microbatches) {
  Schedule s;
  s.kind = ScheduleKind::Gpipe;  // built by hand, like gpipe with remat
  s.remat = true;
  s.stages = stages;
  s.microbatches = microbatches;
  s.per_stage.resize(stages);
  for (int st = 0; st < stages; ++st) {
    auto& p = s.per_stage[st];
    for (int m = 0; m < microbatches; ++m) append_forward(p, st, m, stages);
    for (int m = microbatches - 1; m >= 0; --m) {
      p.push_back(R(st, m));
      if (st < stages - 1) p.push_back(RG(st, m));
      p.push_back(B(st, m));
      if (st > 0) p.push_back(SG(st, m));
    }
    p.push_back(Opt(st));
  }
  return s;
}

Partition fixture_partition(int stages, int layers_per_stage) {
  Partition p;
  for (int s = 0; s <= stages; ++s) p.boundaries.push_back(s * layers_per_stage);
  return p;
}

TimedRun unit_time_run(const Schedule& schedule, double forward, double backward) {
  TimedRun run;
  const int k = schedule.stages;
  const int m_count = schedule.microbatches;
  if (k < 1 || static_cast<int>(schedule.per_stage.size()) != k || m_count < 1) {
    run.error = "schedule shape: stages=" + std::to_string(k) + ", per_stage.size()=" +
                std::to_string(schedule.per_stage.size()) + ", microbatches=" + std::to_string(m_count);
    return run;
  }
  for (int s = 0; s < k; ++s)
    for (const Action& a : schedule.per_stage[s])
      if (a.stage != s || (a.kind != ActionKind::OptimizerStep && (a.microbatch < 0 || a.microbatch >= m_count))) {
        run.error = "stage " + std::to_string(s) + " holds " + to_string(a) + " (wrong stage or micro-batch id)";
        return run;
      }
  std::vector<double> clock(k, 0.0);
  run.busy.assign(k, 0.0);
  run.compute_spans.assign(k, {});
  std::vector<std::size_t> pc(k, 0);
  // Time each (kind, sender stage, micro-batch) was sent; receivers wait for it.
  std::map<std::tuple<int, int, int>, double> sent;
  bool moved = true;
  while (moved) {
    moved = false;
    for (int s = 0; s < k; ++s) {
      const auto& program = schedule.per_stage[s];
      while (pc[s] < program.size()) {
        const Action& a = program[pc[s]];
        if (a.kind == ActionKind::RecvActivation || a.kind == ActionKind::RecvGrad) {
          const bool act = a.kind == ActionKind::RecvActivation;
          const auto key = std::make_tuple(act ? 0 : 1, act ? s - 1 : s + 1, a.microbatch);
          const auto it = sent.find(key);
          if (it == sent.end()) break;  // blocked until the matching send
          clock[s] = std::max(clock[s], it->second);
        } else if (a.kind == ActionKind::SendActivation) {
          sent[{0, s, a.microbatch}] = clock[s];
        } else if (a.kind == ActionKind::SendGrad) {
          sent[{1, s, a.microbatch}] = clock[s];
        } else if (is_compute(a.kind)) {
          const double d = a.kind == ActionKind::Backward ? backward : forward;
          run.compute_spans[s].push_back({clock[s], clock[s] + d});
          clock[s] += d;
          run.busy[s] += d;
        }
        ++pc[s];
        moved = true;
      }
    }
  }
  for (int s = 0; s < k; ++s) {
    if (pc[s] < schedule.per_stage[s].size()) {
      run.error = "deadlock: stage " + std::to_string(s) + " waits forever at " +
                  to_string(schedule.per_stage[s][pc[s]]);
      return run;
    }
  }
  run.makespan = *std::max_element(clock.begin(), clock.end());
  return run;
}

double union_length_brute_force(const std::vector<Interval>& spans) {
  std::vector<double> points;
  for (const Interval& i : spans)
    if (i.end > i.start) {
      points.push_back(i.start);
      points.push_back(i.end);
    }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  double total = 0;
  // Each elementary segment between consecutive endpoints is covered entirely or not at all.
  for (std::size_t j = 0; j + 1 < points.size(); ++j) {
    const double mid = 0.5 * (points[j] + points[j + 1]);
    for (const Interval& i : spans)
      if (i.start <= mid && mid < i.end) {
        total += points[j + 1] - points[j];
        break;
      }
  }
  return total;
}

OracleMetrics oracle_metrics(const Trace& trace) {
  OracleMetrics m;
  const int k = trace.meta.devices;
  std::vector<std::vector<Interval>> compute(k);
  bool first = true;
  double lo = 0, hi = 0;
  for (const TraceEvent& e : trace.events) {
    lo = first ? e.start_us : std::min(lo, e.start_us);
    hi = first ? e.end_us() : std::max(hi, e.end_us());
    first = false;
    const ActionKind kind = e.action.kind;
    if (kind == ActionKind::Forward || kind == ActionKind::Backward || kind == ActionKind::Recompute)
      compute.at(e.device).push_back({e.start_us, e.end_us()});
  }
  m.makespan_us = first ? 0 : hi - lo;
  for (int d = 0; d < k; ++d) {
    m.busy_us.push_back(union_length_brute_force(compute[d]));
    m.utilization.push_back(m.makespan_us > 0 ? m.busy_us[d] / m.makespan_us : 0);
    m.mean_utilization += m.utilization.back() / k;
  }
  return m;
}

int oracle_peak_in_flight(const std::vector<Action>& program) {
  int live = 0, peak = 0;
  for (const Action& a : program) {
    if (a.kind == ActionKind::Forward) ++live;
    if (a.kind == ActionKind::Backward) --live;
    peak = std::max(peak, live);
  }
  return peak;
}

double max_stage_cost(const Partition& p, const std::vector<double>& costs) {
  double worst = 0;
  for (int s = 0; s < p.stages(); ++s) {
    double c = 0;
    for (int l = p.first_layer(s); l < p.end_layer(s); ++l) c += costs.at(l);
    worst = std::max(worst, c);
  }
  return worst;
}

std::string partition_problem(const Partition& p, int layers, int stages) {
  const auto& b = p.boundaries;
  std::ostringstream out;
  if (static_cast<int>(b.size()) != stages + 1) {
    out << "boundaries has " << b.size() << " entries, expected K + 1 = " << stages + 1;
  } else if (b.front() != 0) {
    out << "boundaries[0] is " << b.front() << ", must be 0";
  } else if (b.back() != layers) {
    out << "boundaries[K] is " << b.back() << ", must be L = " << layers;
  } else {
    for (int s = 0; s < stages; ++s)
      if (b[s] >= b[s + 1]) {
        out << "stage " << s << " is empty or reversed: [" << b[s] << ", " << b[s + 1] << ")";
        break;
      }
  }
  if (out.str().empty()) return "";
  out << " (boundaries {";
  for (std::size_t i = 0; i < b.size(); ++i) out << (i ? ", " : "") << b[i];
  out << "})";
  return out.str();
}

namespace {
void try_all(const std::vector<double>& costs, int stages, std::vector<int>& boundaries, double& best) {
  const int layers = static_cast<int>(costs.size());
  if (static_cast<int>(boundaries.size()) == stages) {
    boundaries.push_back(layers);
    Partition p;
    p.boundaries = boundaries;
    best = std::min(best, max_stage_cost(p, costs));
    boundaries.pop_back();
    return;
  }
  // Next cut after the previous one, leaving at least one layer per remaining stage.
  const int remaining = stages - static_cast<int>(boundaries.size());
  for (int cut = boundaries.back() + 1; cut <= layers - remaining; ++cut) {
    boundaries.push_back(cut);
    try_all(costs, stages, boundaries, best);
    boundaries.pop_back();
  }
}
}  // namespace

double brute_force_min_max(const std::vector<double>& costs, int stages) {
  std::vector<int> boundaries{0};
  double best = INFINITY;
  try_all(costs, stages, boundaries, best);
  return best;
}

RunConfig tiny_cpu_config(int devices, int layers_per_stage) {
  RunConfig c;
  c.model.layers = devices * layers_per_stage;
  c.model.width = 12;
  c.model.hidden = 20;
  c.model.batch = 37;
  c.model.seed = 7;
  c.devices = devices;
  c.backend = BackendKind::Cpu;
  c.watchdog_seconds = 10;
  return c;
}

}  // namespace pipelab::grading
