// timeline_layout.cpp — boxes, bubbles, lanes, axis and legend (picture in timeline_layout.h).
//
// [SECTION] Small helpers (rows, labels, text width, playhead fraction, lookup)
// [SECTION] One panel: rows, bubbles, boxes
// [SECTION] Legend
// [SECTION] layout_timeline: panels stacked on one shared time axis
#include "pipelab_viz/timeline_layout.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace pipelab::viz {

//-----------------------------------------------------------------------------
// [SECTION] Small helpers (rows, labels, text width, playhead fraction, lookup)
//-----------------------------------------------------------------------------

int row_index(int device, int devices, bool gpu0_at_bottom) { return gpu0_at_bottom ? devices - 1 - device : device; }

std::string box_label(const Action& action) {
  // A model chunk other than 0 (interleaved 1F1B) is named, "F3c1", as the trace does.
  if (action.chunk > 0 && action.microbatch >= 0) {
    Action chunk0 = action;
    chunk0.chunk = 0;
    const std::string label = box_label(chunk0);
    return label.empty() ? label : label + "c" + std::to_string(action.chunk);
  }
  switch (action.kind) {
    case ActionKind::Forward:
      return "F" + std::to_string(action.microbatch);
    case ActionKind::Backward:
      return "B" + std::to_string(action.microbatch);
    case ActionKind::Recompute:
      return "R" + std::to_string(action.microbatch);
    case ActionKind::BackwardInput:
      return "I" + std::to_string(action.microbatch);
    case ActionKind::BackwardWeight:
      // --w-batch's one W over every micro-batch (micro-batch -1): "W all", "W all c1".
      if (is_batched_weight(action)) return "W all" + (action.chunk > 0 ? "c" + std::to_string(action.chunk) : "");
      return "W" + std::to_string(action.microbatch);
    case ActionKind::OptimizerStep:
      return "Opt";
    case ActionKind::AllReduceGrads:
      return "AllReduce";
    default:
      return "";
  }
}

float estimated_text_width(const std::string& text, float font_px) {
  // Proportional sans fonts average ~0.6 em per character for digits and capitals.
  // (UTF-8 continuation bytes are not characters.)
  std::size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return static_cast<float>(chars) * font_px * 0.6f;
}

double executed_fraction(double start_us, double end_us, double playhead_us) {
  if (playhead_us >= end_us) return 1.0;
  if (playhead_us <= start_us || end_us <= start_us) return 0.0;
  return (playhead_us - start_us) / (end_us - start_us);
}

const BoxLayout* find_box(const Panel& panel, const PanelLayout& layout, ActionKind kind, int device, int microbatch) {
  for (const BoxLayout& box : layout.boxes) {
    const std::vector<std::uint32_t>& lane = panel.lane_events(box.device, box.lane);
    for (std::size_t j = box.lane_first; j < box.lane_first + box.count && j < lane.size(); ++j) {
      const TraceEvent& e = panel.trace.events[lane[j]];
      if (e.action.kind == kind && e.device == device && e.action.microbatch == microbatch) return &box;
    }
  }
  return nullptr;
}

namespace {

//-----------------------------------------------------------------------------
// [SECTION] One panel: rows, bubbles, boxes
//-----------------------------------------------------------------------------

/// Sizes in pixels, all proportional to the font so presentation mode scales them.
struct Metrics {
  float gutter_left, gutter_right, axis_h, panel_gap, title_h, max_row_h;
};

// Spans of one group share a hue (action_fill): the two sends are one colour, so are the receives.
int fill_group(ActionKind kind) {
  switch (kind) {
    case ActionKind::SendActivation:
    case ActionKind::SendGrad:
      return static_cast<int>(ActionKind::SendActivation);
    case ActionKind::RecvActivation:
    case ActionKind::RecvGrad:
      return static_cast<int>(ActionKind::RecvActivation);
    default:
      return static_cast<int>(kind);
  }
}

Metrics metrics_for(float f) { return {f * 4.2f, f * 5.5f, f * 1.7f, f * 0.6f, f * 1.6f, f * 6.0f}; }

PanelLayout layout_panel(const Panel& panel, const Rect& frame, const TimeAxis& axis, const Metrics& m,
                         const TimelineParams& params, const Palette& palette) {
  PanelLayout pl;
  pl.frame = frame;
  pl.title = {frame.x0, frame.y0, frame.x1, frame.y0 + m.title_h};
  const int k = std::max(panel.devices(), 1);
  const float rows_h = frame.y1 - pl.title.y1;
  const float row_h = std::floor(std::min(rows_h / static_cast<float>(k), m.max_row_h));
  // Inside a row: compute lane, send lane, recv lane, gap (integers: crisp pixels).
  const float gap = std::max(2.0f, std::round(row_h * 0.1f));
  const float lane = std::clamp(std::round(row_h * 0.1f), 2.0f, 7.0f);
  const float compute_h = std::max(1.0f, row_h - gap - 2 * lane);
  const float bar_pad = params.font_px * 0.3f;

  pl.rows.resize(static_cast<std::size_t>(k));
  // Name every row when text fits in a row, else every n-th (K = 64 on a laptop).
  const int label_every = std::max(1, static_cast<int>(std::ceil(params.font_px * 1.05f / std::max(row_h, 1.0f))));
  for (int d = 0; d < k; ++d) {
    const float y = pl.title.y1 + row_h * static_cast<float>(row_index(d, k, params.gpu0_at_bottom));
    RowLayout& r = pl.rows[static_cast<std::size_t>(d)];
    r.device = d;
    r.show_label = d % label_every == 0;
    r.label = {frame.x0, y, axis.x0, y + compute_h};
    r.compute = {axis.x0, y, axis.x1, y + compute_h};
    r.send = {axis.x0, y + compute_h, axis.x1, y + compute_h + lane};
    r.recv = {axis.x0, y + compute_h + lane, axis.x1, y + compute_h + 2 * lane};
    const float bar_h = std::min(compute_h, params.font_px * 1.1f);
    const float bar_y = y + (compute_h - bar_h) * 0.5f;
    r.util = {axis.x1 + bar_pad, bar_y, frame.x1 - bar_pad, bar_y + bar_h};
  }
  pl.step_end_x = axis.x(panel.step_us);

  // Bubbles narrower than a pixel are left out: the spans either side fill their columns.
  for (int d = 0; d < k; ++d) {
    const Rect& lane_rect = pl.rows[static_cast<std::size_t>(d)].compute;
    for (const Interval& idle : bubble_intervals(panel, d)) {
      const Rect r{axis.x(idle.start), lane_rect.y0, axis.x(idle.end), lane_rect.y1};
      if (r.width() >= kLodMinBoxPx) pl.bubbles.push_back({d, idle.start, idle.end, r});
    }
  }

  // Compute lanes first so the thin lanes never hide under a box.
  std::vector<PixelSpan> spans;  // one lane in pixels, reused
  const int microbatches = std::max(panel.microbatches(), 1);
  for (const Lane lane : {Lane::Compute, Lane::Send, Lane::Recv}) {
    for (int d = 0; d < k; ++d) {
      const RowLayout& row = pl.rows[static_cast<std::size_t>(d)];
      const Rect& lane_rect = lane == Lane::Compute ? row.compute : lane == Lane::Send ? row.send : row.recv;
      const std::vector<std::uint32_t>& order = panel.lane_events(d, lane);
      spans.clear();
      for (std::uint32_t i : order) {
        const TraceEvent& e = panel.trace.events[i];
        spans.push_back({axis.x(e.start_us - panel.origin_us), axis.x(e.end_us() - panel.origin_us),
                         fill_group(e.action.kind), is_compute(e.action.kind)});
      }
      for (const LodBox& lod : level_of_detail(spans)) {
        const TraceEvent& first = panel.trace.events[order[lod.first]];
        BoxLayout box;
        box.event = order[lod.first];
        box.count = lod.count;
        box.lane_first = lod.first;
        box.device = d;
        box.lane = lane;
        box.rect = {lod.x0, lane_rect.y0, lod.x1, lane_rect.y1};
        box.snapped = lod.snapped;
        box.mixed = lod.group == kMixedGroup;
        // Time extent: the earliest start and the latest end of the spans drawn.
        box.start_us = first.start_us - panel.origin_us;
        box.end_us = first.end_us() - panel.origin_us;
        double microbatch_sum = 0;
        for (std::size_t j = lod.first; j < lod.first + lod.count; ++j) {
          const TraceEvent& e = panel.trace.events[order[j]];
          box.end_us = std::max(box.end_us, e.end_us() - panel.origin_us);
          microbatch_sum += e.action.microbatch;
        }
        if (box.mixed) {
          box.fill = palette.many_spans;
        } else {
          // One kind: its hue at the mean micro-batch's shade, so a run F0..F511 still
          // fades from dark to light across its merged boxes.
          const int mean_microbatch =
              static_cast<int>(std::lround(microbatch_sum / static_cast<double>(lod.count)));
          box.fill = action_fill(palette, first.action.kind, mean_microbatch, microbatches);
          // Odd model chunks (interleaved 1F1B) a shade darker: the chunks tell apart at a glance.
          if (first.action.chunk % 2 == 1) box.fill = mix(box.fill, Rgba{0, 0, 0, box.fill.a}, 0.3f);
        }
        if (lane == Lane::Compute && !box.merged()) {
          const std::string label = box_label(first.action);
          box.label_px = label_font_px(label, box.rect, params.font_px);
          if (box.label_px > 0) box.label = label;
        }
        pl.boxes.push_back(std::move(box));
      }
    }
  }
  return pl;
}

//-----------------------------------------------------------------------------
// [SECTION] Legend
//-----------------------------------------------------------------------------

// Legend items left to right, wrapping onto another line when the band is too narrow.
// Returns the height used.
// `many_spans`: add the entry for merged boxes of mixed kinds (only when a box merges).
float layout_legend(std::vector<LegendItem>& items, float x0, float x1, float y0, float f, const Palette& palette,
                    bool many_spans) {
  struct Entry {
    const char* label;
    Rgba colour;
    bool hatched;
    bool only_when_merged;  // the entry of merged boxes, shown only when some box merges
  };
  const Entry entries[] = {
      {"F forward", palette.forward, false, false},
      {"B backward", palette.backward, false, false},
      {"R recompute", palette.recompute, false, false},
      // The zero-bubble schedules split B into I (input gradient) and W (weight gradient).
      {"I backward-input", palette.backward_input, false, false},
      {"W backward-weight", palette.backward_weight, false, false},
      {"Opt optimizer", palette.optimizer, false, false},
      {"send", palette.send, false, false},
      {"recv", palette.recv, false, false},
      // Data parallelism's gradient all-reduce, on the send (comm) lane.
      {"all-reduce", action_fill(palette, ActionKind::AllReduceGrads, 0, 1), false, false},
      {"bubble (idle)", palette.bubble, true, false},
      {"lighter = later micro-batch", mix(palette.forward, {255, 255, 255, 255}, 0.45f), false, false},
      {"many spans < 1 px (mixed kinds)", palette.many_spans, false, true},
  };
  const float line_h = f * 1.5f;
  const float sw = f * 1.2f;
  float x = x0, y = y0;
  for (const Entry& e : entries) {
    if (e.only_when_merged && !many_spans) continue;
    // Swatch, gap, label (and the "(?)" the window draws after an entry with help).
    const float w = sw + f * 0.35f + estimated_text_width(e.label, f) + (e.only_when_merged ? f * 2.1f : 0.0f);
    if (x > x0 && x + w > x1) {
      x = x0;
      y += line_h;
    }
    LegendItem item;
    const float ty = y + (line_h - f) * 0.5f;
    item.swatch = {x, ty + f * 0.1f, x + sw, ty + f * 0.9f};
    item.text_pos = {x + sw + f * 0.35f, ty};
    item.label = e.label;
    item.colour = e.colour;
    item.hatched = e.hatched;
    if (e.only_when_merged) item.help = kLevelOfDetailHelp;
    items.push_back(std::move(item));
    x += w + f * 1.1f;
  }
  return y + line_h - y0;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] layout_timeline: panels stacked on one shared time axis
//-----------------------------------------------------------------------------

namespace {

// One pass of layout_timeline, with the legend's height reserved for the "many spans"
// entry or not.
TimelineLayout layout_pass(const std::vector<Panel>& panels, const TimelineParams& params, const Palette& palette,
                           bool many_spans_entry) {
  const Metrics m = metrics_for(params.font_px);
  const Rect& c = params.canvas;
  TimelineLayout tl;
  // At most kMaxStackedPanels panels; the others are reported in the note band.
  const std::size_t n = std::min(panels.size(), kMaxStackedPanels);
  tl.runs_not_shown = params.runs_not_shown + (panels.size() - n);
  tl.note = stacked_runs_note(n, tl.runs_not_shown);
  double longest = 0;
  for (std::size_t i = 0; i < n; ++i) longest = std::max(longest, panels[i].step_us);
  tl.axis = {0.0, longest > 0 ? longest : 1.0, std::round(c.x0 + m.gutter_left), std::round(c.x1 - m.gutter_right)};
  tl.hatch_origin = {c.x0, c.y0};

  // Heights: every row of every panel is equally tall, as tall as fits (at most
  // max_row_h), each panel its title band plus K rows. Below the last panel: the time axis, then the legend; spare
  // space stays at the bottom, so the axis sits right under the rows it measures.
  std::vector<LegendItem> probe;
  const float legend_x0 = c.x0 + m.gutter_left * 0.25f;
  const float legend_x1 = c.x1 - params.font_px * 0.5f;
  const float legend_h =
      layout_legend(probe, legend_x0, legend_x1, 0, params.font_px, palette, many_spans_entry) + params.font_px * 0.2f;
  float top = c.y0 + m.panel_gap * 0.5f;
  if (!tl.note.empty()) {
    tl.note_band = {tl.axis.x0, top, c.x1, std::ceil(top + m.title_h)};  // whole pixels: panels start on one
    top = tl.note_band.y1;
  }
  const float available = c.y1 - top - legend_h - m.axis_h - m.panel_gap * static_cast<float>(n > 0 ? n - 1 : 0);
  int rows = 0;
  for (std::size_t i = 0; i < n; ++i) rows += std::max(panels[i].devices(), 1);
  const float row_h = rows > 0 ? std::floor(std::min(m.max_row_h, (available - m.title_h * static_cast<float>(n)) /
                                                                      static_cast<float>(rows)))
                               : m.max_row_h;
  float y = top;
  for (std::size_t i = 0; i < n; ++i) {
    const float h = m.title_h + static_cast<float>(std::max(panels[i].devices(), 1)) * row_h;
    const Rect frame{c.x0, std::round(y), c.x1, std::round(y) + std::ceil(h)};
    tl.panels.push_back(layout_panel(panels[i], frame, tl.axis, m, params, palette));
    y = frame.y1 + m.panel_gap;
  }
  const float axis_y = n > 0 ? tl.panels.back().frame.y1 : top;
  tl.axis_band = {tl.axis.x0, axis_y, tl.axis.x1, axis_y + m.axis_h};
  tl.ticks = nice_ticks(tl.axis.t0_us, tl.axis.t1_us,
                        std::max(2, static_cast<int>(tl.axis_band.width() / (params.font_px * 7))));
  tl.legend_band = {legend_x0, tl.axis_band.y1, c.x1, tl.axis_band.y1 + legend_h};
  for (const PanelLayout& pl : tl.panels)
    for (const BoxLayout& box : pl.boxes) tl.has_merged = tl.has_merged || box.merged();
  layout_legend(tl.legend, legend_x0, legend_x1, tl.legend_band.y0, params.font_px, palette,
                many_spans_entry || tl.has_merged);
  return tl;
}

}  // namespace

TimelineLayout layout_timeline(const std::vector<Panel>& panels, const TimelineParams& params, const Palette& palette) {
  TimelineLayout tl = layout_pass(panels, params, palette, false);
  if (!tl.has_merged) return tl;
  // Merged boxes: the legend gained an entry. If it wrapped onto another line, lay out
  // again with that line reserved (boxes do not move in x; rows may get shorter).
  std::vector<LegendItem> without, with;
  const float x0 = tl.legend_band.x0, x1 = params.canvas.x1 - params.font_px * 0.5f;
  if (layout_legend(without, x0, x1, 0, params.font_px, palette, false) !=
      layout_legend(with, x0, x1, 0, params.font_px, palette, true))
    tl = layout_pass(panels, params, palette, true);
  return tl;
}

}  // namespace pipelab::viz
