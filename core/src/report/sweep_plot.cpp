// sweep_plot.cpp — the SVG of a sweep (see sweep_plot.h for the layout and attributes).
#include "pipelab/report/sweep_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "pipelab/error.h"
#include "pipelab/report/report.h"

namespace pipelab {

namespace {

// Page and panel geometry, px.
constexpr double kPageWidth = 900, kPageHeight = 390;
constexpr double kPanelTop = 74, kPanelWidth = 330, kPanelHeight = 240;
constexpr double kPanelLeft[2] = {80, 530};
constexpr int kTheorySamples = 64;  // points of a theory curve between the smallest and largest M

std::string num(double v) { return format_number("%.17g", v); }  // exact when read back
std::string px(double v) { return format_number("%.2f", v); }

std::string escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '&') out += "&amp;";
    else if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '"') out += "&quot;";
    else out += ch;
  }
  return out;
}

// A "nice" tick step near range/5: 1, 2, 2.5 or 5 times a power of ten.
double tick_step(double range) {
  const double raw = range / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 2.5, 5.0})
    if (f * power >= raw) return f * power;
  return 10 * power;
}

struct Point {
  int m;
  double value;
};

// One panel: a quantity against M, measured points and the theory curve.
struct Panel {
  std::string quantity;  // "speedup", "bubble": the data-quantity attribute
  std::string title;     // "speedup over naive (x)"
  std::vector<Point> measured, theory;
  double m_min = 1, m_max = 2, value_min = 0, value_max = 1;

  // Plot-area coordinates of (M, value): log2 in M, linear in the value.
  double x(double left, double m) const {
    return left + kPanelWidth * std::log2(m / m_min) / std::log2(m_max / m_min);
  }
  double y(double value) const {
    return kPanelTop + kPanelHeight * (1.0 - (value - value_min) / (value_max - value_min));
  }
};

// Integer M from m_min to m_max, about evenly spaced on the log axis, plus every M run.
std::vector<int> theory_microbatches(const std::vector<int>& ms, int m_min, int m_max) {
  std::vector<int> out(ms);
  for (int i = 0; i <= kTheorySamples; ++i)
    out.push_back(static_cast<int>(std::lround(m_min * std::pow(static_cast<double>(m_max) / m_min,
                                                                 static_cast<double>(i) / kTheorySamples))));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void write_panel(std::ostringstream& svg, const Panel& p, double left, const std::string& theory_label,
                 const std::string& measured_label) {
  svg << "<g class=\"panel\" data-quantity=\"" << p.quantity << "\" data-x0=\"" << num(left) << "\" data-y0=\""
      << num(kPanelTop) << "\" data-width=\"" << num(kPanelWidth) << "\" data-height=\"" << num(kPanelHeight)
      << "\" data-m-min=\"" << num(p.m_min) << "\" data-m-max=\"" << num(p.m_max) << "\" data-value-min=\""
      << num(p.value_min) << "\" data-value-max=\"" << num(p.value_max) << "\">\n";
  svg << "  <text x=\"" << px(left + kPanelWidth / 2) << "\" y=\"" << px(kPanelTop - 12)
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << escape(p.title) << "</text>\n";
  svg << "  <rect x=\"" << px(left) << "\" y=\"" << px(kPanelTop) << "\" width=\"" << px(kPanelWidth)
      << "\" height=\"" << px(kPanelHeight) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  // Value ticks and grid lines.
  const double step = tick_step(p.value_max - p.value_min);
  for (double v = p.value_min; v <= p.value_max + step * 1e-9; v += step) {
    svg << "  <line class=\"grid\" x1=\"" << px(left) << "\" x2=\"" << px(left + kPanelWidth) << "\" y1=\""
        << px(p.y(v)) << "\" y2=\"" << px(p.y(v)) << "\" stroke=\"#ddd\"/>\n"
        << "  <text x=\"" << px(left - 6) << "\" y=\"" << px(p.y(v) + 4) << "\" text-anchor=\"end\">"
        << format_number("%g", v) << "</text>\n";
  }
  // M ticks at the powers of two in range (the sweep's M usually are).
  for (double m = std::exp2(std::ceil(std::log2(p.m_min))); m <= p.m_max * (1 + 1e-12); m *= 2) {
    const double x = p.x(left, m);
    svg << "  <line x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\"" << px(kPanelTop + kPanelHeight)
        << "\" y2=\"" << px(kPanelTop + kPanelHeight + 5) << "\" stroke=\"#444\"/>\n"
        << "  <text x=\"" << px(x) << "\" y=\"" << px(kPanelTop + kPanelHeight + 18) << "\" text-anchor=\"middle\">"
        << format_number("%g", m) << "</text>\n";
  }
  svg << "  <text x=\"" << px(left + kPanelWidth / 2) << "\" y=\"" << px(kPanelTop + kPanelHeight + 36)
      << "\" text-anchor=\"middle\">micro-batches M (log scale)</text>\n";
  // The theory curve, then the measured points on top of it.
  std::ostringstream ms, values, points;
  for (std::size_t i = 0; i < p.theory.size(); ++i) {
    const char* sep = i ? " " : "";
    ms << sep << p.theory[i].m;
    values << sep << num(p.theory[i].value);
    points << sep << px(p.x(left, p.theory[i].m)) << "," << px(p.y(p.theory[i].value));
  }
  svg << "  <polyline class=\"theory\" data-m=\"" << ms.str() << "\" data-value=\"" << values.str()
      << "\" points=\"" << points.str() << "\" fill=\"none\" stroke=\"#d95f02\" stroke-width=\"2\"/>\n";
  for (const Point& pt : p.measured)
    svg << "  <circle class=\"measured\" data-m=\"" << pt.m << "\" data-value=\"" << num(pt.value) << "\" cx=\""
        << px(p.x(left, pt.m)) << "\" cy=\"" << px(p.y(pt.value)) << "\" r=\"4\" fill=\"#1b5e9e\"/>\n";
  // Legend on the right, where the curve is not: bottom for the speedup (it rises with M),
  // top for the bubble (it falls).
  const double lx = left + kPanelWidth - 262, ly = p.quantity == "bubble" ? kPanelTop + 16 : kPanelTop + kPanelHeight - 30;
  svg << "  <line x1=\"" << px(lx) << "\" x2=\"" << px(lx + 22) << "\" y1=\"" << px(ly) << "\" y2=\"" << px(ly)
      << "\" stroke=\"#d95f02\" stroke-width=\"2\"/>\n"
      << "  <text class=\"legend\" font-size=\"11\" x=\"" << px(lx + 28) << "\" y=\"" << px(ly + 4) << "\">" << escape(theory_label)
      << "</text>\n"
      << "  <circle cx=\"" << px(lx + 11) << "\" cy=\"" << px(ly + 18) << "\" r=\"4\" fill=\"#1b5e9e\"/>\n"
      << "  <text class=\"legend\" font-size=\"11\" x=\"" << px(lx + 28) << "\" y=\"" << px(ly + 22) << "\">" << escape(measured_label)
      << "</text>\n</g>\n";
}

}  // namespace

std::string sweep_plot_svg(const std::vector<RunResult>& runs) {
  if (runs.size() < 2)
    PIPELAB_THROW("sweep plot needs the naive baseline and at least one GPipe run, got " +
                      std::to_string(runs.size()) + " run(s)",
                  "plot the result of run_sweep() with at least one M");
  const RunResult& naive = runs.front();
  const RunResult& last = runs.back();
  std::vector<int> ms;
  for (std::size_t i = 1; i < runs.size(); ++i) ms.push_back(runs[i].schedule.microbatches);
  const auto [lo, hi] = std::minmax_element(ms.begin(), ms.end());
  // One M alone gets an octave either side, so the log axis has a width.
  const int m_min = *lo < *hi ? *lo : std::max(1, *lo / 2), m_max = *lo < *hi ? *hi : *hi * 2;

  Panel speedup{"speedup", "speedup over naive (x)", {}, {}};
  Panel bubble{"bubble", "bubble (% of the step)", {}, {}};
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const int m = runs[i].schedule.microbatches;
    // The table's speedup (median of the paired step ratios) and bubble (1 - mean utilization).
    speedup.measured.push_back({m, paired_speedup(naive, runs[i]).median});
    bubble.measured.push_back({m, 100 * runs[i].metrics.bubble_fraction});
  }
  // The theory of the runs' schedule and options (remat and --w-batch included), from the registry.
  for (int m : theory_microbatches(ms, m_min, m_max)) {
    const Theory t = schedule_theory(last.schedule.kind, last.config.devices, m, last.schedule.remat, CostRatio{},
                                     /*chunks=*/1, last.schedule.w_batch);
    speedup.theory.push_back({m, t.ideal_speedup});
    bubble.theory.push_back({m, 100 * t.bubble_fraction});
  }
  for (Panel* p : {&speedup, &bubble}) {
    p->m_min = m_min;
    p->m_max = m_max;
    double top = 0;
    for (const auto* points : {&p->measured, &p->theory})
      for (const Point& pt : *points) top = std::max(top, pt.value);
    if (!(top > 0)) top = 1;
    const double step = tick_step(top * 1.05);
    p->value_max = std::ceil(top * 1.05 / step) * step;  // the top tick just above the data
  }

  const std::string theory_label = "theory (" + last.theory.name() + ")";
  const std::string measured_label = std::string("measured (") + to_string(last.config.backend) + ")";
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kPageWidth << "\" height=\"" << kPageHeight
      << "\" viewBox=\"0 0 " << kPageWidth << " " << kPageHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << px(kPageWidth / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">pipelab sweep: speedup and bubble against M, "
      << escape(last.schedule.name()) << ", K=" << last.config.devices << "</text>\n"
      << "<text x=\"" << px(kPageWidth / 2) << "\" y=\"38\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">"
      << escape(describe_config(naive.config)) << "</text>\n";
  write_panel(svg, speedup, kPanelLeft[0], theory_label, measured_label);
  write_panel(svg, bubble, kPanelLeft[1], theory_label, measured_label);
  svg << "<text x=\"" << px(kPageWidth / 2) << "\" y=\"" << px(kPageHeight - 8)
      << "\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">theory: balanced stages, free links (utilization "
      << escape(last.theory.formula) << "); measured: the sweep's median steps</text>\n"
      << "</svg>\n";
  return svg.str();
}

}  // namespace pipelab
