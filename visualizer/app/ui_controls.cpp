// ui_controls.cpp — the controls column: live run settings, trace files, view, export.
//
// [SECTION] Live run
// [SECTION] Trace files
// [SECTION] View and export
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"
#include "ui.h"

namespace pipelab::viz {

namespace {

//-----------------------------------------------------------------------------
// [SECTION] Live run
//-----------------------------------------------------------------------------

// With trace files loaded: what each loaded run is (read-only, from its trace.meta), and
// the way back to the live demo. The live sliders are not shown: they would show the
// demo's K=4, M=4 beside a run that had other values.
void loaded_runs(AppState& app) {
  ImGui::TextWrapped("Showing trace files: the runs' own settings (read-only).");
  const std::vector<LoadedRunSummary> runs = loaded_run_summaries(app.panels);
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit;
  if (!runs.empty() && ImGui::BeginTable("##loaded", 5, flags)) {
    for (const char* column : {"run", "K", "M", "schedule", "backend"}) ImGui::TableSetupColumn(column);
    ImGui::TableHeadersRow();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const LoadedRunSummary& r = runs[i];
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      // Top to bottom, as stacked on the timeline.
      if (runs.size() == 1)
        ImGui::TextUnformatted("only");
      else
        ImGui::Text("%zu%s", i + 1, i == 0 ? " (top)" : i + 1 == runs.size() ? " (bottom)" : "");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", r.source.c_str());
      ImGui::TableSetColumnIndex(1);
      ImGui::Text("%d", r.devices);
      ImGui::TableSetColumnIndex(2);
      ImGui::Text("%d", r.microbatches);
      ImGui::TableSetColumnIndex(3);
      ImGui::TextUnformatted(r.schedule.c_str());
      ImGui::TableSetColumnIndex(4);
      ImGui::TextUnformatted(r.backend.c_str());
    }
    ImGui::EndTable();
  }
  help_marker("Read from each file's pipelab metadata (trace.meta), as `pipelab run|compare` wrote it.");
  if (app.runs_not_shown > 0)
    ImGui::TextWrapped("%s", stacked_runs_note(app.panels.size(), app.runs_not_shown).c_str());
  if (ImGui::Button("Switch to the live demo", ImVec2(-1, 0))) start_live(app);
}

void live_controls(AppState& app) {
  if (!app.live) return loaded_runs(app);
  LiveSettings& s = app.settings;
  const float f = ImGui::GetFontSize();
  ImGui::PushItemWidth(-f * 7.0f);
  ImGui::SliderInt("K GPUs", &s.devices, 1, kMaxLiveDevices);
  help_marker("K = number of devices (pipeline stages). The model's layers are split evenly over GPU 0..K-1.");
  ImGui::SliderInt("M micro", &s.microbatches, 1, kMaxLiveMicrobatches);
  help_marker(
      "M = micro-batches: the batch is split into M pieces that flow through the pipeline one after "
      "another. More micro-batches, smaller bubble: (K-1)/(M+K-1).");
  // The registry's rows, in its order: a new schedule shows up here by itself.
  const std::vector<ScheduleInfo>& registry = schedule_registry();
  const std::vector<const char*> schedules = schedule_picker_names();
  int schedule = schedule_picker_index(s.schedule);
  if (ImGui::Combo("schedule", &schedule, schedules.data(), static_cast<int>(schedules.size())))
    s.schedule = registry[static_cast<std::size_t>(schedule)].kind;
  help_marker(schedule_picker_help().c_str());
  if (registry[static_cast<std::size_t>(schedule)].uses_chunks) {
    ImGui::SliderInt("chunks", &s.chunks, 1, 4);
    help_marker("Model chunks per GPU (interleaved 1F1B): the layers are split into K x chunks stages and a "
                "micro-batch goes round the GPUs that many times. M must be a multiple of K.");
  }
  ImGui::Checkbox("naive above it", &s.compare_with_naive);
  help_marker("Show naive model parallelism (M = 1) on top, on the same time axis, for comparison.");
  ImGui::Checkbox("remat", &s.remat);
  help_marker(
      "Re-materialization: keep only each stage's input and recompute (R) its activations before the "
      "backward. Less memory, more compute.");

  const BackendAvailability available = backend_availability();
  const char* backends[] = {"sim", "cpu", "cuda"};
  int backend = s.backend == BackendKind::Cpu ? 1 : s.backend == BackendKind::Cuda ? 2 : 0;
  if (ImGui::Combo("backend", &backend, backends, 3))
    s.backend = backend == 1 ? BackendKind::Cpu : backend == 2 ? BackendKind::Cuda : BackendKind::Sim;
  help_marker(
      "sim: discrete-event simulation of the cost model, instant, follows the sliders. cpu: real kernels on "
      "worker threads, measured with a steady clock; runs in the background when you press Run.");
  if (s.backend == BackendKind::Cuda && !available.cuda) ImGui::TextWrapped("cuda: %s", available.cuda_reason.c_str());

  const bool sim = s.backend == BackendKind::Sim;
  ImGui::BeginDisabled(!sim);
  ImGui::TextDisabled("sim cost model");
  ImGui::SliderFloat("link Gb/s", &s.link_gbps, 0.0f, 400.0f, s.link_gbps == 0.0f ? "ideal" : "%.1f",
                     ImGuiSliderFlags_Logarithmic);
  help_marker(
      "Link bandwidth between neighbouring GPUs in Gbit/s (0 = ideal, free transfers). Slow links make "
      "the send/recv spans visible and stretch the step.");
  ImGui::SliderFloat("latency us", &s.link_latency_us, 0.0f, 200.0f, "%.1f");
  help_marker("Fixed cost of every transfer in microseconds, on top of bytes / bandwidth.");
  ImGui::TextDisabled("per-stage cost skew");
  help_marker(
      "Multiplies the compute time of one stage. An unbalanced pipeline waits for its slowest stage: "
      "watch the bubble grow beyond the theory.");
  for (int d = 0; d < s.devices; ++d) {
    const std::string label = "stage " + std::to_string(d);
    ImGui::SliderFloat(label.c_str(), &s.stage_skew[static_cast<std::size_t>(d)], 0.25f, 4.0f, "%.2fx",
                       ImGuiSliderFlags_Logarithmic);
  }
  if (ImGui::Button("reset skew")) s.stage_skew.fill(1.0f);
  ImGui::EndDisabled();
  ImGui::PopItemWidth();

  ImGui::Spacing();
  const bool running = app.background.running();
  ImGui::BeginDisabled(running);
  if (ImGui::Button(sim ? "Run (sim re-runs live)" : "Run", ImVec2(-1, 0))) run_now(app);
  ImGui::EndDisabled();
  if (running) {
    // Progress: finished runs / runs, and a moving dot so a long cpu run visibly lives.
    const int total = std::max(1, app.background.phases_total());
    const float frac = static_cast<float>(app.background.phases_done()) / static_cast<float>(total);
    const char* spin = "|/-\\";
    const std::string text =
        std::string(1, spin[static_cast<int>(ImGui::GetTime() * 8) % 4]) + " " + app.background.progress();
    char overlay[48];
    std::snprintf(overlay, sizeof overlay, "run %d of %d, %.1f s", std::min(app.background.phases_done() + 1, total),
                  total, app.background.elapsed_seconds());
    ImGui::ProgressBar(frac, ImVec2(-1, 0), overlay);
    ImGui::TextWrapped("%s", text.c_str());
  } else if (app.live && !sim && app.have_shown_settings && app.settings != app.shown_settings) {
    ImGui::TextWrapped("settings changed: press Run");
  }
}

//-----------------------------------------------------------------------------
// [SECTION] Trace files
//-----------------------------------------------------------------------------

void file_controls(AppState& app) {
  ImGui::TextWrapped(
      "`pipelab compare --trace x.json` writes x-naive.json and x-gpipe.json (with --schedules a,b,..: "
      "x-a.json, x-b.json, ...). Up to %zu stack on one time axis.",
      kMaxStackedPanels);
  for (std::size_t i = 0; i < app.paths.size(); ++i) {
    const std::string id = "##trace" + std::to_string(i);
    const std::string hint = i == 0 ? "top trace (.json)" : "trace " + std::to_string(i + 1) + " (optional)";
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint(id.c_str(), hint.c_str(), app.paths[i].data(), app.paths[i].size());
  }
  if (ImGui::Button("Load traces", ImVec2(-1, 0))) {
    std::vector<std::string> paths;
    for (const auto& path : app.paths)
      if (path[0]) paths.emplace_back(path.data());
    load_trace_files(app, paths);
  }
}

//-----------------------------------------------------------------------------
// [SECTION] View and export
//-----------------------------------------------------------------------------

void view_controls(AppState& app) {
  ImGui::Checkbox("GPU 0 at the bottom (G)", &app.gpu0_at_bottom);
  help_marker("As in the GPipe paper's figure. Untick to put GPU 0 on top.");
  ImGui::Checkbox("presentation mode (P)", &app.presentation);
  help_marker("Large fonts and high-contrast colours for projectors.");
  if (ImGui::Button("Hide controls (H)")) app.show_controls = false;

  if (ImGui::Button("Screenshot (S)")) app.screenshot_requested = true;
  ImGui::SameLine();
  if (ImGui::Button("Export SVG")) {
    const std::string path = "pipelab-timeline-" + std::to_string(++app.export_counter) + ".svg";
    const std::string why = export_svg(app, path);
    app.status = why.empty() ? "timeline saved to " + path : why;
  }
  if (!app.status.empty()) ImGui::TextWrapped("%s", app.status.c_str());
}

}  // namespace

void draw_controls(AppState& app, const Rect& area) {
  if (!begin_fixed_window("pipelab-viz", area, true)) return ImGui::End();
  // One header id whatever its label says, so its open/closed state stays across the switch.
  const char* live_header = app.live ? "Live run###live" : "Loaded runs###live";
  if (ImGui::CollapsingHeader(live_header, ImGuiTreeNodeFlags_DefaultOpen)) live_controls(app);
  if (ImGui::CollapsingHeader("Trace files", app.live ? 0 : ImGuiTreeNodeFlags_DefaultOpen)) file_controls(app);
  if (ImGui::CollapsingHeader("View and export", ImGuiTreeNodeFlags_DefaultOpen)) view_controls(app);
  ImGui::End();
}

}  // namespace pipelab::viz
