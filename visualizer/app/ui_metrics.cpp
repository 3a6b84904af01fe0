// ui_metrics.cpp — the compare panel: step time, speedup, utilization, bubble vs theory.
//
// Every number is measured from the traces (core metrics.h), except the columns
// labelled "theory", which are the fill-drain formulas for balanced stages and free links.
#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "ui.h"

namespace pipelab::viz {

namespace {

constexpr const char* kHelpStep =
    "Step time (makespan) = from the first action any GPU starts to the last one that ends, measured.";
constexpr const char* kHelpSpeedup =
    "Speedup = step time of the top run / step time of this run, same model, K and backend (measured).";
constexpr const char* kHelpIdeal =
    "Ideal speedup of fill-drain over naive model parallelism for balanced stages and free links: K*M/(M+K-1) "
    "(theory, not measured).";
constexpr const char* kHelpMean =
    "Mean utilization = the average over GPUs of busy time / step time. Busy = union of its F, B and R spans; "
    "sends and receives never count as busy.";
constexpr const char* kHelpBubble =
    "Bubble fraction = 1 - mean utilization: the share of all GPU-time spent idle inside the step "
    "(the hatched area of the timeline).";
constexpr const char* kHelpTheory =
    "GPipe paper's fill-drain theory for balanced stages and free links: bubble = (K-1)/(M+K-1) of the total "
    "time. Naive model parallelism is M = 1, so (K-1)/K. With remat each device also runs R (a forward) in time it "
    "would otherwise idle: utilization M(F+B+R)/(M(F+B+R)+(K-1)(F+B)), F:B:R = 1:2:1 (docs/gpipe.md). The value "
    "is the one the run wrote into its trace. Skewed stages or slow links make the measured bubble larger.";
constexpr const char* kHelpGap =
    "Where the step went, mean over GPUs, in % of the step (measured; docs/metrics.md, 'The gap explained'). "
    "Every instant of a GPU's step counts once, for the first of: compute (its F, B, R, I, W), optimizer, comm "
    "(a send or receive no compute hid), wait (for an input or gradient its program needs next, or done before "
    "the step's end: the bubble by cause), host (it had what it needed and ran nothing: the executor, a thread "
    "waking up, a kernel launch). The five add up to 100%. n/a: the trace's schedule could not be rebuilt "
    "(a custom schedule from a file).";
constexpr const char* kHelpUtil =
    "Utilization of one GPU = its busy time (F, B, R) / step time. GPipe raises it by keeping every GPU busy "
    "with another micro-batch.";

// One term of the gap in % of its step: "26.9%".
std::string gap_percent(const StepGap& gap, double term_ms) {
  return format_percent(gap.step_ms > 0 ? term_ms / gap.step_ms : 0.0);
}

void header(const char* name, const char* help) {
  ImGui::TextUnformatted(name);
  if (help) help_marker(help);
}

}  // namespace

void draw_metrics(AppState& app, const Rect& area) {
  if (!begin_fixed_window("Compare: measured vs theory", area, true)) return ImGui::End();
  if (app.panels.empty()) {
    ImGui::TextDisabled("no runs to compare");
    return ImGui::End();
  }
  const Panel& top = app.panels.front();
  const int runs = static_cast<int>(app.panels.size());
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame;
  // One row per concept (with its "(?)"), one column per run.
  if (ImGui::BeginTable("##summary", runs + 1, flags)) {
    ImGui::TableSetupColumn("##concept", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 11);
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int c = 0; c < runs; ++c) {
      const Panel& p = app.panels[static_cast<std::size_t>(c)];
      ImGui::TableSetColumnIndex(c + 1);
      ImGui::Text("%s K=%d M=%d", p.is_naive() ? "naive" : p.trace.meta.schedule_name().c_str(), p.devices(),
                  p.microbatches());
    }
    auto row = [&](const char* name, const char* help, auto&& cell) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      header(name, help);
      for (int c = 0; c < runs; ++c) {
        ImGui::TableSetColumnIndex(c + 1);
        cell(app.panels[static_cast<std::size_t>(c)]);
      }
    };
    row("step time", kHelpStep, [](const Panel& p) { ImGui::TextUnformatted(format_duration(p.step_us).c_str()); });
    row("speedup", kHelpSpeedup, [&](const Panel& p) {
      if (&p == &top)
        ImGui::TextDisabled("1.00x (baseline)");
      else
        ImGui::Text("%.2fx", speedup(top, p));
    });
    row("ideal speedup", kHelpIdeal, [&](const Panel& p) {
      // Vs naive on the same K: both do the same busy work per device, so
      // T_naive / T = u / u_naive, each the trace's own theory (K*M/(M+K-1) for
      // fill-drain, where u_naive = 1/K; with remat both include R).
      if (&p != &top && top.is_naive() && top.devices() == p.devices() && top.theory.utilization > 0)
        ImGui::Text("%.2fx (theory)", p.theory.utilization / top.theory.utilization);
      else
        ImGui::TextDisabled("-");
    });
    row("mean utilization", kHelpMean,
        [](const Panel& p) { ImGui::TextUnformatted(format_percent(p.metrics.mean_utilization).c_str()); });
    row("bubble (measured)", kHelpBubble,
        [](const Panel& p) { ImGui::TextUnformatted(format_percent(p.metrics.bubble_fraction).c_str()); });
    row("bubble (theory)", kHelpTheory,
        [](const Panel& p) {
          ImGui::TextUnformatted(theory_bubble_label(p).c_str());
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("bubble = %s", theory_bubble_formula(p).c_str());
        });
    // The gap, term by term: compute is the utilization above; the other four split the bubble.
    row("gap: compute/wait", kHelpGap, [](const Panel& p) {
      if (!p.gap) {
        ImGui::TextDisabled("n/a");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", p.gap_unavailable.c_str());
        return;
      }
      ImGui::Text("%s / %s", gap_percent(*p.gap, p.gap->mean.compute_ms).c_str(),
                  gap_percent(*p.gap, p.gap->mean.bubble_ms).c_str());
    });
    row("gap: comm/host/opt", kHelpGap, [](const Panel& p) {
      if (!p.gap) return ImGui::TextDisabled("n/a");
      ImGui::Text("%s / %s / %s", gap_percent(*p.gap, p.gap->mean.comm_ms).c_str(),
                  gap_percent(*p.gap, p.gap->mean.host_ms).c_str(),
                  gap_percent(*p.gap, p.gap->mean.optimizer_ms).c_str());
    });
    ImGui::EndTable();
  }

  ImGui::TextUnformatted("Utilization per GPU");
  help_marker(kHelpUtil);
  // Bars for up to kMaxBars GPUs (ImGui tables have at most 64 columns; traces may have 4096).
  constexpr int kMaxBars = 16;
  int max_k = 1;
  for (const Panel& p : app.panels) max_k = std::max(max_k, p.devices());
  if (max_k > kMaxBars) ImGui::TextDisabled("showing GPU 0..%d of %d", kMaxBars - 1, max_k);
  max_k = std::min(max_k, kMaxBars);
  if (ImGui::BeginTable("##util", max_k + 1, ImGuiTableFlags_SizingStretchSame)) {
    ImGui::TableSetupColumn("##run", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6);
    ImGui::TableNextRow();
    for (int d = 0; d < max_k; ++d) {
      ImGui::TableSetColumnIndex(d + 1);
      ImGui::TextDisabled("GPU %d", d);
    }
    for (const Panel& p : app.panels) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextUnformatted(p.is_naive() ? "naive" : p.trace.meta.schedule_name().c_str());
      for (int d = 0; d < std::min(p.devices(), max_k) && d < static_cast<int>(p.metrics.utilization.size()); ++d) {
        ImGui::TableSetColumnIndex(d + 1);
        const float u = static_cast<float>(p.metrics.utilization[static_cast<std::size_t>(d)]);
        char overlay[16];
        std::snprintf(overlay, sizeof overlay, "%.0f%%", u * 100.0f);
        ImGui::ProgressBar(u, ImVec2(-1, 0), overlay);
      }
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

}  // namespace pipelab::viz
