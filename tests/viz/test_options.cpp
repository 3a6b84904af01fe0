// test_options.cpp — the pipelab-viz command line.
#include <gtest/gtest.h>

#include <vector>

#include "pipelab_viz/options.h"

namespace pipelab::viz {
namespace {

ParsedArgs parse(std::vector<const char*> args) {
  args.insert(args.begin(), "pipelab-viz");
  return parse_args(static_cast<int>(args.size()), args.data());
}

TEST(Options, NoArgumentsIsTheClassroomDemo) {
  const ParsedArgs r = parse({});
  ASSERT_FALSE(r.exit) << r.message;
  const VizOptions& o = r.options;
  EXPECT_TRUE(o.trace_files.empty());
  EXPECT_EQ(o.live.devices, 4);
  EXPECT_EQ(o.live.microbatches, 4);
  EXPECT_EQ(o.live.schedule, ScheduleKind::Gpipe);
  EXPECT_TRUE(o.live.compare_with_naive);
  EXPECT_EQ(o.live.backend, BackendKind::Sim);
  EXPECT_FALSE(o.headless);
  EXPECT_EQ(o.width, kDefaultWidth);
  EXPECT_EQ(o.height, kDefaultHeight);
}

TEST(Options, TraceFilesAndHeadlessOutputs) {
  const ParsedArgs r = parse({"a.json", "b.json", "--headless", "--frames", "5", "--screenshot", "out.png", "--svg",
                              "out.svg", "--size", "1280x720", "--presentation", "--gpu0-top", "--playhead", "0.5"});
  ASSERT_FALSE(r.exit) << r.message;
  EXPECT_EQ(r.options.trace_files, (std::vector<std::string>{"a.json", "b.json"}));
  EXPECT_TRUE(r.options.headless);
  EXPECT_EQ(r.options.frames, 5);
  EXPECT_EQ(r.options.screenshot_path, "out.png");
  EXPECT_EQ(r.options.svg_path, "out.svg");
  EXPECT_EQ(r.options.width, 1280);
  EXPECT_EQ(r.options.height, 720);
  EXPECT_TRUE(r.options.presentation);
  EXPECT_TRUE(r.options.gpu0_on_top);
  EXPECT_DOUBLE_EQ(r.options.playhead, 0.5);
  EXPECT_FALSE(r.options.bench);
}

TEST(Options, MoreThanTwoTraceFilesAreAccepted) {
  // Up to kMaxStackedPanels are stacked; more are accepted here and reported on screen.
  const ParsedArgs r = parse({"a.json", "b.json", "c.json", "d.json", "e.json"});
  ASSERT_FALSE(r.exit) << r.message;
  EXPECT_EQ(r.options.trace_files, (std::vector<std::string>{"a.json", "b.json", "c.json", "d.json", "e.json"}));
}

TEST(Options, BenchNeedsNoOutputFile) {
  const ParsedArgs r = parse({"big.json", "--headless", "--bench", "--frames", "100"});
  ASSERT_FALSE(r.exit) << r.message;
  EXPECT_TRUE(r.options.bench);
  EXPECT_TRUE(r.options.screenshot_path.empty());
}

TEST(Options, LiveSettings) {
  const ParsedArgs r = parse({"-K", "8", "-M", "64", "--schedule", "1f1b", "--single", "--remat", "--backend", "cpu",
                              "--link-gbps", "100", "--link-latency-us", "5", "--stage-skew", "1,2,1"});
  ASSERT_FALSE(r.exit) << r.message;
  const LiveSettings& s = r.options.live;
  EXPECT_EQ(s.devices, 8);
  EXPECT_EQ(s.microbatches, 64);
  EXPECT_EQ(s.schedule, ScheduleKind::OneFOneB);
  EXPECT_FALSE(s.compare_with_naive);
  EXPECT_TRUE(s.remat);
  EXPECT_EQ(s.backend, BackendKind::Cpu);
  EXPECT_FLOAT_EQ(s.link_gbps, 100.0f);
  EXPECT_FLOAT_EQ(s.link_latency_us, 5.0f);
  EXPECT_FLOAT_EQ(s.stage_skew[1], 2.0f);
  EXPECT_FLOAT_EQ(s.stage_skew[3], 1.0f);
  const RunConfig c = to_run_config(s);
  EXPECT_EQ(c.sim.stage_skew, (std::vector<double>{1, 2, 1, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(to_run_config(LiveSettings{}).sim.stage_skew.empty()) << "no skew: balanced stages";
}

TEST(Options, UsageErrorsNameTheFlagAndExitWith2) {
  for (const std::vector<const char*>& bad : {std::vector<const char*>{"-K", "9"},
                                              {"-M", "0"},
                                              {"--size", "big"},
                                              {"--size", "100x100"},
                                              {"--schedule", "pipedream"},
                                              {"--headless"},
                                              {"--stage-skew", "1,0,1"},
                                              {"--frames", "0"},
                                              {"--bogus"}}) {
    const ParsedArgs r = parse(bad);
    EXPECT_TRUE(r.exit) << bad[0];
    EXPECT_EQ(r.exit_code, 2) << bad[0];
    EXPECT_NE(r.message.find("pipelab-viz: error:"), std::string::npos) << r.message;
  }
  EXPECT_NE(parse({"--size", "big"}).message.find("--size"), std::string::npos);
  EXPECT_NE(parse({"--headless"}).message.find("--screenshot"), std::string::npos);
}

TEST(Options, HelpExitsWithZeroAndListsTheKeys) {
  const ParsedArgs r = parse({"--help"});
  EXPECT_TRUE(r.exit);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.message.find("--headless"), std::string::npos);
  EXPECT_NE(r.message.find("space"), std::string::npos);
}

}  // namespace
}  // namespace pipelab::viz
