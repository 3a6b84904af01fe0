// gap_report.cpp — the gap decomposition as report lines and JSON (see gap_report.h).
#include "pipelab/report/gap_report.h"

#include <sstream>

#include "pipelab/report/report.h"  // format_number

namespace pipelab {

namespace {

// `value` in `printf_format`, a negative zero ("-0.0", from rounding a tiny difference
// such as the sim's micro-batch inefficiency) shown as zero.
std::string number(const char* printf_format, double value) {
  std::string text = format_number(printf_format, value);
  const std::size_t digits = text.find_first_not_of("+-");
  if (digits != 0 && digits != std::string::npos && text.find_first_not_of("0.", digits) == std::string::npos)
    text = text.substr(digits);
  return text;
}

// A share of the step in percent, or "n/a".
std::string percent(std::optional<double> ms, double step_ms) {
  if (!ms) return "n/a";
  return number("%.1f", step_ms > 0 ? 100 * *ms / step_ms : 0.0);
}

nlohmann::json ms_or_null(std::optional<double> ms) { return ms ? nlohmann::json(*ms) : nlohmann::json(nullptr); }
nlohmann::json text_or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json terms_json(const GapTerms& g) {
  return {{"compute_ms", g.compute_ms}, {"optimizer_ms", g.optimizer_ms}, {"comm_ms", g.comm_ms},
          {"bubble_ms", g.bubble_ms},   {"host_ms", g.host_ms},           {"on_core_ms", ms_or_null(g.on_core_ms)}};
}

}  // namespace

RunGap run_gap(const RunResult& run, const RunResult* reference) {
  RunGap g;
  g.step = decompose_step(run.trace, run.schedule);
  // Naive is one batch of B rows: its own reference (micro-batch inefficiency 0 by definition).
  if (!reference && run.schedule.kind == ScheduleKind::Naive) reference = &run;
  if (reference == &run) {
    g.split = split_compute(g.step, &g.step, run.trace.meta.backend);
  } else if (reference) {
    const StepGap naive = decompose_step(reference->trace, reference->schedule);
    g.split = split_compute(g.step, &naive, run.trace.meta.backend);
  } else {
    g.split = split_compute(g.step, nullptr, run.trace.meta.backend);
  }
  return g;
}

std::string gap_lines(const RunResult& run, const RunGap& gap) {
  const GapTerms& m = gap.step.mean;
  const double T = gap.step.step_ms;
  const std::string name = run.schedule.name();
  std::ostringstream out;
  out << "# gap, " << name << " (% of the step, mean per device, measured; docs/metrics.md): compute "
      << percent(m.compute_ms, T) << " + bubble " << percent(m.bubble_ms, T) << " (theory "
      << number("%.1f", 100 * run.theory.bubble_fraction) << ") + comm " << percent(m.comm_ms, T) << " + host "
      << percent(m.host_ms, T) << " + optimizer " << percent(m.optimizer_ms, T) << "\n";
  const ComputeSplit& s = gap.split;
  out << "#   " << name << " compute " << percent(m.compute_ms, T) << " = work at B rows "
      << percent(s.full_batch_ms, T) << " + micro-batch inefficiency " << percent(s.microbatch_ms, T)
      << " + waiting for a core " << percent(s.off_core_ms, T);
  std::string why = s.reference_na;
  if (!s.off_core_na.empty()) why += (why.empty() ? "" : "; ") + std::string("waiting for a core: ") + s.off_core_na;
  if (!why.empty()) out << " (n/a: " << why << ")";
  out << "\n";
  return out.str();
}

std::string speedup_chain_line(const std::optional<SpeedupChain>& chain) {
  if (!chain) return "# speedup chain: n/a (needs the naive run's work at B rows and a non-empty step)\n";
  const auto loss = [](double x) { return number("%+.2f", -x); };
  std::ostringstream out;
  out << "# speedup chain (x; docs/metrics.md): ideal " << number("%.2f", chain->ideal)
      << " (theory), naive's own gaps " << number("%+.2f", chain->naive_gaps) << ", bubble vs theory "
      << loss(chain->bubble_above_theory) << ", micro-batch inefficiency " << loss(chain->microbatch)
      << ", waiting for a core " << (chain->off_core ? loss(*chain->off_core) : std::string("n/a")) << ", comm "
      << loss(chain->comm) << ", host " << loss(chain->host) << ", optimizer " << loss(chain->optimizer)
      << ": measured " << number("%.2f", chain->measured) << "x (naive / this step time, the median steps)\n";
  return out.str();
}

nlohmann::json gap_json(const RunGap& gap) {
  nlohmann::json j = terms_json(gap.step.mean);
  j.erase("on_core_ms");
  j["label"] = "measured; mean per device; the five terms add up to step_ms on every device";
  j["step_ms"] = gap.step.step_ms;
  const ComputeSplit& s = gap.split;
  j["compute_split"] = {{"full_batch_ms", ms_or_null(s.full_batch_ms)},
                        {"microbatch_inefficiency_ms", ms_or_null(s.microbatch_ms)},
                        {"off_core_ms", ms_or_null(s.off_core_ms)},
                        {"full_batch_na", text_or_null(s.reference_na)},
                        {"off_core_na", text_or_null(s.off_core_na)}};
  nlohmann::json per_device = nlohmann::json::array();
  for (const GapTerms& d : gap.step.per_device) per_device.push_back(terms_json(d));
  j["per_device"] = per_device;
  return j;
}

nlohmann::json speedup_chain_json(const std::optional<SpeedupChain>& chain) {
  if (!chain) return nullptr;
  return {{"label", "ideal (theory) + naive_gaps - the losses = measured (naive / this step time, median steps)"},
          {"ideal", chain->ideal},
          {"naive_gaps", chain->naive_gaps},
          {"bubble_above_theory", chain->bubble_above_theory},
          {"microbatch_inefficiency", chain->microbatch},
          {"off_core", chain->off_core ? nlohmann::json(*chain->off_core) : nlohmann::json(nullptr)},
          {"comm", chain->comm},
          {"host", chain->host},
          {"optimizer", chain->optimizer},
          {"measured", chain->measured}};
}

}  // namespace pipelab
