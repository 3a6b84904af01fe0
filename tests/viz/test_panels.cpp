// test_panels.cpp — panels from trace files (and their errors), memory series, SVG export,
// the background runner.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/trace/trace_writer.h"
#include "pipelab_viz/memory_series.h"
#include "pipelab_viz/svg_export.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

using testing::demo_panels;

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "pipelab_viz_" + name; }

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LoadPanel, RoundTripsALiveRunThroughAFile) {
  PIPELAB_DEMO_PANELS(panels);
  const std::string path = temp_path("gpipe.json");
  write_chrome_trace_file(panels[1].trace, path);
  const Panel loaded = load_panel(path);
  EXPECT_EQ(loaded.title, "GPipe");
  EXPECT_EQ(loaded.source, path);
  EXPECT_EQ(loaded.trace.events.size(), panels[1].trace.events.size());
  EXPECT_DOUBLE_EQ(loaded.step_us, panels[1].step_us);
  EXPECT_DOUBLE_EQ(loaded.metrics.bubble_fraction, panels[1].metrics.bubble_fraction);
}

TEST(LoadPanel, TheGapOfAFileIsTheLiveRunsFromTheRebuiltSchedule) {
  // A trace file carries no programs: the panel rebuilds the registry schedule its
  // metadata names (zbv: K, M and its two chunks from the config) and decomposes the step.
  // Oracles: the live run's own gap (decomposed with the programs that ran), and the
  // metrics, computed by other code: compute / T is the mean utilization.
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.schedule = ScheduleKind::Zbv;
  c.devices = 3;
  c.microbatches = 6;
  c.model.layers = 6;
  const RunResult run = run_step(c);
  const Panel live = make_panel(run);
  const std::string path = temp_path("zbv.json");
  write_chrome_trace_file(run.trace, path);
  const Panel loaded = load_panel(path);
  ASSERT_TRUE(live.gap.has_value()) << live.gap_unavailable;
  ASSERT_TRUE(loaded.gap.has_value()) << loaded.gap_unavailable;
  EXPECT_NEAR(loaded.gap->mean.compute_ms, live.gap->mean.compute_ms, 1e-9);
  EXPECT_NEAR(loaded.gap->mean.bubble_ms, live.gap->mean.bubble_ms, 1e-9);
  EXPECT_NEAR(loaded.gap->mean.compute_ms / loaded.gap->step_ms, loaded.metrics.mean_utilization, 1e-9);
  EXPECT_NEAR(loaded.gap->mean.total_ms(), loaded.gap->step_ms, 1e-9);
  // A custom schedule's programs are not in its file: n/a, with the reason.
  Trace custom = run.trace;
  custom.meta.schedule_kind = ScheduleKind::Custom;
  const Panel unknown = make_panel(custom, "custom.json");
  EXPECT_FALSE(unknown.gap.has_value());
  EXPECT_NE(unknown.gap_unavailable.find("custom schedule"), std::string::npos) << unknown.gap_unavailable;
}

TEST(LoadPanel, AWBatchFileIsRebuiltWithItsWholeBatchW) {
  // --w-batch changes the programs (one whole-batch W per device): the file says so, and
  // its gap is the live run's. Oracle as above: the live run's own decomposition.
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.schedule = ScheduleKind::ZbH1;
  c.devices = 3;
  c.microbatches = 6;
  c.model.layers = 6;
  c.w_batch = true;
  const RunResult run = run_step(c);
  const Panel live = make_panel(run);
  const std::string path = temp_path("zb-h1-w-batch.json");
  write_chrome_trace_file(run.trace, path);
  const Panel loaded = load_panel(path);
  EXPECT_EQ(loaded.title, "ZB-H1 (zero bubble) + w-batch");
  ASSERT_TRUE(live.gap.has_value()) << live.gap_unavailable;
  ASSERT_TRUE(loaded.gap.has_value()) << loaded.gap_unavailable;
  EXPECT_NEAR(loaded.gap->mean.compute_ms, live.gap->mean.compute_ms, 1e-9);
  EXPECT_NEAR(loaded.gap->mean.bubble_ms, live.gap->mean.bubble_ms, 1e-9);
  EXPECT_NEAR(loaded.gap->mean.total_ms(), loaded.gap->step_ms, 1e-9);
}

TEST(LoadPanel, BrokenAndForeignFilesThrowErrorsNamingThePath) {
  const std::string broken = temp_path("broken.json");
  write_file(broken, "{\"traceEvents\": [ {\"ph\":\"X\", ");
  const std::string foreign = temp_path("foreign.json");
  write_file(foreign, "{\"traceEvents\": [], \"otherData\": {}}");
  const std::string missing = temp_path("does-not-exist.json");
  for (const std::string& path : {broken, foreign, missing}) {
    try {
      load_panel(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    }
  }
  try {
    load_panel(foreign);
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("pipelab"), std::string::npos) << "names the missing field: " << e.message();
  }
}

TEST(LoadPanel, NaiveGoesOnTopWhateverTheFileOrder) {
  PIPELAB_DEMO_PANELS(panels);
  std::vector<Panel> swapped{panels[1], panels[0]};
  order_naive_first(swapped);
  EXPECT_TRUE(swapped[0].is_naive());
  EXPECT_FALSE(swapped[1].is_naive());
  std::vector<Panel> two_pipelines{panels[1], panels[1]};
  order_naive_first(two_pipelines);
  EXPECT_EQ(two_pipelines[0].title, "GPipe");
}

TEST(LoadPanel, OldTraceWithOnlyTheScheduleNameLoads) {
  // A trace from before pipelab.schedule_kind / pipelab.remat: the panel still knows
  // naive from gpipe+remat (the reader derives the fields; the panel never parses names).
  for (const auto& [name, title, naive] : {std::tuple{"naive", "Naive model parallelism", true},
                                           std::tuple{"gpipe+remat", "GPipe + remat", false}}) {
    Trace t;
    t.meta.backend = "sim";
    t.meta.devices = 1;
    t.meta.microbatches = 1;
    t.events = {testing::span(0, ActionKind::Forward, 0, 0, 10)};
    std::ostringstream out;
    write_chrome_trace(t, out);
    nlohmann::json doc = nlohmann::json::parse(out.str());
    doc["pipelab"].erase("schedule_kind");
    doc["pipelab"].erase("remat");
    doc["pipelab"]["schedule"] = name;
    const std::string path = temp_path("old-format.json");
    write_file(path, doc.dump());
    const Panel p = load_panel(path);
    EXPECT_EQ(p.title, title) << name;
    EXPECT_EQ(p.is_naive(), naive) << name;
  }
}

TEST(PanelText, TheoryIsTheTracesNotRecomputed) {
  Panel p = testing::synthetic_panel(2, 4, {testing::span(0, ActionKind::Forward, 0, 0, 10)});
  EXPECT_EQ(p.theory.bubble_fraction, 0.0) << "a hand-made trace without theory shows none";
  Trace t = p.trace;
  t.meta.theory_utilization = 0.125;  // not fill-drain's 0.8 for K=2, M=4: read, not computed
  t.meta.theory_bubble_fraction = 0.875;
  p = make_panel(std::move(t), "synthetic");
  EXPECT_EQ(p.theory.utilization, 0.125);
  EXPECT_EQ(p.theory.bubble_fraction, 0.875);
  EXPECT_NE(panel_summary(p).find("(theory 87.5%)"), std::string::npos) << panel_summary(p);
}

TEST(PanelText, TitlesAndSummariesComeFromTheTrace) {
  EXPECT_EQ(schedule_title(ScheduleKind::Naive, false), "Naive model parallelism");
  EXPECT_EQ(schedule_title(ScheduleKind::Gpipe, true), "GPipe + remat");
  EXPECT_EQ(schedule_title(ScheduleKind::OneFOneB, false), "1F1B");
  EXPECT_EQ(schedule_title(ScheduleKind::ZbH1, true, true), "ZB-H1 (zero bubble) + remat + w-batch");
  EXPECT_EQ(schedule_title(ScheduleKind::Custom, false), "custom");
  // Every registry row has a title of its own (a missing one reads "?").
  for (const ScheduleInfo& row : schedule_registry()) EXPECT_NE(schedule_title(row.kind, false), "?") << row.name;
  PIPELAB_DEMO_PANELS(panels);
  EXPECT_NE(panel_heading(panels[1]).find("K=4, M=4"), std::string::npos);
  const std::string summary = panel_summary(panels[1], &panels[0]);
  EXPECT_NE(summary.find("bubble 42.9% (theory 42.9%)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("x vs naive"), std::string::npos) << summary;
}

TEST(MemorySeries, GpipeStashGrowsInForwardAndDrainsInBackward) {
  PIPELAB_DEMO_PANELS(panels);
  const Panel& gpipe = panels[1];
  const auto series = memory_series(gpipe, 0, MemoryView::Stash);
  ASSERT_GE(series.size(), 3u);
  EXPECT_EQ(series.front().t_us, 0.0);
  EXPECT_DOUBLE_EQ(series.back().t_us, gpipe.step_us);
  EXPECT_EQ(series.back().bytes, 0u) << "all stashes freed by the end of the step";
  std::uint64_t peak = 0;
  for (const auto& p : series) peak = std::max(peak, p.bytes);
  // GPU 0 holds all M micro-batches' stashes after its last forward (F3 ends at 4 F-times).
  double last_forward_end = 0;
  for (const TraceEvent& e : gpipe.trace.events)
    if (e.device == 0 && e.action.kind == ActionKind::Forward)
      last_forward_end = std::max(last_forward_end, e.end_us());
  std::uint64_t after_forwards = 0;
  for (const auto& p : series)
    if (p.t_us <= last_forward_end - gpipe.origin_us) after_forwards = p.bytes;
  EXPECT_EQ(after_forwards, peak);
  EXPECT_GE(memory_max(gpipe, MemoryView::Stash), peak) << "the y axis fits every device";
  EXPECT_GT(memory_max(gpipe, MemoryView::Total), peak) << "total adds params and grads";
}

TEST(MemorySeries, RematLowersThePeakStash) {
  LiveSettings plain;
  plain.compare_with_naive = false;
  LiveSettings remat = plain;
  remat.remat = true;
  try {
    const Panel a = run_live(plain).at(0);
    const Panel b = run_live(remat).at(0);
    EXPECT_EQ(b.title, "GPipe + remat");
    EXPECT_LT(memory_max(b, MemoryView::Stash), memory_max(a, MemoryView::Stash));
  } catch (const NotImplemented& e) {
    GTEST_SKIP() << e.message();
  }
}

TEST(MemorySeries, PolylineIsAStepFunctionCutAtThePlayhead) {
  const std::vector<MemoryPoint> s{{0, 0}, {10, 100}, {20, 50}, {40, 50}};
  const TimeAxis axis{0, 40, 0, 400};
  const Rect plot{0, 0, 400, 100};
  const auto full = memory_polyline(s, axis, plot, 100, 40);
  ASSERT_EQ(full.size(), 7u);
  EXPECT_FLOAT_EQ(full[1].x, 100);
  EXPECT_FLOAT_EQ(full[1].y, 100) << "holds 0 bytes (the bottom) until t = 10";
  EXPECT_FLOAT_EQ(full[2].y, 0) << "then jumps to 100 bytes (the top)";
  const auto cut = memory_polyline(s, axis, plot, 100, 15);
  EXPECT_FLOAT_EQ(cut.back().x, 150);
  EXPECT_FLOAT_EQ(cut.back().y, 0);
}

TEST(SvgExport, DrawsEveryBoxBubbleAndLabelFromTheLayout) {
  PIPELAB_DEMO_PANELS(panels);
  const std::string path = temp_path("timeline.svg");
  write_timeline_svg(panels, path, false, true);
  const std::string svg = read_file(path);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  std::size_t rects = 0;
  for (std::size_t at = svg.find("<rect"); at != std::string::npos; at = svg.find("<rect", at + 1)) ++rects;
  std::size_t spans = 0;
  for (const Panel& p : panels) spans += p.trace.events.size();
  EXPECT_GT(rects, spans) << "a rect per span plus bubbles, lanes, bars";
  EXPECT_NE(svg.find(">F0<"), std::string::npos);
  EXPECT_NE(svg.find(">B3<"), std::string::npos);
  EXPECT_NE(svg.find(">GPU 3<"), std::string::npos);
  EXPECT_NE(svg.find("url(#bubble)"), std::string::npos);
  EXPECT_NE(svg.find("Naive model parallelism"), std::string::npos);
}

TEST(SvgExport, UnwritablePathThrowsNamingIt) {
  const std::string path = "/nonexistent-folder/x.svg";
  try {
    write_timeline_svg({}, path, false, true);
    ADD_FAILURE() << "wrote to " << path;
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(path), std::string::npos);
  }
}

TEST(BackgroundRun, RunsOffTheCallingThreadAndHandsBackPanels) {
  BackgroundRun run;
  LiveSettings s;  // sim: fast, but the same path as cpu
  ASSERT_TRUE(run.start(s));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (run.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_FALSE(run.running());
  BackgroundRun::Outcome out = run.take();
  ASSERT_TRUE(out.ready);
  if (out.error.find("not implemented") != std::string::npos) GTEST_SKIP() << out.error;
  EXPECT_TRUE(out.error.empty()) << out.error;
  ASSERT_EQ(out.panels.size(), 2u);
  EXPECT_TRUE(out.panels[0].is_naive());
  EXPECT_EQ(run.phases_done(), run.phases_total());
  EXPECT_FALSE(run.take().ready) << "a result is taken once";
}

TEST(BackgroundRun, ErrorsComeBackAsText) {
  BackgroundRun run;
  LiveSettings s;
  s.devices = 40;  // more stages than the model's 16 layers: validate_config refuses
  ASSERT_TRUE(run.start(s));
  while (run.running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const BackgroundRun::Outcome out = run.take();
  ASSERT_TRUE(out.ready);
  EXPECT_FALSE(out.error.empty());
  EXPECT_TRUE(out.panels.empty());
}

}  // namespace
}  // namespace pipelab::viz
