// test_level_of_detail.cpp — merging sub-pixel spans, bubbles at scale, labels that fit,
// the hatch, and the memory plot thinned to pixel columns. No display.
//
// [SECTION] level_of_detail: one lane
// [SECTION] Labels and hatch
// [SECTION] The timeline of a big step
// [SECTION] Memory lines per pixel column
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "pipelab_viz/level_of_detail.h"
#include "pipelab_viz/memory_series.h"
#include "pipelab_viz/screen_layout.h"
#include "pipelab_viz/timeline_layout.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

using testing::span;
using testing::synthetic_panel;

//-----------------------------------------------------------------------------
// [SECTION] level_of_detail: one lane
//-----------------------------------------------------------------------------

/// Random spans sorted by x0 on [0, width): `thin_share` of them narrower than a pixel.
std::vector<PixelSpan> random_lane(unsigned seed, std::size_t n, float width, double thin_share, int groups) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> pos(0.0f, width), thin(0.0f, 0.99f), wide(1.0f, 30.0f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int> group(0, groups - 1);
  std::vector<PixelSpan> spans;
  for (std::size_t i = 0; i < n; ++i) {
    const float x0 = pos(rng);
    spans.push_back({x0, x0 + (coin(rng) < thin_share ? thin(rng) : wide(rng)), group(rng)});
  }
  std::sort(spans.begin(), spans.end(), [](const PixelSpan& a, const PixelSpan& b) { return a.x0 < b.x0; });
  return spans;
}

TEST(LevelOfDetail, WideSpansAreDrawnExactly) {
  const std::vector<PixelSpan> spans{{10.25f, 11.25f, 0}, {11.25f, 40.5f, 1}, {50.0f, 50.0f + kLodMinBoxPx, 0}};
  const auto boxes = level_of_detail(spans);
  ASSERT_EQ(boxes.size(), 3u);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    EXPECT_FALSE(boxes[i].snapped);
    EXPECT_EQ(boxes[i].count, 1u);
    EXPECT_EQ(boxes[i].first, i);
    EXPECT_FLOAT_EQ(boxes[i].x0, spans[i].x0);
    EXPECT_FLOAT_EQ(boxes[i].x1, spans[i].x1);
    EXPECT_EQ(boxes[i].group, spans[i].group);
  }
}

TEST(LevelOfDetail, ThinSpansSnapToTheColumnsTheyTouch) {
  // A zero-length span still gets its column; one crossing a pixel edge gets both.
  const auto a = level_of_detail({{7.0f, 7.0f, 0}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].snapped);
  EXPECT_FLOAT_EQ(a[0].x0, 7.0f);
  EXPECT_FLOAT_EQ(a[0].x1, 8.0f);
  const auto b = level_of_detail({{7.6f, 8.2f, 0}});
  EXPECT_FLOAT_EQ(b[0].x0, 7.0f);
  EXPECT_FLOAT_EQ(b[0].x1, 9.0f);
  const Rect c = columns_of(3.5f, 3.75f);
  EXPECT_FLOAT_EQ(c.x0, 3.0f);
  EXPECT_FLOAT_EQ(c.x1, 4.0f);
}

TEST(LevelOfDetail, MergingNeverHidesASpan) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto spans = random_lane(seed, 3000, 800.0f, 0.9, 3);
    const auto boxes = level_of_detail(spans);
    // The boxes partition the spans in order: every span is drawn by exactly one box.
    std::size_t next = 0;
    for (const LodBox& box : boxes) {
      ASSERT_EQ(box.first, next) << "seed " << seed;
      ASSERT_GE(box.count, 1u);
      next += box.count;
      if (box.count > 1) {
        EXPECT_TRUE(box.snapped) << "only spans narrower than a pixel merge";
      }
    }
    EXPECT_EQ(next, spans.size()) << "seed " << seed;
  }
}

TEST(LevelOfDetail, BoxesNeverReachOutsideTheirSpans) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto spans = random_lane(seed, 2000, 600.0f, 0.8, 2);
    for (const LodBox& box : level_of_detail(spans)) {
      if (!box.snapped) continue;
      // Exactly the hull of the columns its spans touch: never outside [start, end] at pixel scale.
      float lo = INFINITY, hi = -INFINITY;
      std::set<int> groups;
      for (std::size_t j = box.first; j < box.first + box.count; ++j) {
        const Rect c = columns_of(spans[j].x0, spans[j].x1);
        lo = std::min(lo, c.x0);
        hi = std::max(hi, c.x1);
        groups.insert(spans[j].group);
      }
      EXPECT_FLOAT_EQ(box.x0, lo);
      EXPECT_FLOAT_EQ(box.x1, hi);
      EXPECT_EQ(box.group, groups.size() == 1 ? *groups.begin() : kMixedGroup) << "mixed only when kinds differ";
      EXPECT_LE(box.x1 - box.x0, std::max(kLodMaxMergePx, 2.0f)) << "merging stops at kLodMaxMergePx";
    }
  }
}

TEST(LevelOfDetail, ThinBoxesCoverExactlyTheUnionOfTheirColumns) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto spans = random_lane(seed, 2500, 500.0f, 0.95, 3);
    std::set<int> wanted, drawn;
    for (const PixelSpan& s : spans)
      if (s.x1 - s.x0 < kLodMinBoxPx)
        for (float x = columns_of(s.x0, s.x1).x0; x < columns_of(s.x0, s.x1).x1; x += 1.0f)
          wanted.insert(static_cast<int>(x));
    for (const LodBox& box : level_of_detail(spans))
      if (box.snapped)
        for (float x = box.x0; x < box.x1; x += 1.0f) drawn.insert(static_cast<int>(x));
    EXPECT_EQ(drawn, wanted) << "seed " << seed;
  }
}

TEST(LevelOfDetail, BoxCountIsBoundedByTheWidthNotTheSpans) {
  // 100 k spans of one kind back to back on 1000 px: ~1000 / kLodMaxMergePx boxes.
  std::vector<PixelSpan> spans;
  for (int i = 0; i < 100000; ++i) spans.push_back({i * 0.01f, (i + 1) * 0.01f, 0});
  const auto boxes = level_of_detail(spans);
  EXPECT_LE(boxes.size(), static_cast<std::size_t>(1000 / (kLodMaxMergePx - 2)) + 1);
  EXPECT_GE(boxes.size(), static_cast<std::size_t>(1000 / kLodMaxMergePx));
  // Random kinds, densely packed: never more boxes than columns.
  EXPECT_LE(level_of_detail(random_lane(7, 100000, 1000.0f, 1.0, 4)).size(), 1000u);
}

TEST(LevelOfDetail, NeighboursOfOneKindMergeOthersOnlyWhenTheyShareAColumn) {
  // F, F in adjacent columns: one box. F then B in adjacent columns: two boxes, each clean.
  const auto same = level_of_detail({{10.2f, 10.5f, 0}, {11.1f, 11.4f, 0}});
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0].group, 0);
  const auto touching = level_of_detail({{10.2f, 10.5f, 0}, {11.1f, 11.4f, 1}});
  ASSERT_EQ(touching.size(), 2u);
  EXPECT_EQ(touching[1].group, 1);
  // F and B in one column: one box, marked mixed.
  const auto shared = level_of_detail({{10.2f, 10.5f, 0}, {10.6f, 10.9f, 1}});
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].group, kMixedGroup);
  EXPECT_EQ(shared[0].count, 2u);
}

TEST(LevelOfDetail, OneColourRunsMergeWithoutTheWidthLimit) {
  // 1000 zero-length sends, 0.5 px apart: one colour, so one box over all their columns.
  std::vector<PixelSpan> sends;
  for (int i = 0; i < 1000; ++i) sends.push_back({10.0f + i * 0.5f, 10.0f + i * 0.5f, 3, false});
  const auto boxes = level_of_detail(sends);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_EQ(boxes[0].count, 1000u);
  EXPECT_FLOAT_EQ(boxes[0].x0, 10.0f);
  EXPECT_FLOAT_EQ(boxes[0].x1, 510.0f);
  // A shaded span among them brings the limit back.
  sends[500].shaded = true;
  EXPECT_GT(level_of_detail(sends).size(), 2u);
}

//-----------------------------------------------------------------------------
// [SECTION] Labels and hatch
//-----------------------------------------------------------------------------

TEST(LabelFit, LabelsOnlyWhenWideAndTallEnough) {
  const float f = 16.0f;
  // "F0": (0.575 + 0.636) em · 16 px + 4 px = 23.4 px at full size, 18.5 px at 12 px.
  EXPECT_NEAR(label_width_em("F0"), 1.211f, 1e-4f);
  EXPECT_FLOAT_EQ(label_font_px("F0", {0, 0, 24, 30}, f), 16.0f);
  EXPECT_FLOAT_EQ(label_font_px("F0", {0, 0, 23, 30}, f), 12.0f);
  EXPECT_FLOAT_EQ(label_font_px("F0", {0, 0, 18, 30}, f), 0.0f);
  EXPECT_FLOAT_EQ(label_font_px("F0", {0, 0, 40, 9}, f), 0.0f) << "too low even for the small font";
  EXPECT_FLOAT_EQ(label_font_px("B511", {0, 0, 40, 30}, f), 12.0f);
  EXPECT_FLOAT_EQ(label_font_px("", {0, 0, 400, 30}, f), 0.0f);
}

TEST(Hatch, LinesCrossTheRectAtPhaseZero) {
  const Rect r{103.5f, 40.0f, 171.0f, 70.0f};
  const Vec2 origin{10, 20};
  std::vector<HatchLine> lines;
  hatch_lines(r, origin, kHatchSpacingPx, lines);
  // Lines x + y = c every 12 px of c over c in [x0 + y0, x1 + y1]: (67.5 + 30) / 12 of them.
  EXPECT_NEAR(static_cast<float>(lines.size()), (r.width() + r.height()) / kHatchSpacingPx, 1.0f);
  for (const HatchLine& l : lines) {
    EXPECT_FLOAT_EQ(l.a.y, r.y0) << "from the top row";
    EXPECT_FLOAT_EQ(l.b.y, r.y1) << "to the bottom row";
    EXPECT_FLOAT_EQ(l.a.x + l.a.y, l.b.x + l.b.y) << "a 45 degree line";
    EXPECT_GE(l.a.x, r.x0) << "it crosses r";
    EXPECT_LE(l.b.x, r.x1) << "it crosses r";
    const float phase = hatch_phase(l.a, origin);
    EXPECT_TRUE(phase < 1e-2f || phase > kHatchSpacingPx - 1e-2f) << phase;
  }
  hatch_lines({0, 0, 0, 10}, origin, kHatchSpacingPx, lines);
  EXPECT_TRUE(lines.empty());
}

//-----------------------------------------------------------------------------
// [SECTION] The timeline of a big step
//-----------------------------------------------------------------------------

/// GPipe-shaped step: K devices, M forwards then M backwards each, back to back.
Panel big_step(int k, int m, double f_us, double b_us) {  // M = 2048: F and B both under a pixel
  std::vector<TraceEvent> events;
  for (int d = 0; d < k; ++d) {
    const double start = d * f_us;
    for (int i = 0; i < m; ++i) {
      events.push_back(span(d, ActionKind::Forward, i, start + i * f_us, f_us));
      events.push_back(span(d, ActionKind::SendActivation, i, start + (i + 1) * f_us, 0, Lane::Send));
    }
    const double back = (k - 1) * f_us + m * f_us + (k - 1 - d) * b_us;
    for (int i = 0; i < m; ++i) events.push_back(span(d, ActionKind::Backward, m - 1 - i, back + i * b_us, b_us));
  }
  return synthetic_panel(k, m, std::move(events));
}

TimelineLayout layout_of(const std::vector<Panel>& panels) {
  TimelineParams params;
  params.canvas = {320, 42, 1600, 621};
  params.font_px = kFontPx;
  return layout_timeline(panels, params, dark_palette());
}

TEST(TimelineLod, ABigStepDrawsFewBoxesAndEverySpanInOne) {
  const std::vector<Panel> panels{big_step(8, 2048, 1.0, 2.0)};
  const Panel& p = panels[0];
  const TimelineLayout layout = layout_of(panels);
  const PanelLayout& pl = layout.panels[0];
  EXPECT_LT(pl.boxes.size(), p.trace.events.size() / 10) << "sub-pixel spans merge";
  EXPECT_TRUE(layout.has_merged);
  // Every event is drawn by exactly one box, which sits on its lane and covers its columns.
  std::vector<int> drawn(p.trace.events.size(), 0);
  for (const BoxLayout& box : pl.boxes) {
    const auto& lane = p.lane_events(box.device, box.lane);
    ASSERT_LE(box.lane_first + box.count, lane.size());
    EXPECT_EQ(lane[box.lane_first], box.event);
    const RowLayout& row = pl.rows[static_cast<std::size_t>(box.device)];
    const Rect& lane_rect = box.lane == Lane::Compute ? row.compute : box.lane == Lane::Send ? row.send : row.recv;
    EXPECT_EQ(box.rect.y0, lane_rect.y0);
    EXPECT_EQ(box.rect.y1, lane_rect.y1);
    for (std::size_t j = box.lane_first; j < box.lane_first + box.count; ++j) {
      const TraceEvent& e = p.trace.events[lane[j]];
      ++drawn[lane[j]];
      EXPECT_EQ(e.device, box.device);
      EXPECT_EQ(e.lane, box.lane);
      const Rect c = columns_of(layout.axis.x(e.start_us - p.origin_us), layout.axis.x(e.end_us() - p.origin_us));
      if (box.snapped) {
        EXPECT_LE(box.rect.x0, c.x0);
        EXPECT_GE(box.rect.x1, c.x1);
      }
      EXPECT_LE(box.start_us, e.start_us - p.origin_us);
      EXPECT_GE(box.end_us, e.end_us() - p.origin_us);
    }
    if (box.mixed) {
      EXPECT_EQ(box.fill, dark_palette().many_spans);
    }
    if (box.merged()) {
      EXPECT_EQ(box.label_px, 0.0f) << "no text on merged boxes";
    }
  }
  for (std::size_t i = 0; i < drawn.size(); ++i) ASSERT_EQ(drawn[i], 1) << "event " << i;
  EXPECT_NE(find_box(p, pl, ActionKind::Forward, 3, 200), nullptr) << "a merged span is still found";
  // The legend explains the merged colour.
  EXPECT_TRUE(std::any_of(layout.legend.begin(), layout.legend.end(), [](const LegendItem& i) { return i.help; }));
}

TEST(TimelineLod, LabelsOnlyOnBoxesTheyFit) {
  // Spans from 2 px to 80 px wide: wide ones get "F<i>", narrow ones none.
  std::vector<TraceEvent> events;
  double t = 0;
  for (int i = 0; i < 12; ++i) {
    const double dur = 0.5 * (1 << (i % 6));
    events.push_back(span(0, ActionKind::Forward, i, t, dur));
    t += dur;
  }
  const std::vector<Panel> panels{synthetic_panel(1, 12, events)};
  const TimelineLayout layout = layout_of(panels);
  int labelled = 0;
  for (const BoxLayout& box : layout.panels[0].boxes) {
    if (box.label_px > 0) {
      ++labelled;
      EXPECT_EQ(box.label, box_label(panels[0].trace.events[box.event].action));
      EXPECT_GE(box.rect.width(), label_width_em(box.label) * box.label_px + 4);
      EXPECT_LE(box.label_px, box.rect.height() + 2);
    } else {
      EXPECT_TRUE(box.label.empty());
      const std::string label = box_label(panels[0].trace.events[box.event].action);
      EXPECT_LT(box.rect.width(), label_width_em(label) * kFontPx * 0.75f + 4);
    }
  }
  EXPECT_GT(labelled, 0);
  EXPECT_FALSE(layout.has_merged);
  EXPECT_FALSE(std::any_of(layout.legend.begin(), layout.legend.end(), [](const LegendItem& i) { return i.help; }))
      << "no 'many spans' entry when nothing merges";
}

TEST(TimelineLod, BubblesNarrowerThanAPixelAreNotDrawn) {
  // Gaps of 0.01 µs (far below a pixel) between spans, one wide gap.
  std::vector<TraceEvent> events;
  double t = 0;
  for (int i = 0; i < 100; ++i) {
    events.push_back(span(0, ActionKind::Forward, i, t, 1.0));
    t += 1.01;
  }
  events.push_back(span(0, ActionKind::Backward, 0, t + 50.0, 10.0));
  const std::vector<Panel> panels{synthetic_panel(1, 100, events)};
  const TimelineLayout layout = layout_of(panels);
  ASSERT_EQ(bubble_intervals(panels[0], 0).size(), 100u) << "the idle time is all there";
  ASSERT_EQ(layout.panels[0].bubbles.size(), 1u) << "but only the wide gap is drawn";
  EXPECT_GE(layout.panels[0].bubbles[0].rect.width(), kLodMinBoxPx);
}

TEST(PanelIndex, LanesPartitionTheEventsInStartOrder) {
  std::vector<TraceEvent> events{span(1, ActionKind::Forward, 1, 30, 5), span(0, ActionKind::Forward, 0, 10, 5),
                                 span(1, ActionKind::Forward, 0, 20, 5),
                                 span(0, ActionKind::SendActivation, 0, 15, 0, Lane::Send)};
  const Panel p = synthetic_panel(2, 2, events);
  EXPECT_EQ(p.lane_events(1, Lane::Compute), (std::vector<std::uint32_t>{2, 0}));
  EXPECT_EQ(p.lane_events(0, Lane::Compute), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(p.lane_events(0, Lane::Send), (std::vector<std::uint32_t>{3}));
  EXPECT_TRUE(p.lane_events(0, Lane::Recv).empty());
  EXPECT_TRUE(p.lane_events(7, Lane::Compute).empty()) << "a device out of range has no events";
}

//-----------------------------------------------------------------------------
// [SECTION] Memory lines per pixel column
//-----------------------------------------------------------------------------

TEST(MemoryLines, ThinnedToTwoPointsPerColumnWithTheSameExtent) {
  std::vector<Vec2> line;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> y(0, 100);
  for (int i = 0; i < 10000; ++i) line.push_back({i * 0.05f, y(rng)});  // 20 points per column
  const auto thin = decimate_to_columns(line);
  EXPECT_LE(thin.size(), 2u * 500u + 2u);
  for (int column = 0; column < 500; ++column) {
    float lo = INFINITY, hi = -INFINITY, tlo = INFINITY, thi = -INFINITY;
    for (const Vec2& p : line)
      if (std::floor(p.x) == column) lo = std::min(lo, p.y), hi = std::max(hi, p.y);
    for (const Vec2& p : thin)
      if (std::floor(p.x) == column) tlo = std::min(tlo, p.y), thi = std::max(thi, p.y);
    ASSERT_EQ(lo, tlo) << "column " << column;
    ASSERT_EQ(hi, thi) << "column " << column;
  }
  EXPECT_EQ(thin.front().x, line.front().x);
  EXPECT_EQ(thin.back().x, line.back().x);
  EXPECT_EQ(thin.back().y, line.back().y) << "the line leaves the column where it did";
}

TEST(MemoryLines, SplitAtThePlayheadMeetsAtOnePoint) {
  const std::vector<Vec2> line{{0, 100}, {100, 100}, {100, 0}, {200, 0}, {200, 50}, {400, 50}};
  std::vector<Vec2> before, after;
  split_polyline(line, 150, before, after);
  ASSERT_EQ(before.size(), 4u);
  EXPECT_FLOAT_EQ(before.back().x, 150);
  EXPECT_FLOAT_EQ(before.back().y, 0) << "holds the value up to the playhead";
  EXPECT_FLOAT_EQ(after.front().x, 150);
  EXPECT_FLOAT_EQ(after.back().x, 400);
  split_polyline(line, 400, before, after);
  EXPECT_EQ(before.size(), line.size());
  EXPECT_TRUE(after.empty()) << "at the end nothing is left to come";
  split_polyline(line, -1, before, after);
  EXPECT_TRUE(before.empty());
  EXPECT_EQ(after.size(), line.size());
}

}  // namespace
}  // namespace pipelab::viz
