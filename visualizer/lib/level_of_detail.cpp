// level_of_detail.cpp — merging sub-pixel spans, the bubble hatch, label fit (rules in level_of_detail.h).
#include "pipelab_viz/level_of_detail.h"

#include <algorithm>
#include <cmath>

namespace pipelab::viz {

Rect columns_of(float x0, float x1) {
  // Every column the span touches, and at least one: a zero-length span still shows.
  const float c0 = std::floor(x0);
  return {c0, 0, std::max(c0 + 1.0f, std::ceil(x1)), 0};
}

std::vector<LodBox> level_of_detail(const std::vector<PixelSpan>& spans, float max_merge_px) {
  std::vector<LodBox> boxes;
  bool open = false;  // boxes.back() is a snapped box that may still grow
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const PixelSpan& s = spans[i];
    if (s.x1 - s.x0 >= kLodMinBoxPx) {
      boxes.push_back({s.x0, s.x1, i, 1, s.group, false, s.shaded});
      open = false;
      continue;
    }
    const Rect c = columns_of(s.x0, s.x1);
    if (open) {
      LodBox& run = boxes.back();
      const bool shares = c.x0 < run.x1;  // same pixel column: one box must show both
      const bool touches_same = c.x0 == run.x1 && s.group == run.group;
      const float merged_x1 = std::max(run.x1, c.x1);
      // One colour whatever its length (an unshaded group alone): no limit on the width.
      const bool one_colour = !run.shaded && !s.shaded && s.group == run.group;
      if ((shares || touches_same) && (one_colour || merged_x1 - run.x0 <= max_merge_px)) {
        run.x1 = merged_x1;
        run.count += 1;
        run.shaded = run.shaded || s.shaded;
        if (s.group != run.group) run.group = kMixedGroup;
        continue;
      }
    }
    boxes.push_back({c.x0, c.x1, i, 1, s.group, true, s.shaded});
    open = true;
  }
  return boxes;
}

void hatch_lines(const Rect& r, Vec2 origin, float spacing, std::vector<HatchLine>& out) {
  out.clear();
  if (r.empty() || spacing <= 0) return;
  // Lines x + y = c with c = origin.x + origin.y + k · spacing; those with c in
  // [x0 + y0, x1 + y1] cross r. On the line at c, x = c - y.
  const float base = origin.x + origin.y;
  const float first = base + std::ceil((r.x0 + r.y0 - base) / spacing) * spacing;
  for (float c = first; c <= r.x1 + r.y1; c += spacing) out.push_back({{c - r.y0, r.y0}, {c - r.y1, r.y1}});
}

float label_width_em(const std::string& label) {
  float em = 0;
  for (unsigned char ch : label) {
    if ((ch & 0xC0) == 0x80) continue;  // UTF-8 continuation bytes are not characters
    switch (ch) {
      case 'F':
        em += 0.575f;
        break;
      case 'B':
        em += 0.686f;
        break;
      case 'R':
        em += 0.695f;
        break;
      case 'O':
        em += 0.787f;
        break;
      case 'p':
        em += 0.635f;
        break;
      case 't':
        em += 0.392f;
        break;
      default:
        em += ch >= '0' && ch <= '9' ? 0.636f : kLabelEmPerChar;
    }
  }
  return em;
}

float label_font_px(const std::string& label, const Rect& box, float font_px) {
  if (label.empty()) return 0;
  const float em = label_width_em(label);
  for (const float px : {font_px, font_px * 0.75f})
    if (em * px + 4 <= box.width() && px <= box.height() + 2) return px;
  return 0;
}

}  // namespace pipelab::viz
