// ui_timeline.cpp — the timeline panels: boxes, bubbles, lanes, axis, playhead, tooltips.
//
// [SECTION] Drawing helpers
// [SECTION] One panel
// [SECTION] Axis, playhead, legend
// [SECTION] Tooltips
// [SECTION] draw_timeline
#include <imgui.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

#include "pipelab_viz/level_of_detail.h"
#include "pipelab_viz/timeline_layout.h"
#include "ui.h"

namespace pipelab::viz {

namespace {

//-----------------------------------------------------------------------------
// [SECTION] Drawing helpers
//-----------------------------------------------------------------------------

ImVec2 v(Vec2 p) { return ImVec2(p.x, p.y); }
ImVec2 tl(const Rect& r) { return ImVec2(r.x0, r.y0); }
ImVec2 br(const Rect& r) { return ImVec2(r.x1, r.y1); }

// The bubble fill and its hatch lines, clipped to `r`.
void hatched(ImDrawList* draw, const Rect& r, Vec2 origin, const Palette& palette, std::vector<HatchLine>& lines) {
  if (r.empty()) return;
  draw->AddRectFilled(tl(r), br(r), palette.bubble.packed());
  draw->PushClipRect(tl(r), br(r), true);
  hatch_lines(r, origin, kHatchSpacingPx, lines);
  for (const HatchLine& l : lines) draw->AddLine(v(l.a), v(l.b), palette.bubble_hatch.packed(), 1.5f);
  draw->PopClipRect();
}

void text_centred(ImDrawList* draw, const Rect& r, Rgba colour, const std::string& s) {
  const ImVec2 size = ImGui::CalcTextSize(s.c_str());
  draw->AddText(ImVec2(r.centre().x - size.x * 0.5f, r.centre().y - size.y * 0.5f), colour.packed(), s.c_str());
}

//-----------------------------------------------------------------------------
// [SECTION] One panel
//-----------------------------------------------------------------------------

void draw_panel(ImDrawList* draw, const Panel& panel, const Panel* baseline, const PanelLayout& pl,
                const TimelineLayout& layout, double playhead_us, const Palette& palette,
                std::vector<HatchLine>& hatch) {
  const TimeAxis& axis = layout.axis;
  const float playhead_x = axis.x(playhead_us);

  // Title band: what ran, and its measured summary on the right (if it fits).
  const std::string heading = panel_heading(panel);
  const std::string summary = panel_summary(panel, baseline);
  const float ty = pl.title.centre().y - ImGui::GetFontSize() * 0.5f;
  draw->AddText(ImVec2(axis.x0, ty), palette.text.packed(), heading.c_str());
  const float heading_w = ImGui::CalcTextSize(heading.c_str()).x;
  const float summary_w = ImGui::CalcTextSize(summary.c_str()).x;
  if (axis.x0 + heading_w + ImGui::GetFontSize() * 2 + summary_w <= pl.frame.x1)
    draw->AddText(ImVec2(pl.frame.x1 - summary_w - ImGui::GetFontSize() * 0.3f, ty), palette.text_dim.packed(),
                  summary.c_str());

  for (const RowLayout& row : pl.rows) {
    if (row.show_label) {
      const std::string name = "GPU " + std::to_string(row.device);
      const ImVec2 size = ImGui::CalcTextSize(name.c_str());
      draw->AddText(ImVec2(row.label.x1 - size.x - ImGui::GetFontSize() * 0.4f, row.label.centre().y - size.y * 0.5f),
                    palette.text.packed(), name.c_str());
    }
    // Empty send/recv lanes inside the step, so the thin lanes read as lanes.
    draw->AddRectFilled(ImVec2(row.send.x0, row.send.y0), ImVec2(pl.step_end_x, row.recv.y1), palette.lane.packed());
    // Utilization bar: measured busy / step (the whole step, not up to the playhead).
    const double u = static_cast<std::size_t>(row.device) < panel.metrics.utilization.size()
                         ? panel.metrics.utilization[static_cast<std::size_t>(row.device)]
                         : 0.0;
    draw->AddRectFilled(tl(row.util), br(row.util), palette.util_track.packed());
    draw->AddRectFilled(tl(row.util), ImVec2(row.util.x0 + static_cast<float>(u) * row.util.width(), row.util.y1),
                        palette.util_bar.packed());
    if (row.show_label) text_centred(draw, row.util, palette.text, format_percent(u));
  }

  // Bubbles up to the playhead: idle time that has happened (at least a pixel wide: the
  // layout leaves narrower gaps out, level_of_detail.h).
  for (const BubbleLayout& b : pl.bubbles) {
    Rect r = b.rect;
    r.x1 = std::min(r.x1, playhead_x);
    hatched(draw, r, layout.hatch_origin, palette, hatch);
  }

  // Boxes: executed part filled, the rest as a faint ghost of what is scheduled.
  for (const BoxLayout& box : pl.boxes) {
    const double done = executed_fraction(box.start_us, box.end_us, playhead_us);
    const bool compute_lane = box.lane == Lane::Compute;
    if (done < 1.0 && compute_lane) {
      if (box.snapped)
        draw->AddRectFilled(tl(box.rect), br(box.rect), box.fill.with_alpha(70).packed());
      else
        draw->AddRect(tl(box.rect), br(box.rect), box.fill.with_alpha(110).packed(), 0, 0, palette.outline_px);
    }
    if (done <= 0.0) continue;
    Rect filled = box.rect;
    filled.x1 = box.rect.x0 + static_cast<float>(done) * box.rect.width();
    draw->AddRectFilled(tl(filled), br(filled), box.fill.packed());
    if (done >= 1.0 && compute_lane && !box.snapped && box.rect.width() >= 4)
      draw->AddRect(tl(box.rect), br(box.rect), action_outline(box.fill).packed(), 0, 0, palette.outline_px);
  }
  // Labels last, on top of fills (and dim on ghosts), only on boxes they fit
  // (BoxLayout::label_px: the layout's conservative estimate; ImGui centres the real text).
  ImFont* font = ImGui::GetFont();
  for (const BoxLayout& box : pl.boxes) {
    if (box.label_px <= 0) continue;
    const bool started = playhead_us > box.start_us;
    const Rgba colour = started ? label_colour_on(box.fill) : palette.text_dim.with_alpha(140);
    const ImVec2 size = font->CalcTextSizeA(box.label_px, FLT_MAX, 0.0f, box.label.c_str());
    draw->AddText(font, box.label_px, ImVec2(box.rect.centre().x - size.x * 0.5f, box.rect.centre().y - size.y * 0.5f),
                  colour.packed(), box.label.c_str());
  }
}

//-----------------------------------------------------------------------------
// [SECTION] Axis, playhead, legend
//-----------------------------------------------------------------------------

void draw_axis(ImDrawList* draw, const TimelineLayout& layout, const Palette& palette, std::vector<HatchLine>& hatch) {
  const Rect& band = layout.axis_band;
  draw->AddLine(ImVec2(band.x0, band.y0), ImVec2(band.x1, band.y0), palette.text_dim.packed());
  const float f = ImGui::GetFontSize();
  for (const Tick& t : layout.ticks) {
    const float x = layout.axis.x(t.t_us);
    draw->AddLine(ImVec2(x, band.y0), ImVec2(x, band.y0 + f * 0.3f), palette.text_dim.packed());
    const ImVec2 size = ImGui::CalcTextSize(t.label.c_str());
    const float tx = std::clamp(x - size.x * 0.5f, band.x0 - f * 2, band.x1 + f * 2 - size.x);
    draw->AddText(ImVec2(tx, band.y0 + f * 0.35f), palette.text_dim.packed(), t.label.c_str());
  }
  for (const LegendItem& item : layout.legend) {
    if (item.hatched)
      hatched(draw, item.swatch, layout.hatch_origin, palette, hatch);
    else
      draw->AddRectFilled(tl(item.swatch), br(item.swatch), item.colour.packed());
    draw->AddText(v(item.text_pos), palette.text.packed(), item.label.c_str());
    if (item.help)  // a help marker, as the "(?)" of the controls: hovering the entry explains it
      draw->AddText(ImVec2(item.text_pos.x + ImGui::CalcTextSize(item.label.c_str()).x + f * 0.3f, item.text_pos.y),
                    palette.text_dim.packed(), "(?)");
  }
}

void draw_playhead(ImDrawList* draw, const TimelineLayout& layout, const Playback& playback, const Palette& palette) {
  // Paused at the end, the picture is the finished step: no line over its last pixels.
  if (layout.panels.empty() || (!playback.playing && playback.at_end())) return;
  const double playhead_us = playback.time_us;
  const float x = layout.axis.x(playhead_us);
  const float top = layout.panels.front().title.y1;
  draw->AddLine(ImVec2(x, top), ImVec2(x, layout.axis_band.y0), palette.playhead.packed(), 2.0f);
  const float f = ImGui::GetFontSize();
  draw->AddTriangleFilled(ImVec2(x - f * 0.35f, top - f * 0.4f), ImVec2(x + f * 0.35f, top - f * 0.4f), ImVec2(x, top),
                          palette.playhead.packed());
}

//-----------------------------------------------------------------------------
// [SECTION] Tooltips
//-----------------------------------------------------------------------------

void tooltip_row(const char* name, const std::string& value) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextDisabled("%s", name);
  ImGui::TableSetColumnIndex(1);
  ImGui::TextUnformatted(value.c_str());
}

// A merged box: how many spans of which kind, over which micro-batches and time.
void merged_tooltip(const Panel& panel, const BoxLayout& box) {
  const std::vector<std::uint32_t>& lane = panel.lane_events(box.device, box.lane);
  std::array<std::size_t, kActionKindCount> per_kind{};
  int first_mb = std::numeric_limits<int>::max(), last_mb = -1;
  for (std::size_t j = box.lane_first; j < box.lane_first + box.count && j < lane.size(); ++j) {
    const Action& a = panel.trace.events[lane[j]].action;
    ++per_kind[static_cast<std::size_t>(a.kind)];
    if (a.microbatch >= 0) {
      first_mb = std::min(first_mb, a.microbatch);
      last_mb = std::max(last_mb, a.microbatch);
    }
  }
  ImGui::Text("%zu spans, each narrower than a pixel", box.count);
  ImGui::Separator();
  if (ImGui::BeginTable("##tip", 2)) {
    tooltip_row("device", "GPU " + std::to_string(box.device) + " (" + to_string(box.lane) + " lane)");
    for (int k = 0; k < kActionKindCount; ++k)
      if (per_kind[static_cast<std::size_t>(k)] > 0)
        tooltip_row(to_string(static_cast<ActionKind>(k)), std::to_string(per_kind[static_cast<std::size_t>(k)]));
    if (last_mb >= 0) tooltip_row("micro-batches", std::to_string(first_mb) + " .. " + std::to_string(last_mb));
    tooltip_row("from", format_duration(box.start_us));
    tooltip_row("to", format_duration(box.end_us));
    ImGui::EndTable();
  }
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
  ImGui::TextDisabled("%s", kLevelOfDetailHelp);
  ImGui::PopTextWrapPos();
}

void box_tooltip(const Panel& panel, const BoxLayout& box) {
  const TraceEvent& e = panel.trace.events[box.event];
  ImGui::BeginTooltip();
  if (box.merged()) {
    merged_tooltip(panel, box);
    ImGui::EndTooltip();
    return;
  }
  const std::string label = e.lane == Lane::Compute ? box_label(e.action) : to_string(e.action);
  ImGui::Text("%s  %s", label.c_str(), to_string(e.action.kind));
  ImGui::Separator();
  if (ImGui::BeginTable("##tip", 2)) {
    tooltip_row("device", "GPU " + std::to_string(e.device) + " (" + to_string(e.lane) + " lane)");
    tooltip_row("stage", std::to_string(e.action.stage));
    if (e.action.microbatch >= 0)
      tooltip_row("micro-batch", std::to_string(e.action.microbatch) + " of " + std::to_string(panel.microbatches()));
    tooltip_row("start", format_duration(box.start_us));
    tooltip_row("duration", format_duration(e.dur_us));
    tooltip_row("end", format_duration(box.end_us));
    char bytes[64];
    std::snprintf(bytes, sizeof bytes, "%" PRIu64 " (%.1f KiB)", e.bytes, static_cast<double>(e.bytes) / 1024.0);
    tooltip_row("bytes", bytes);
    ImGui::EndTable();
  }
  if (e.action.kind == ActionKind::OptimizerStep) ImGui::TextDisabled("not counted as busy time (only F, B, R, I, W are)");
  if (box.snapped) ImGui::TextDisabled("shorter than a pixel at this width: drawn on the pixel column it touches");
  ImGui::TextDisabled("%s: %s", panel.title.c_str(), panel.source.c_str());
  ImGui::EndTooltip();
}

void bubble_tooltip(const Panel& panel, const BubbleLayout& b) {
  ImGui::BeginTooltip();
  ImGui::Text("bubble: GPU %d idle", b.device);
  ImGui::Separator();
  ImGui::Text("from %s to %s", format_duration(b.start_us).c_str(), format_duration(b.end_us).c_str());
  ImGui::Text("idle for %s", format_duration(b.end_us - b.start_us).c_str());
  ImGui::TextDisabled("%s: no F, B, R, I or W running on this device", panel.title.c_str());
  ImGui::EndTooltip();
}

void hover(const std::vector<Panel>& panels, const TimelineLayout& layout) {
  if (!ImGui::IsWindowHovered()) return;
  const ImVec2 m = ImGui::GetIO().MousePos;
  const Vec2 mouse{m.x, m.y};
  for (std::size_t i = 0; i < layout.panels.size(); ++i) {
    // Thin lanes first: a 1 px column is easy to miss, so give snapped boxes a 2 px margin.
    for (auto it = layout.panels[i].boxes.rbegin(); it != layout.panels[i].boxes.rend(); ++it) {
      Rect r = it->rect;
      if (it->snapped) r = {r.x0 - 2, r.y0, r.x1 + 2, r.y1};
      if (r.contains(mouse)) return box_tooltip(panels[i], *it);
    }
    for (const BubbleLayout& b : layout.panels[i].bubbles)
      if (b.rect.contains(mouse)) return bubble_tooltip(panels[i], b);
  }
  for (const LegendItem& item : layout.legend) {
    if (!item.help || !Rect{item.swatch.x0, item.swatch.y0, layout.legend_band.x1, item.swatch.y1}.contains(mouse))
      continue;
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(item.help);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
    return;
  }
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] draw_timeline
//-----------------------------------------------------------------------------

void draw_timeline(AppState& app, const Rect& area, float font_px, const Palette& palette) {
  // The canvas colour behind it is Window::render's clear of AppState::timeline_canvas.
  const bool open = begin_fixed_window("##timeline", area, false, true);
  if (!open) return ImGui::End();
  ImDrawList* draw = ImGui::GetWindowDrawList();

  if (app.panels.empty()) {
    const char* msg =
        app.background.running() ? "running ..." : "Nothing to show yet: load a trace or open the live demo.";
    text_centred(draw, area, palette.text_dim, msg);
    return ImGui::End();
  }

  // The layout is recomputed only when what it depends on changed (TimelineCache).
  TimelineCache& cache = app.timeline_cache;
  if (!cache.valid || cache.generation != app.panels_generation || cache.canvas != area || cache.font_px != font_px ||
      cache.gpu0_at_bottom != app.gpu0_at_bottom || cache.presentation != app.presentation) {
    TimelineParams params;
    params.canvas = area;
    params.font_px = font_px;
    params.gpu0_at_bottom = app.gpu0_at_bottom;
    params.runs_not_shown = app.runs_not_shown;
    cache.layout = layout_timeline(app.panels, params, palette);
    cache.valid = true;
    cache.generation = app.panels_generation;
    cache.canvas = area;
    cache.font_px = font_px;
    cache.gpu0_at_bottom = app.gpu0_at_bottom;
    cache.presentation = app.presentation;
  }
  const TimelineLayout& layout = cache.layout;
  app.timeline_area.y1 = std::min(area.y1, layout.legend_band.y1 + font_px * 0.4f);  // --crop timeline: the drawing

  // More runs loaded than the timeline stacks: say so above the first panel.
  if (!layout.note.empty())
    draw->AddText(ImVec2(layout.note_band.x0, layout.note_band.centre().y - font_px * 0.5f), palette.error.packed(),
                  layout.note.c_str());
  for (std::size_t i = 0; i < layout.panels.size() && i < app.panels.size(); ++i)
    draw_panel(draw, app.panels[i], i > 0 ? &app.panels[0] : nullptr, layout.panels[i], layout, app.playback.time_us,
               palette, cache.hatch);
  draw_axis(draw, layout, palette, cache.hatch);
  draw_playhead(draw, layout, app.playback, palette);

  // Click or drag anywhere on the axis band to scrub.
  ImGui::SetCursorScreenPos(ImVec2(layout.axis_band.x0, layout.axis_band.y0));
  ImGui::InvisibleButton("##scrub",
                         ImVec2(std::max(1.0f, layout.axis_band.width()), std::max(1.0f, layout.axis_band.height())));
  if (ImGui::IsItemActive()) app.playback.seek(layout.axis.t(ImGui::GetIO().MousePos.x));
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("click or drag to move the playhead");
  hover(app.panels, layout);
  ImGui::End();
}

}  // namespace pipelab::viz
