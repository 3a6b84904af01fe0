// test_playback.cpp — the playhead: play/pause, loop, step to the next action, scrub, speed.
#include <gtest/gtest.h>

#include "pipelab_viz/playback.h"
#include "viz_test_util.h"

namespace pipelab::viz {
namespace {

TEST(Playback, AdvancesAtSpeedAndStopsAtTheEnd) {
  Playback pb;
  pb.end_us = 500;
  pb.playing = true;
  pb.advance(kSecondsPerStepAt1x / 2);
  EXPECT_NEAR(pb.time_us, 250, 1e-9);
  pb.speed = 2.0f;
  pb.advance(kSecondsPerStepAt1x);
  EXPECT_EQ(pb.time_us, 500);
  EXPECT_FALSE(pb.playing) << "without loop the animation stops at the end";
}

TEST(Playback, LoopWrapsAround) {
  Playback pb;
  pb.end_us = 100;
  pb.loop = true;
  pb.playing = true;
  pb.time_us = 90;
  pb.advance(kSecondsPerStepAt1x * 0.2);
  EXPECT_NEAR(pb.time_us, 10, 1e-9);
  EXPECT_TRUE(pb.playing);
}

TEST(Playback, PausedDoesNotMoveAndSpeedIsClamped) {
  Playback pb;
  pb.end_us = 100;
  pb.time_us = 30;
  pb.advance(10);
  EXPECT_EQ(pb.time_us, 30);
  pb.speed = 50;
  pb.advance(0);
  EXPECT_EQ(pb.speed, kMaxSpeed);
  pb.speed = 0;
  pb.advance(0);
  EXPECT_EQ(pb.speed, kMinSpeed);
}

TEST(Playback, ToggleAtTheEndRestartsFromZero) {
  Playback pb;
  pb.end_us = 100;
  pb.time_us = 100;
  pb.toggle();
  EXPECT_TRUE(pb.playing);
  EXPECT_EQ(pb.time_us, 0);
  pb.toggle();
  EXPECT_FALSE(pb.playing);
}

TEST(Playback, StepsJumpBetweenActionBoundaries) {
  Playback pb;
  pb.end_us = 40;
  pb.playing = true;
  const std::vector<double> b{0, 10, 15, 30, 40};
  pb.step_forward(b);
  EXPECT_FALSE(pb.playing) << "stepping pauses";
  EXPECT_EQ(pb.time_us, 10);
  pb.step_forward(b);
  EXPECT_EQ(pb.time_us, 15);
  pb.step_back(b);
  EXPECT_EQ(pb.time_us, 10);
  pb.time_us = 12;
  pb.step_back(b);
  EXPECT_EQ(pb.time_us, 10);
  pb.time_us = 40;
  pb.step_forward(b);
  EXPECT_EQ(pb.time_us, 40);
  pb.home();
  EXPECT_EQ(pb.time_us, 0);
  pb.step_back(b);
  EXPECT_EQ(pb.time_us, 0);
}

TEST(Playback, SeekClampsAndNewPanelsKeepAnEndedPlayheadAtTheEnd) {
  Playback pb;
  pb.end_us = 100;
  pb.seek(-5);
  EXPECT_EQ(pb.time_us, 0);
  pb.seek(500);
  EXPECT_EQ(pb.time_us, 100);
  pb.set_end(300);
  EXPECT_EQ(pb.time_us, 300) << "a finished picture stays finished when K or M changes";
  pb.seek(50);
  pb.set_end(20);
  EXPECT_EQ(pb.time_us, 20);
}

TEST(Playback, BoundariesAreSortedUniqueComputeEdges) {
  const Panel p = testing::synthetic_panel(
      2, 1,
      {testing::span(0, ActionKind::Forward, 0, 0, 10), testing::span(1, ActionKind::Forward, 0, 10, 10),
       testing::span(0, ActionKind::SendActivation, 0, 10, 3, Lane::Send)});
  EXPECT_EQ(action_boundaries({p}), (std::vector<double>{0, 10, 20}));
}

}  // namespace
}  // namespace pipelab::viz
