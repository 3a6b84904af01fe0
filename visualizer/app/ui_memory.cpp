// ui_memory.cpp — memory per GPU over the step, from trace.memory (allocator samples).
#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "ui.h"

namespace pipelab::viz {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
constexpr const char* kHelpMemory =
    "Bytes the allocator holds on each GPU, sampled at every change. Stash = activations kept from a forward for "
    "its backward: it grows while GPipe runs forwards and drains during the backwards; remat keeps only each "
    "stage's input, so it is lower.";
// How far a simplified memory line may stray from the exact one (simplify_polyline).
constexpr float kMemoryLineTolerancePx = 0.5f;
}  // namespace

void draw_memory(AppState& app, const Rect& area, float font_px, const Palette& palette) {
  if (!begin_fixed_window("Memory per GPU", area, true)) return ImGui::End();
  if (app.panels.empty()) {
    ImGui::TextDisabled("no trace");
    return ImGui::End();
  }
  app.memory_panel = std::clamp(app.memory_panel, 0, static_cast<int>(app.panels.size()) - 1);
  const Panel& panel = app.panels[static_cast<std::size_t>(app.memory_panel)];

  // 1. What to plot: which run, stash or total.
  if (app.panels.size() > 1) {
    ImGui::SetNextItemWidth(font_px * 9);
    if (ImGui::BeginCombo("##run", panel.title.c_str())) {
      for (std::size_t i = 0; i < app.panels.size(); ++i)
        if (ImGui::Selectable(app.panels[i].title.c_str(), static_cast<int>(i) == app.memory_panel))
          app.memory_panel = static_cast<int>(i);
      ImGui::EndCombo();
    }
    ImGui::SameLine();
  }
  int view = static_cast<int>(app.memory_view);
  ImGui::RadioButton("stash", &view, static_cast<int>(MemoryView::Stash));
  ImGui::SameLine();
  ImGui::RadioButton("total", &view, static_cast<int>(MemoryView::Total));
  app.memory_view = static_cast<MemoryView>(view);
  help_marker(kHelpMemory);
  std::uint64_t peak = 0;
  for (std::uint64_t b : panel.metrics.peak_memory_bytes) peak = std::max(peak, b);
  char peak_text[48];
  std::snprintf(peak_text, sizeof peak_text, "peak total %.1f MiB", static_cast<double>(peak) / kMiB);
  ImGui::SameLine();
  if (ImGui::CalcTextSize(peak_text).x < ImGui::GetContentRegionAvail().x)
    ImGui::TextDisabled("%s", peak_text);
  else
    ImGui::NewLine();

  // 2. Plot area: y axis labels on the left, device legend on the right.
  const ImVec2 cursor = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float label_w = font_px * 4.5f;
  const float legend_w = font_px * 4.5f;
  const Rect plot{cursor.x + label_w, cursor.y + font_px * 0.5f, cursor.x + avail.x - legend_w,
                  cursor.y + avail.y - font_px * 1.6f};
  if (plot.width() < 20 || plot.height() < 20) return ImGui::End();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(ImVec2(plot.x0, plot.y0), ImVec2(plot.x1, plot.y1), palette.canvas.packed());

  // Series and their pixel lines are recomputed only when the panel, view or plot change.
  MemoryPlotCache& cache = app.memory_cache;
  const TimeAxis axis{0.0, std::max(panel.step_us, 1e-9), plot.x0, plot.x1};  // this run's own step
  if (!cache.valid || cache.generation != app.panels_generation || cache.panel != app.memory_panel ||
      cache.view != app.memory_view || cache.plot != plot) {
    cache.y_max = memory_max(panel, app.memory_view);
    cache.lines.assign(static_cast<std::size_t>(std::max(panel.devices(), 0)), {});
    // Half a pixel off the exact line at most: invisible, and far fewer vertices to rasterise.
    for (int d = 0; d < panel.devices(); ++d)
      cache.lines[static_cast<std::size_t>(d)] = simplify_polyline(
          memory_polyline(memory_series(panel, d, app.memory_view), axis, plot, cache.y_max, panel.step_us),
          kMemoryLineTolerancePx);
    cache.valid = true;
    cache.generation = app.panels_generation;
    cache.panel = app.memory_panel;
    cache.view = app.memory_view;
    cache.plot = plot;
  }
  const std::uint64_t y_max = cache.y_max;
  for (int i = 0; i <= 2; ++i) {
    const float y = plot.y1 - plot.height() * static_cast<float>(i) / 2.0f;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(y_max) * i / 2.0 / kMiB);
    const ImVec2 size = ImGui::CalcTextSize(buf);
    draw->AddLine(ImVec2(plot.x0, y), ImVec2(plot.x1, y), palette.grid.packed());
    draw->AddText(ImVec2(plot.x0 - size.x - font_px * 0.3f, y - size.y * 0.5f), palette.text_dim.packed(), buf);
  }
  // The axis is this run's own step (a short GPipe step would be a sliver on the naive step's axis).
  for (const Tick& t :
       nice_ticks(axis.t0_us, axis.t1_us, std::max(3, static_cast<int>(plot.width() / (font_px * 6))))) {
    const float x = axis.x(t.t_us);
    const ImVec2 size = ImGui::CalcTextSize(t.label.c_str());
    draw->AddText(ImVec2(std::min(x - size.x * 0.5f, plot.x1 - size.x), plot.y1 + font_px * 0.2f),
                  palette.text_dim.packed(), t.label.c_str());
  }

  // 3. One step line per device, solid up to the playhead, faint after.
  const float playhead_x = axis.x(std::min(app.playback.time_us, axis.t1_us));
  auto polyline = [&](const std::vector<Vec2>& pts, Rgba c, float thickness) {
    // Vec2 and ImVec2 are both two floats: ImGui reads the points in place.
    static_assert(sizeof(Vec2) == sizeof(ImVec2), "Vec2 is laid out as ImVec2");
    if (pts.size() >= 2)
      draw->AddPolyline(reinterpret_cast<const ImVec2*>(pts.data()), static_cast<int>(pts.size()), c.packed(), 0,
                        thickness);
  };
  // Whole-pixel widths let ImGui draw the lines from its line texture: 2 vertices a point
  // and 6 indices a segment instead of 4 and 18 (a K=8 M=512 plot has ~7 k points, K=64 ~70 k).
  // More than 8 lines overlap anyway: thinner.
  const bool many = panel.devices() > 8;
  for (int d = 0; d < panel.devices(); ++d) {
    const Rgba colour = device_colour(palette, d);
    split_polyline(cache.lines[static_cast<std::size_t>(d)], playhead_x, cache.before, cache.after);
    polyline(cache.after, colour.with_alpha(70), 1.0f);
    polyline(cache.before, colour, many ? 2.0f : 3.0f);
    const std::string name = "GPU " + std::to_string(d);
    const float ly = plot.y0 + static_cast<float>(d) * font_px * 1.1f;
    draw->AddRectFilled(ImVec2(plot.x1 + font_px * 0.4f, ly + font_px * 0.3f),
                        ImVec2(plot.x1 + font_px * 1.1f, ly + font_px * 0.8f), colour.packed());
    draw->AddText(ImVec2(plot.x1 + font_px * 1.3f, ly), palette.text.packed(), name.c_str());
  }
  const float px = axis.x(std::min(app.playback.time_us, axis.t1_us));
  if (app.playback.time_us < axis.t1_us)
    draw->AddLine(ImVec2(px, plot.y0), ImVec2(px, plot.y1), palette.playhead.packed(), 1.5f);
  ImGui::End();
}

}  // namespace pipelab::viz
