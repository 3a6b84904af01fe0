// test_stacked_runs.cpp — up to six runs stacked on one time axis; a seventh is reported,
// not drawn; the zero-bubble I and W boxes are drawn and labelled apart from B; the live
// schedule picker lists the registry.
//
// References: the time → pixel mapping is checked against x0 + t · (x1 - x0) / T computed
// here from the canvas, not through TimeAxis; the picker against schedule_registry().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "pipelab/schedule/registry.h"
#include "pipelab_viz/timeline_layout.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

using testing::span;
using testing::synthetic_panel;

const Rect kCanvas{320, 42, 1600, 880};

TimelineLayout lay_out(const std::vector<Panel>& panels, std::size_t runs_not_shown = 0) {
  TimelineParams params;
  params.canvas = kCanvas;
  params.font_px = 16.0f;
  params.runs_not_shown = runs_not_shown;
  return layout_timeline(panels, params, dark_palette());
}

// Run i of a stack: K = 2 + i % 3 devices, a different step length each, and one span
// (device 0, F0 at 10 µs for 20 µs) that every run has, so its box must be identical.
Panel run(int i, ScheduleKind kind = ScheduleKind::Gpipe) {
  const int k = 2 + i % 3;
  std::vector<TraceEvent> events{span(0, ActionKind::Forward, 0, 10, 20)};
  for (int d = 0; d < k; ++d) events.push_back(span(d, ActionKind::Backward, 1, 40 + 10 * d, 30 + 25 * i));
  Panel p = synthetic_panel(k, 2, events, kind);
  p.source = "run" + std::to_string(i) + ".json";
  return p;
}

std::vector<Panel> runs(int n) {
  std::vector<Panel> panels;
  for (int i = 0; i < n; ++i) panels.push_back(run(i));
  return panels;
}

TEST(StackedRuns, SixPanelsShareOneTimeAxis) {
  const std::vector<Panel> panels = runs(6);
  const TimelineLayout layout = lay_out(panels);
  ASSERT_EQ(layout.panels.size(), 6u);
  EXPECT_EQ(layout.runs_not_shown, 0u);
  EXPECT_TRUE(layout.note.empty());
  double longest = 0;
  for (const Panel& p : panels) longest = std::max(longest, p.step_us);
  EXPECT_DOUBLE_EQ(layout.axis.t1_us, longest) << "the axis spans the longest of the six steps";
  const float x0 = layout.axis.x0, x1 = layout.axis.x1;
  const auto expected_x = [&](double t) { return x0 + t * (x1 - x0) / longest; };  // one scale for all

  std::set<std::pair<float, float>> f0_boxes;  // the shared span's box, per panel
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const PanelLayout& pl = layout.panels[i];
    // Stacked top to bottom in order, without overlap, inside the canvas.
    EXPECT_GE(pl.frame.y0, kCanvas.y0);
    if (i > 0) {
      EXPECT_GE(pl.frame.y0, layout.panels[i - 1].frame.y1) << "panel " << i;
    }
    ASSERT_EQ(pl.rows.size(), static_cast<std::size_t>(panels[i].devices()));
    for (const RowLayout& row : pl.rows) {
      EXPECT_EQ(row.compute.x0, x0) << "panel " << i;
      EXPECT_EQ(row.compute.x1, x1) << "panel " << i;
    }
    // Every box at its time on the one scale; the step's end too.
    EXPECT_NEAR(pl.step_end_x, expected_x(panels[i].step_us), 0.01) << "panel " << i;
    for (const BoxLayout& box : pl.boxes) {
      if (box.snapped) continue;
      EXPECT_NEAR(box.rect.x0, expected_x(box.start_us), 0.01) << "panel " << i;
      EXPECT_NEAR(box.rect.x1, expected_x(box.end_us), 0.01) << "panel " << i;
    }
    const BoxLayout* f0 = find_box(panels[i], pl, ActionKind::Forward, 0, 0);
    ASSERT_NE(f0, nullptr) << "panel " << i;
    f0_boxes.insert({f0->rect.x0, f0->rect.x1});
    // Each panel keeps its own title: schedule, K and M.
    const std::string heading = panel_heading(panels[i]);
    EXPECT_NE(heading.find("GPipe"), std::string::npos) << heading;
    EXPECT_NE(heading.find("K=" + std::to_string(panels[i].devices())), std::string::npos) << heading;
    EXPECT_NE(heading.find("M=2"), std::string::npos) << heading;
  }
  EXPECT_EQ(f0_boxes.size(), 1u) << "the same span is the same box in every panel";
  EXPECT_GE(layout.axis_band.y0, layout.panels.back().frame.y1) << "one axis, under the last panel";
}

TEST(StackedRuns, ASeventhRunIsReportedNotDrawn) {
  const std::vector<Panel> panels = runs(7);
  const TimelineLayout layout = lay_out(panels);
  ASSERT_EQ(layout.panels.size(), kMaxStackedPanels);
  EXPECT_EQ(layout.runs_not_shown, 1u);
  EXPECT_NE(layout.note.find("7 runs loaded"), std::string::npos) << layout.note;
  EXPECT_NE(layout.note.find("first 6"), std::string::npos) << layout.note;
  EXPECT_FALSE(layout.note_band.empty());
  EXPECT_LE(layout.note_band.y1, layout.panels.front().frame.y0) << "the note sits above the first panel";
  // The axis is the six shown runs' (the seventh's longer step does not stretch it).
  double longest = 0;
  for (std::size_t i = 0; i < kMaxStackedPanels; ++i) longest = std::max(longest, panels[i].step_us);
  EXPECT_LT(longest, panels[6].step_us);
  EXPECT_DOUBLE_EQ(layout.axis.t1_us, longest);
}

TEST(StackedRuns, KeepStackableKeepsTheFirstSixAndCountsTheRest) {
  std::vector<Panel> panels = runs(8);
  EXPECT_EQ(keep_stackable(panels), 2u);
  ASSERT_EQ(panels.size(), kMaxStackedPanels);
  for (std::size_t i = 0; i < panels.size(); ++i) EXPECT_EQ(panels[i].source, "run" + std::to_string(i) + ".json");
  EXPECT_EQ(keep_stackable(panels), 0u) << "six fit";
  // The app drops them before the layout and passes the count: the note says 8.
  const TimelineLayout layout = lay_out(panels, 2);
  EXPECT_EQ(layout.panels.size(), 6u);
  EXPECT_NE(layout.note.find("8 runs loaded"), std::string::npos) << layout.note;
  EXPECT_EQ(stacked_runs_note(6, 0), "");
}

TEST(StackedRuns, LegendListsFBRIW) {
  const Palette palette = dark_palette();
  const TimelineLayout layout = lay_out(runs(1));
  auto colour_of = [&](const std::string& prefix) -> const LegendItem* {
    for (const LegendItem& item : layout.legend)
      if (item.label.rfind(prefix, 0) == 0) return &item;
    return nullptr;
  };
  for (const char* prefix : {"F ", "B ", "R ", "I ", "W "}) EXPECT_NE(colour_of(prefix), nullptr) << prefix;
  ASSERT_NE(colour_of("I "), nullptr);
  ASSERT_NE(colour_of("W "), nullptr);
  EXPECT_EQ(colour_of("I ")->colour, palette.backward_input);
  EXPECT_EQ(colour_of("W ")->colour, palette.backward_weight);
  EXPECT_NE(colour_of("I ")->colour, palette.backward);
  EXPECT_NE(colour_of("W ")->colour, palette.backward);
  // Legend entries do not overlap.
  for (std::size_t a = 0; a < layout.legend.size(); ++a)
    for (std::size_t b = a + 1; b < layout.legend.size(); ++b)
      EXPECT_FALSE(layout.legend[a].swatch.y0 == layout.legend[b].swatch.y0 &&
                   layout.legend[a].swatch.x0 == layout.legend[b].swatch.x0);
}

TEST(StackedRuns, IAndWBoxesAreLabelledAndColouredApartFromB) {
  // One device: B0, then I1 and W1, each 100 µs: wide enough for a label.
  const Panel p = synthetic_panel(1, 2,
                                  {span(0, ActionKind::Backward, 0, 0, 100), span(0, ActionKind::BackwardInput, 1, 100, 100),
                                   span(0, ActionKind::BackwardWeight, 1, 200, 100)},
                                  ScheduleKind::ZbH1);
  const TimelineLayout layout = lay_out({p});
  const BoxLayout* b = find_box(p, layout.panels[0], ActionKind::Backward, 0, 0);
  const BoxLayout* i = find_box(p, layout.panels[0], ActionKind::BackwardInput, 0, 1);
  const BoxLayout* w = find_box(p, layout.panels[0], ActionKind::BackwardWeight, 0, 1);
  ASSERT_TRUE(b && i && w);
  EXPECT_FALSE(i->merged());
  EXPECT_FALSE(w->merged());
  EXPECT_EQ(i->label, "I1");
  EXPECT_EQ(w->label, "W1");
  EXPECT_GT(i->label_px, 0);
  EXPECT_GT(w->label_px, 0);
  EXPECT_NE(i->fill, b->fill);
  EXPECT_NE(w->fill, b->fill);
  EXPECT_NE(i->fill, w->fill);
  EXPECT_NE(panel_heading(p).find("ZB-H1"), std::string::npos) << panel_heading(p);
}

TEST(SchedulePicker, ListsTheRegistryInItsOrder) {
  const std::vector<ScheduleInfo>& registry = schedule_registry();
  const std::vector<const char*> names = schedule_picker_names();
  ASSERT_EQ(names.size(), registry.size());
  const std::string help = schedule_picker_help();
  for (std::size_t i = 0; i < registry.size(); ++i) {
    EXPECT_STREQ(names[i], registry[i].name);
    EXPECT_EQ(schedule_picker_index(registry[i].kind), static_cast<int>(i));
    EXPECT_NE(help.find(std::string(registry[i].name) + ": " + registry[i].title), std::string::npos) << help;
  }
  // The zero-bubble rows are there (the registry has them; a hard-coded list did not).
  const std::set<std::string> listed(names.begin(), names.end());
  EXPECT_TRUE(listed.count("zb-h1"));
  EXPECT_TRUE(listed.count("zb-h2"));
}

TEST(TheoryLabel, ZeroBubbleRowsNameTheirOwnFormulaNotFillDrains) {
  for (const ScheduleKind kind : {ScheduleKind::ZbH1, ScheduleKind::ZbH2}) {
    LiveSettings settings;
    settings.schedule = kind;
    settings.microbatches = 8;
    settings.compare_with_naive = false;
    std::vector<Panel> panels;
    try {
      panels = run_live(settings);
    } catch (const NotImplemented& e) {
      GTEST_SKIP() << e.message();
    }
    ASSERT_EQ(panels.size(), 1u);
    const Panel& p = panels[0];
    const std::string label = theory_bubble_label(p);
    EXPECT_EQ(label.find("= 3/11"), std::string::npos) << label << ": not fill-drain's (K-1)/(M+K-1)";
    EXPECT_NE(label.find(schedule_info(kind).theory_name), std::string::npos) << label;
    EXPECT_EQ(theory_bubble_formula(p), std::string("1 - ") + schedule_info(kind).theory_formula);
    // The run really has I and W spans, and they are drawn.
    const TimelineLayout layout = lay_out(panels);
    EXPECT_NE(find_box(p, layout.panels[0], ActionKind::BackwardInput, 0, 0), nullptr);
    EXPECT_NE(find_box(p, layout.panels[0], ActionKind::BackwardWeight, 0, 0), nullptr);
  }
}

}  // namespace
}  // namespace pipelab::viz
