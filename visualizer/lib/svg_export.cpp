// svg_export.cpp — TimelineLayout → SVG text.
#include "pipelab_viz/svg_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "pipelab/error.h"
#include "pipelab_viz/screen_layout.h"

namespace pipelab::viz {

namespace {

std::string hex(Rgba c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

void rect(std::ostream& o, const Rect& r, const std::string& fill, const std::string& extra = "") {
  o << "<rect x=\"" << r.x0 << "\" y=\"" << r.y0 << "\" width=\"" << r.width() << "\" height=\"" << r.height()
    << "\" fill=\"" << fill << "\"" << extra << "/>\n";
}

void text(std::ostream& o, float x, float y, float size, Rgba colour, const std::string& s,
          const char* anchor = "start") {
  // y is the vertical centre of the text: the baseline sits ~0.35 em below it (portable,
  // unlike dominant-baseline).
  o << "<text x=\"" << x << "\" y=\"" << y + size * 0.35f << "\" font-size=\"" << size << "\" fill=\"" << hex(colour)
    << "\" text-anchor=\"" << anchor << "\">" << escape(s) << "</text>\n";
}

}  // namespace

std::string timeline_svg(const std::vector<Panel>& panels, const TimelineLayout& layout, const Palette& palette,
                         float f, int width, int height) {
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
    << width << ' ' << height << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  o << "<title>pipelab timeline</title>\n";
  // Bubble hatch: diagonal lines every kHatchSpacingPx, anchored like the window's.
  o << "<defs><pattern id=\"bubble\" patternUnits=\"userSpaceOnUse\" x=\"" << layout.hatch_origin.x << "\" y=\""
    << layout.hatch_origin.y << "\" width=\"" << kHatchSpacingPx << "\" height=\"" << kHatchSpacingPx << "\">"
    << "<rect width=\"" << kHatchSpacingPx << "\" height=\"" << kHatchSpacingPx << "\" fill=\"" << hex(palette.bubble)
    << "\"/><path d=\"M0," << kHatchSpacingPx << " L" << kHatchSpacingPx << ",0\" stroke=\""
    << hex(palette.bubble_hatch) << "\" stroke-width=\"1.5\"/></pattern></defs>\n";
  rect(o, {0, 0, static_cast<float>(width), static_cast<float>(height)}, hex(palette.canvas));

  for (std::size_t i = 0; i < panels.size() && i < layout.panels.size(); ++i) {
    const Panel& panel = panels[i];
    const PanelLayout& pl = layout.panels[i];
    const float ty = (pl.title.y0 + pl.title.y1) * 0.5f;
    text(o, layout.axis.x0, ty, f, palette.text, panel_heading(panel));
    text(o, layout.axis.x1, ty, f * 0.9f, palette.text_dim, panel_summary(panel, i > 0 ? &panels[0] : nullptr), "end");
    for (const RowLayout& row : pl.rows) {
      if (row.show_label)
        text(o, row.label.x1 - f * 0.4f, row.label.centre().y, f, palette.text, "GPU " + std::to_string(row.device),
             "end");
      const Rect step_lanes{row.send.x0, row.send.y0, pl.step_end_x, row.recv.y1};
      rect(o, step_lanes, hex(palette.lane));
      // Utilization bar: measured busy / step.
      const double u = row.device < static_cast<int>(panel.metrics.utilization.size())
                           ? panel.metrics.utilization[static_cast<std::size_t>(row.device)]
                           : 0.0;
      rect(o, row.util, hex(palette.util_track));
      Rect filled = row.util;
      filled.x1 = row.util.x0 + static_cast<float>(u) * row.util.width();
      rect(o, filled, hex(palette.util_bar));
      if (row.show_label)
        text(o, row.util.centre().x, row.util.centre().y, f * 0.8f, palette.text, format_percent(u), "middle");
    }
    for (const BubbleLayout& b : pl.bubbles) rect(o, b.rect, "url(#bubble)");
    for (const BoxLayout& box : pl.boxes) {
      // Outlines only on compute boxes wide enough to show one (as the window draws them).
      const bool outline = box.lane == Lane::Compute && !box.snapped && box.rect.width() >= 4;
      rect(o, box.rect, hex(box.fill),
           outline ? " stroke=\"" + hex(action_outline(box.fill)) + "\" stroke-width=\"" +
                         std::to_string(palette.outline_px) + "\""
                   : "");
      if (box.label_px > 0)
        text(o, box.rect.centre().x, box.rect.centre().y, box.label_px, label_colour_on(box.fill), box.label,
             "middle");
    }
  }
  if (!layout.note.empty())
    text(o, layout.note_band.x0, layout.note_band.centre().y, f * 0.9f, palette.error, layout.note);
  // Time axis.
  const Rect& ab = layout.axis_band;
  o << "<line x1=\"" << ab.x0 << "\" y1=\"" << ab.y0 << "\" x2=\"" << ab.x1 << "\" y2=\"" << ab.y0 << "\" stroke=\""
    << hex(palette.text_dim) << "\"/>\n";
  for (const Tick& t : layout.ticks) {
    const float x = layout.axis.x(t.t_us);
    o << "<line x1=\"" << x << "\" y1=\"" << ab.y0 << "\" x2=\"" << x << "\" y2=\"" << ab.y0 + f * 0.3f
      << "\" stroke=\"" << hex(palette.text_dim) << "\"/>\n";
    text(o, x, ab.y0 + f * 0.9f, f * 0.85f, palette.text_dim, t.label, "middle");
  }
  for (const LegendItem& item : layout.legend) {
    rect(o, item.swatch, item.hatched ? "url(#bubble)" : hex(item.colour));
    text(o, item.text_pos.x, item.text_pos.y + f * 0.5f, f * 0.9f, palette.text, item.label);
  }
  o << "</svg>\n";
  return o.str();
}

void write_timeline_svg(const std::vector<Panel>& panels, const std::string& path, bool presentation,
                        bool gpu0_at_bottom, int width, int height) {
  const float f = font_px_for(presentation);
  const Palette palette = palette_for(presentation);
  TimelineParams params;
  params.canvas = {0, 0, static_cast<float>(width), static_cast<float>(height)};
  params.font_px = f;
  params.gpu0_at_bottom = gpu0_at_bottom;
  const TimelineLayout layout = layout_timeline(panels, params, palette);
  // Crop the page to the drawing (the layout leaves spare height at the bottom).
  const int used = static_cast<int>(std::ceil(layout.legend_band.y1 + f * 0.5f));
  if (!panels.empty()) height = std::min(height, used);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) PIPELAB_THROW(path + ": cannot open for writing", "check that the folder exists and is writable");
  out << timeline_svg(panels, layout, palette, f, width, height);
  out.flush();
  if (!out) PIPELAB_THROW(path + ": write failed", "check free disk space");
}

}  // namespace pipelab::viz
