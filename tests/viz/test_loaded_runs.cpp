// test_loaded_runs.cpp — with trace files loaded, the controls describe the loaded runs
// (their K, M, schedule and backend), not the live demo's settings; the theory row names
// the formula of the run's own theory.
//
// The reference is the file itself: its "pipelab" object read with nlohmann::json here,
// not through pipelab's trace reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipelab/error.h"
#include "pipelab/trace/trace_writer.h"
#include "pipelab_viz/live_run.h"
#include "pipelab_viz/panel.h"

namespace pipelab::viz {
namespace {

nlohmann::json pipelab_meta(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in).at("pipelab");
}

TEST(LoadedRuns, SummariesAreTheFilesOwnKMScheduleAndBackend) {
  // Anything but the live defaults (K=4, M=4, gpipe, no remat): 1F1B + remat, K=3, M=6.
  LiveSettings settings;
  settings.devices = 3;
  settings.microbatches = 6;
  settings.schedule = ScheduleKind::OneFOneB;
  settings.remat = true;
  std::vector<Panel> live;
  try {
    live = run_live(settings);
  } catch (const NotImplemented& e) {
    GTEST_SKIP() << e.message();
  }
  ASSERT_EQ(live.size(), 2u);
  std::vector<std::string> paths;
  std::vector<Panel> loaded;
  for (std::size_t i = 0; i < live.size(); ++i) {
    paths.push_back(::testing::TempDir() + "pipelab_viz_loaded_" + std::to_string(i) + ".json");
    write_chrome_trace_file(live[i].trace, paths.back());
    loaded.push_back(load_panel(paths.back()));
  }
  const std::vector<LoadedRunSummary> runs = loaded_run_summaries(loaded);
  ASSERT_EQ(runs.size(), 2u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const nlohmann::json meta = pipelab_meta(paths[i]);
    EXPECT_EQ(runs[i].source, paths[i]);
    EXPECT_EQ(runs[i].devices, meta.at("devices").get<int>());
    EXPECT_EQ(runs[i].microbatches, meta.at("microbatches").get<int>());
    EXPECT_EQ(runs[i].schedule, meta.at("schedule").get<std::string>());
    EXPECT_EQ(runs[i].backend, meta.at("backend").get<std::string>());
  }
  // And those are the settings run, not the live defaults.
  EXPECT_EQ(runs[0].schedule, "naive+remat");
  EXPECT_EQ(runs[0].microbatches, 1);
  EXPECT_EQ(runs[1].schedule, "1f1b+remat");
  EXPECT_EQ(runs[1].devices, 3);
  EXPECT_EQ(runs[1].microbatches, 6);
  EXPECT_EQ(runs[1].backend, "sim");
}

TEST(TheoryLabel, NamesTheFormulaOfTheRunsOwnTheory) {
  LiveSettings settings;  // K=4, M=4: naive and GPipe
  try {
    for (bool remat : {false, true}) {
      settings.remat = remat;
      for (const Panel& p : run_live(settings)) {
        const std::string label = theory_bubble_label(p);
        const int k = p.devices(), m = p.is_naive() ? 1 : p.microbatches();
        char value[32];
        std::snprintf(value, sizeof value, "%.1f%%", 100.0 * p.trace.meta.theory_bubble_fraction);
        EXPECT_EQ(label.rfind(value, 0), 0u) << label << ": starts with the trace's own theory";
        const std::string fill_drain = std::to_string(k - 1) + "/" + std::to_string(m + k - 1);
        if (remat) {
          EXPECT_EQ(label.find(fill_drain), std::string::npos) << label << ": not the no-remat fraction";
          EXPECT_NE(label.find("remat"), std::string::npos) << label;
          EXPECT_NE(theory_bubble_formula(p).find("F+B+R"), std::string::npos) << theory_bubble_formula(p);
        } else {
          EXPECT_NE(label.find("= " + fill_drain), std::string::npos) << label;
          EXPECT_EQ(theory_bubble_formula(p), p.is_naive() ? "(K-1)/K" : "(K-1)/(M+K-1)");
          // The fraction shown is the value shown: (K-1)/(M+K-1) from K and M here.
          EXPECT_NEAR(p.trace.meta.theory_bubble_fraction, (k - 1.0) / (m + k - 1.0), 1e-12) << label;
        }
      }
    }
  } catch (const NotImplemented& e) {
    GTEST_SKIP() << e.message();
  }
}

TEST(LoadedRuns, NoPanelsNoSummaries) { EXPECT_TRUE(loaded_run_summaries({}).empty()); }

}  // namespace
}  // namespace pipelab::viz
