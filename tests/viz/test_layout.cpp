// test_layout.cpp — time → pixel, row order, box placement, bubble segments, screen split.
// No display: this is the math the window, the SVG and the pixel probes share.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pipelab_viz/screen_layout.h"
#include "pipelab_viz/timeline_layout.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

using testing::demo_panels;
using testing::span;
using testing::synthetic_panel;

TimelineLayout demo_layout(const std::vector<Panel>& panels, bool gpu0_at_bottom = true) {
  TimelineParams params;
  params.canvas = {320, 42, 1600, 621};
  params.font_px = kFontPx;
  params.gpu0_at_bottom = gpu0_at_bottom;
  return layout_timeline(panels, params, dark_palette());
}

TEST(TimeAxis, MapsTimeToPixelsLinearly) {
  const TimeAxis axis{0.0, 500.0, 100.0f, 1100.0f};
  EXPECT_FLOAT_EQ(axis.x(0.0), 100.0f);
  EXPECT_FLOAT_EQ(axis.x(500.0), 1100.0f);
  EXPECT_FLOAT_EQ(axis.x(125.0), 350.0f);
  EXPECT_DOUBLE_EQ(axis.scale(), 2.0);
  for (double t : {0.0, 1.5, 250.0, 499.0}) EXPECT_NEAR(axis.t(axis.x(t)), t, 1e-3);
}

TEST(TimeAxis, EmptyRangeDoesNotDivideByZero) {
  const TimeAxis axis{10.0, 10.0, 0.0f, 100.0f};
  EXPECT_EQ(axis.scale(), 0.0);
  EXPECT_FLOAT_EQ(axis.x(10.0), 0.0f);
  EXPECT_EQ(axis.t(50.0f), 10.0);
}

TEST(TimeAxis, NiceTicksAreRoundAndCoverTheRange) {
  const auto ticks = nice_ticks(0.0, 649.6, 9);
  ASSERT_GE(ticks.size(), 2u);
  EXPECT_EQ(ticks.front().label, "0");
  EXPECT_DOUBLE_EQ(ticks[1].t_us - ticks[0].t_us, 100.0);
  EXPECT_EQ(ticks[1].label, "100 \xC2\xB5s");
  EXPECT_LE(ticks.back().t_us, 649.6);
  EXPECT_LE(ticks.size(), 9u);
  const auto ms = nice_ticks(0.0, 4200.0, 6);
  EXPECT_EQ(ms[1].label, "1 ms");
  const auto fine = nice_ticks(0.0, 0.9, 10);
  EXPECT_EQ(fine[1].label, "0.1 \xC2\xB5s");
}

TEST(TimeAxis, DurationsUseThreeSignificantDigits) {
  EXPECT_EQ(format_duration(284.4), "284.4 \xC2\xB5s");
  EXPECT_EQ(format_duration(13.5594), "13.56 \xC2\xB5s");
  EXPECT_EQ(format_duration(1250.0), "1.25 ms");
}

TEST(TimelineLayout, RowOrderPutsGpu0AtTheBottomUnlessFlipped) {
  EXPECT_EQ(row_index(0, 4, true), 3);
  EXPECT_EQ(row_index(3, 4, true), 0);
  EXPECT_EQ(row_index(0, 4, false), 0);
  PIPELAB_DEMO_PANELS(panels);
  const auto bottom = demo_layout(panels, true);
  const auto top = demo_layout(panels, false);
  for (const auto& pl : bottom.panels)
    for (int d = 1; d < 4; ++d) EXPECT_GT(pl.rows[0].compute.y0, pl.rows[d].compute.y0) << "GPU 0 is the lowest row";
  for (const auto& pl : top.panels)
    for (int d = 1; d < 4; ++d) EXPECT_LT(pl.rows[0].compute.y0, pl.rows[d].compute.y0) << "GPU 0 is the top row";
}

TEST(TimelineLayout, RowsStackComputeThenSendThenRecvWithoutOverlap) {
  PIPELAB_DEMO_PANELS(panels);
  const auto layout = demo_layout(panels);
  for (const auto& pl : layout.panels) {
    for (const RowLayout& r : pl.rows) {
      EXPECT_EQ(r.compute.y1, r.send.y0);
      EXPECT_EQ(r.send.y1, r.recv.y0);
      EXPECT_GT(r.send.height(), 0.0f);
      EXPECT_LT(r.send.height(), r.compute.height() / 2) << "send/recv lanes are thin";
      EXPECT_GE(r.compute.y0, pl.title.y1);
      EXPECT_LE(r.recv.y1, pl.frame.y1);
    }
  }
  EXPECT_LE(layout.panels[0].frame.y1, layout.panels[1].frame.y0) << "panels do not overlap";
  EXPECT_LE(layout.panels[1].frame.y1, layout.axis_band.y0);
}

TEST(TimelineLayout, BoxesSitAtTheirMeasuredStartAndDuration) {
  PIPELAB_DEMO_PANELS(panels);
  const auto layout = demo_layout(panels);
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const Panel& panel = panels[i];
    const PanelLayout& pl = layout.panels[i];
    std::size_t drawn = 0;
    for (const BoxLayout& box : pl.boxes) {
      drawn += box.count;
      const TraceEvent& e = panel.trace.events[box.event];
      const RowLayout& row = pl.rows[static_cast<std::size_t>(e.device)];
      const Rect& lane = e.lane == Lane::Compute ? row.compute : e.lane == Lane::Send ? row.send : row.recv;
      EXPECT_EQ(box.rect.y0, lane.y0);
      EXPECT_EQ(box.rect.y1, lane.y1);
      const float x0 = layout.axis.x(e.start_us - panel.origin_us);
      if (!box.snapped) {
        EXPECT_FLOAT_EQ(box.rect.x0, x0);
        EXPECT_NEAR(box.rect.width(), e.dur_us * layout.axis.scale(), 1e-3);
      } else {
        // Narrower than a pixel: on the pixel column(s) it touches (level_of_detail.h).
        EXPECT_LT(e.dur_us * layout.axis.scale(), kLodMinBoxPx);
        EXPECT_FLOAT_EQ(box.rect.x0, std::floor(x0));
      }
    }
    EXPECT_EQ(drawn, panel.trace.events.size()) << "every traced span is drawn by one box";
  }
  // GPU 0's first forward starts the step at the left edge of the axis in both panels.
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const BoxLayout* f0 = find_box(panels[i], layout.panels[i], ActionKind::Forward, 0, 0);
    ASSERT_NE(f0, nullptr);
    EXPECT_FLOAT_EQ(f0->rect.x0, layout.axis.x0);
    EXPECT_EQ(f0->label, "F0");
  }
}

TEST(TimelineLayout, PanelsShareOneAxisSoStepLengthsAreInProportion) {
  PIPELAB_DEMO_PANELS(panels);
  const auto layout = demo_layout(panels);
  const double longest = std::max(panels[0].step_us, panels[1].step_us);
  EXPECT_DOUBLE_EQ(layout.axis.t1_us, longest);
  const double w0 = layout.panels[0].step_end_x - layout.axis.x0;
  const double w1 = layout.panels[1].step_end_x - layout.axis.x0;
  EXPECT_NEAR(w0 / w1, panels[0].step_us / panels[1].step_us, 1e-4);
  EXPECT_GT(w0, w1) << "naive's step is longer than GPipe's";
}

TEST(TimelineLayout, LabelsNameKindAndMicrobatch) {
  EXPECT_EQ(box_label({ActionKind::Forward, 2, 3}), "F3");
  EXPECT_EQ(box_label({ActionKind::Backward, 0, 0}), "B0");
  EXPECT_EQ(box_label({ActionKind::Recompute, 1, 5}), "R5");
  EXPECT_EQ(box_label({ActionKind::OptimizerStep, 1, -1}), "Opt");
  EXPECT_EQ(box_label({ActionKind::BackwardWeight, 1, 4}), "W4");
  EXPECT_EQ(box_label({ActionKind::BackwardWeight, 1, -1}), "W all") << "--w-batch's whole-batch W";
  EXPECT_EQ(box_label({ActionKind::BackwardWeight, 1, -1, 1}), "W allc1");
  EXPECT_EQ(box_label({ActionKind::SendActivation, 1, 0}), "");
}

TEST(BubbleIntervals, AreTheComplementOfComputeInsideTheStep) {
  // Overlapping spans count once; communication is never busy.
  const Panel p =
      synthetic_panel(1, 2,
                      {span(0, ActionKind::Forward, 0, 0, 10), span(0, ActionKind::Forward, 1, 5, 10),
                       span(0, ActionKind::Backward, 0, 20, 10), span(0, ActionKind::SendGrad, 0, 30, 10, Lane::Send)});
  ASSERT_DOUBLE_EQ(p.step_us, 40.0);
  const auto idle = bubble_intervals(p, 0);
  ASSERT_EQ(idle.size(), 2u);
  EXPECT_DOUBLE_EQ(idle[0].start, 15);
  EXPECT_DOUBLE_EQ(idle[0].end, 20);
  EXPECT_DOUBLE_EQ(idle[1].start, 30);
  EXPECT_DOUBLE_EQ(idle[1].end, 40);
}

TEST(BubbleIntervals, AreRelativeToTheFirstEvent) {
  const Panel p =
      synthetic_panel(2, 1, {span(0, ActionKind::Forward, 0, 100, 10), span(1, ActionKind::Forward, 0, 110, 10)});
  EXPECT_DOUBLE_EQ(p.origin_us, 100);
  const auto idle = bubble_intervals(p, 1);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_DOUBLE_EQ(idle[0].start, 0);
  EXPECT_DOUBLE_EQ(idle[0].end, 10);
}

TEST(BubbleIntervals, AddUpToTheMeasuredBubbleFraction) {
  PIPELAB_DEMO_PANELS(panels);
  for (const Panel& p : panels) {
    double idle = 0;
    for (int d = 0; d < p.devices(); ++d)
      for (const Interval& i : bubble_intervals(p, d)) idle += i.end - i.start;
    EXPECT_NEAR(idle / (p.devices() * p.step_us), p.metrics.bubble_fraction, 1e-9) << p.title;
  }
  // GPipe K=4: GPU 3 waits for three forwards before its first F (the fill).
  const auto idle3 = bubble_intervals(panels[1], 3);
  ASSERT_FALSE(idle3.empty());
  EXPECT_DOUBLE_EQ(idle3[0].start, 0.0);
  const TimelineLayout layout = demo_layout(panels);
  const BoxLayout* f0 = find_box(panels[1], layout.panels[1], ActionKind::Forward, 3, 0);
  ASSERT_NE(f0, nullptr);
  EXPECT_DOUBLE_EQ(idle3[0].end, f0->start_us);
}

TEST(TimelineLayout, BubbleRectsLieInTheComputeLane) {
  PIPELAB_DEMO_PANELS(panels);
  const auto layout = demo_layout(panels);
  for (const auto& pl : layout.panels) {
    ASSERT_FALSE(pl.bubbles.empty());
    for (const BubbleLayout& b : pl.bubbles) {
      const Rect& lane = pl.rows[static_cast<std::size_t>(b.device)].compute;
      EXPECT_EQ(b.rect.y0, lane.y0);
      EXPECT_EQ(b.rect.y1, lane.y1);
      EXPECT_FLOAT_EQ(b.rect.x0, layout.axis.x(b.start_us));
      EXPECT_LE(b.rect.x1, pl.step_end_x + 1e-3f);
    }
  }
}

TEST(TimelineLayout, ExecutedFractionFollowsThePlayhead) {
  EXPECT_EQ(executed_fraction(10, 20, 5), 0.0);
  EXPECT_EQ(executed_fraction(10, 20, 15), 0.5);
  EXPECT_EQ(executed_fraction(10, 20, 20), 1.0);
  EXPECT_EQ(executed_fraction(10, 10, 10), 1.0);
}

TEST(TimelineLayout, NoPanelsGiveAnEmptyLayout) {
  TimelineParams params;
  params.canvas = {0, 0, 800, 400};
  const auto layout = layout_timeline({}, params, dark_palette());
  EXPECT_TRUE(layout.panels.empty());
}

TEST(ScreenLayout, SplitsTheWindowWithoutOverlap) {
  for (bool controls : {true, false}) {
    ScreenParams p;
    p.show_controls = controls;
    const ScreenLayout s = layout_screen(p);
    const Rect window{0, 0, static_cast<float>(p.width), static_cast<float>(p.height)};
    for (const Rect& r : {s.toolbar, s.timeline, s.metrics, s.memory}) {
      EXPECT_FALSE(r.empty());
      EXPECT_GE(r.x0, window.x0);
      EXPECT_LE(r.x1, window.x1);
      EXPECT_GE(r.y0, window.y0);
      EXPECT_LE(r.y1, window.y1);
    }
    EXPECT_EQ(s.toolbar.y1, s.timeline.y0);
    EXPECT_EQ(s.timeline.y1, s.metrics.y0);
    EXPECT_EQ(s.metrics.x1, s.memory.x0);
    EXPECT_GT(s.timeline.height(), s.metrics.height()) << "the timeline is the biggest panel";
    EXPECT_EQ(s.controls.empty(), !controls);
    EXPECT_EQ(s.timeline.x0, controls ? s.controls.x1 : 0.0f);
  }
}

TEST(Palette, KindsAndBubbleAreDistinctAndShadesStayApart) {
  for (const Palette& p : {dark_palette(), presentation_palette()}) {
    const Rgba f = action_fill(p, ActionKind::Forward, 0, 4);
    const Rgba b = action_fill(p, ActionKind::Backward, 0, 4);
    const Rgba r = action_fill(p, ActionKind::Recompute, 0, 4);
    for (const auto& pair : {std::pair{f, b},
                             {f, r},
                             {b, r},
                             {f, p.bubble},
                             {b, p.bubble},
                             {r, p.bubble},
                             {p.bubble, p.canvas},
                             {p.bubble, p.bubble_hatch}})
      EXPECT_GT(colour_distance(pair.first, pair.second), 40);
    EXPECT_GT(colour_distance(f, action_fill(p, ActionKind::Forward, 3, 4)), 40) << "F0 and F3 differ";
    EXPECT_EQ(action_fill(p, ActionKind::Forward, 0, 1), p.forward);
    EXPECT_NE(label_colour_on(p.canvas), p.canvas);
  }
}

TEST(Palette, HatchPhaseIsPeriodicAlongTheDiagonal) {
  const Vec2 o{10, 20};
  EXPECT_FLOAT_EQ(hatch_phase({10, 20}, o), 0.0f);
  EXPECT_FLOAT_EQ(hatch_phase({16, 20}, o), 6.0f);
  EXPECT_FLOAT_EQ(hatch_phase({16 + kHatchSpacingPx, 20}, o), 6.0f);
  EXPECT_FLOAT_EQ(hatch_phase({4, 20}, o), 6.0f) << "negative offsets wrap";
}

}  // namespace
}  // namespace pipelab::viz
