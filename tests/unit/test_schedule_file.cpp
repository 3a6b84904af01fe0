// test_schedule_file.cpp — the schedule file format (schedule/schedule_file.h): hand-written
// files against hand-written programs, every error naming the file, line and token, and
// schedule_text() → parse_schedule_text() giving back every registry schedule.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/exercise.h"
#include "pipelab/schedule/registry.h"
#include "pipelab/schedule/schedule_file.h"
#include "pipelab/schedule/zbv.h"
#include "action_shorthand.h"

namespace pipelab {
namespace {

using namespace shorthand;  // F, B, SA, ..., make (action_shorthand.h)

// GPipe, K = 2, M = 2, every action written out by hand (drain M-1..0).
const std::vector<std::vector<Action>> kGpipe22 = {
    {F(0, 0), SA(0, 0), F(0, 1), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)},
    {RA(1, 0), F(1, 0), RA(1, 1), F(1, 1), B(1, 1), SG(1, 1), B(1, 0), SG(1, 0), Opt(1)},
};

const char* const kGpipe22Text =
    "# GPipe by hand\n"
    "stages 2 microbatches 2\n"
    "\n"
    "0F0 0F1 0B1 0B0 OPT   # stage 0\n"
    "1F0 1F1 1B1 1B0 OPT\n";

// The message of the pipelab::Error that parsing `text` (named "lesson.txt") throws.
std::string parse_error(const std::string& text) {
  try {
    parse_schedule_text(text, "lesson.txt");
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(ScheduleFile, GpipeByHandIsTheHandWrittenProgram) {
  const Schedule s = parse_schedule_text(kGpipe22Text, "gpipe.txt");
  EXPECT_EQ(s.kind, ScheduleKind::Custom);
  EXPECT_EQ(s.stages, 2);
  EXPECT_EQ(s.microbatches, 2);
  EXPECT_FALSE(s.remat);
  EXPECT_EQ(s.per_stage, kGpipe22);
}

TEST(ScheduleFile, GpipeByHandEqualsTheGenerator) {
  EXPECT_EQ(parse_schedule_text(kGpipe22Text, "gpipe.txt").per_stage, gpipe_schedule(2, 2).per_stage);
}

TEST(ScheduleFile, ExplicitSendsAndReceivesAreTakenAsWritten) {
  const Schedule s = parse_schedule_text(
      "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B1 0B1 0RECV_B0 0B0 OPT\n"
      "1RECV_F0 1F0 1RECV_F1 1F1 1B1 1SEND_B1 1B0 1SEND_B0 OPT\n",
      "explicit.txt");
  EXPECT_EQ(s.per_stage, kGpipe22);
}

TEST(ScheduleFile, WithoutAHeaderKIsTheLinesAndMTheLargestMicrobatchPlusOne) {
  const Schedule s = parse_schedule_text("0F0 0F1 0F2 0B2 0B1 0B0\n", "one-stage.txt");
  EXPECT_EQ(s.stages, 1);
  EXPECT_EQ(s.microbatches, 3);
  // One stage: no communication, no optimizer step (OPT is optional).
  EXPECT_EQ(s.per_stage, (std::vector<std::vector<Action>>{{F(0, 0), F(0, 1), F(0, 2), B(0, 2), B(0, 1), B(0, 0)}}));
}

TEST(ScheduleFile, RecomputeMakesARematSchedule) {
  const Schedule s = parse_schedule_text("stages 2 microbatches 1 remat\n0F0 0R0 0B0 OPT\n1F0 1R0 1B0 OPT\n", "r.txt");
  EXPECT_TRUE(s.remat);
  EXPECT_EQ(s.per_stage, (std::vector<std::vector<Action>>{{F(0, 0), SA(0, 0), R(0, 0), RG(0, 0), B(0, 0), Opt(0)},
                                                           {RA(1, 0), F(1, 0), R(1, 0), B(1, 0), SG(1, 0), Opt(1)}}));
}

// [SECTION] errors: each names the file and the line (and the token where there is one)

TEST(ScheduleFile, SplitBackwardTokensGetTheirCommunication) {
  // I is wrapped like B (RecvGrad before it, SendGrad after); W is local.
  const Schedule s = parse_schedule_text("0F0 0I0 0W0 OPT\n1F0 1I0 1W0 OPT\n", "split.txt");
  const std::vector<Action> stage0 = {F(0, 0), SA(0, 0), RG(0, 0), I(0, 0), W(0, 0), Opt(0)};
  const std::vector<Action> stage1 = {RA(1, 0), F(1, 0), I(1, 0), SG(1, 0), W(1, 0), Opt(1)};
  EXPECT_EQ(s.per_stage[0], stage0);
  EXPECT_EQ(s.per_stage[1], stage1);
}

TEST(ScheduleFileErrors, AnIWithoutItsWIsTheValidatorsMessage) {
  EXPECT_NE(parse_error("0F0 0I0 OPT\n").find("missing W0 s0"), std::string::npos) << parse_error("0F0 0I0 OPT\n");
}

TEST(ScheduleFileErrors, UnknownTokenNamesLineColumnAndToken) {
  const std::string m = parse_error("stages 2 microbatches 2\n0F0 0F1 0B1 0B0 OPT\n1F0 1X1 1B1 1B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:3:5: '1X1'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown kind 'X'"), std::string::npos) << m;
  EXPECT_NE(parse_error("0F0 0B0 opt\n").find("lesson.txt:1:9: 'opt' is not an action"), std::string::npos);
}

TEST(ScheduleFileErrors, StageNumberOnTheWrongLine) {
  const std::string m = parse_error("0F0 0F1 0B1 0B0 OPT\n\n# stage 1\n1F0 0F1 1B1 1B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:4:5: '0F1' names stage 0 but is on stage 1's line"), std::string::npos) << m;
}

TEST(ScheduleFileErrors, BackwardBeforeItsForwardIsTheValidatorsMessageAtTheToken) {
  const std::string m = parse_error("0F0 0B0 OPT\n1B0 1F0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:2:1: '1B0': B0 s1 comes before F0 s1 in stage 1's program"), std::string::npos) << m;
}

TEST(ScheduleFileErrors, MissingForwardNamesTheStageLine) {
  // Sends and receives inserted: the parser names the F itself.
  std::string m = parse_error("0F0 0F1 0B1 0B0 OPT\n1F0 1B1 1B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:2: stage 1's line has no 1F1: missing F1 s1"), std::string::npos) << m;
  // Written out: the validator's message, at the stage's line.
  m = parse_error("0F0 0SEND_F0 0RECV_B0 0B0 OPT\n1RECV_F0 1B0 1SEND_B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:2: stage 1's line: missing F0 s1: stage 1 never runs it"), std::string::npos) << m;
}

TEST(ScheduleFileErrors, DeadlockNamesTheFileAndEveryStageLine) {
  const std::string m = parse_error("0F0 0RECV_B0 0SEND_F0 0B0 OPT\n1RECV_F0 1F0 1B0 1SEND_B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt: deadlock: stage 0 waits at RecvGrad0 s0"), std::string::npos) << m;
  EXPECT_NE(m.find("(stage 0 is line 1, stage 1 is line 2)"), std::string::npos) << m;
}

TEST(ScheduleFileErrors, DuplicateNamesTheRepeatedToken) {
  const std::string m = parse_error("0F0 0B0 0B0 OPT\n");
  EXPECT_NE(m.find("lesson.txt:1:9: '0B0': duplicate B0 s0"), std::string::npos) << m;
}

TEST(ScheduleFileErrors, MissingFileNamesThePath) {
  try {
    read_schedule_file(::testing::TempDir() + "/no-such-schedule.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no-such-schedule.txt': No such file or directory"), std::string::npos)
        << e.message();
  }
}

TEST(ScheduleFileErrors, EmptyFileNamesTheFileAndLine) {
  EXPECT_NE(parse_error("").find("lesson.txt:1: end of file, and no stage line"), std::string::npos);
  EXPECT_NE(parse_error("# only\n\nstages 1 microbatches 1\n").find("lesson.txt:3: end of file, and no stage line"),
            std::string::npos);
}

TEST(ScheduleFileErrors, ChunksAreDeclaredAndComplete) {
  // A c1 token makes two chunks per device, so chunk 0's F and B are missing.
  EXPECT_NE(parse_error("0F0c1 0B0c1\n").find("lesson.txt:1: stage 0's line has no 0F0: missing F0 s0"),
            std::string::npos)
      << parse_error("0F0c1 0B0c1\n");
  EXPECT_NE(parse_error("stages 1 microbatches 1\n0F0 0F0c1 0B0c1 0B0\n")
                .find("lesson.txt:1: the header declares no chunks, but the file names chunk 1"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches 1 chunks 2\n0F0 0F0c2 0B0c2 0B0\n")
                .find("lesson.txt:2:5: '0F0c2' names chunk 2, but the header (line 1) says chunks 2"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches 1 chunks 2 placement w\n0F0\n")
                .find("lesson.txt:1:44: 'w' is not a placement"),
            std::string::npos)
      << parse_error("stages 1 microbatches 1 chunks 2 placement w\n0F0\n");
  EXPECT_NE(parse_error("0F0c 0B0\n").find("'0F0c' has a 'c' but no chunk number"), std::string::npos);
}

TEST(ScheduleFile, TheHandWrittenZbvFileIsTheGeneratedOne) {
  // labs/tools/schedules/zbv-k2-m2.txt, written from the paper's V (docs/zero-bubble.md),
  // against the generator: the same programs, sends and receives inserted over the V.
  const Schedule file = read_schedule_file(std::string(PIPELAB_SOURCE_DIR) + "/labs/tools/schedules/zbv-k2-m2.txt");
  const Schedule built = zbv_schedule(2, 2);
  EXPECT_EQ(file.chunks, 2);
  EXPECT_EQ(file.placement, ChunkPlacement::VShape);
  EXPECT_EQ(file.per_stage, built.per_stage);
  // Interleaved placement, the default: the same tokens put the chunks round the devices.
  const Schedule loop = parse_schedule_text("stages 1 microbatches 1 chunks 2\n0F0 0F0c1 0B0c1 0B0 OPT\n", "x");
  EXPECT_EQ(loop.placement, ChunkPlacement::Interleaved);
  EXPECT_EQ(loop.per_stage, parse_schedule_text("0F0 0F0c1 0B0c1 0B0 OPT\n", "x").per_stage);
}

TEST(ScheduleFileErrors, HeaderDisagreesWithTheLines) {
  EXPECT_NE(parse_error("stages 2 microbatches 1\n0F0 0B0 OPT\n")
                .find("lesson.txt:1: the header says stages 2 but the file has 1 stage line"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches 1\n0F0 0B0 OPT\n1F0 1B0\n")
                .find("lesson.txt:3: a line for stage 1, but the header (line 1) says stages 1"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches 1\n0F0 0B0 0F1 0B1\n")
                .find("lesson.txt:2:9: '0F1' names micro-batch 1, but the header (line 1) says microbatches 1"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches\n0F0 0B0\n").find("lesson.txt:1: the header ends before"),
            std::string::npos);
  EXPECT_NE(parse_error("0F0 0B0\nstages 1 microbatches 1\n").find("lesson.txt:2: a header after the first stage line"),
            std::string::npos);
}

TEST(ScheduleFileErrors, RematIsEveryMicrobatchOrNone) {
  EXPECT_NE(parse_error("0F0 0R0 0B0 OPT\n1F0 1B0 OPT\n").find("lesson.txt:2:5: '1B0' has no 1R0 on its line"),
            std::string::npos);
  EXPECT_NE(parse_error("stages 1 microbatches 1 remat\n0F0 0B0\n")
                .find("lesson.txt:1:25: 'remat' says the schedule recomputes, but no line has an R"),
            std::string::npos);
}

TEST(ScheduleFileErrors, OddInputIsAnErrorNamingTheFile) {
  // Each is refused with a message that starts with the file's name, never a crash.
  for (const char* text : {"F0 B0\n", "0F\n", "0F0x\n", "99999999999F0\n", "0F99999999999\n", "0F0 0B0 0OPT\n",
                           "stages 0 microbatches 1\n0F0 0B0\n", "stages 1 microbatches 1 remat extra\n0F0\n",
                           "stages 1 microbatches 1000000\n0F0 0B0\n", "\t\r\n#\n", "0F0\r\n0B0\r\n"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_error(text).rfind("lesson.txt", 0), 0u) << parse_error(text);
  }
  // Windows line ends and tabs are white space.
  EXPECT_EQ(parse_schedule_text("0F0\t0B0\r\n", "crlf.txt").per_stage,
            (std::vector<std::vector<Action>>{{F(0, 0), B(0, 0)}}));
}

// [SECTION] schedule_text → parse: the same schedule

TEST(ScheduleText, GpipeIsTheShortForm) {
  EXPECT_EQ(schedule_text(gpipe_schedule(2, 2)),
            "# gpipe: 2 stages, 2 micro-batches, one line per stage (sends and receives inserted around F and B)\n"
            "stages 2 microbatches 2\n"
            "0F0 0F1 0B1 0B0 OPT\n"
            "1F0 1F1 1B1 1B0 OPT\n");
}

TEST(ScheduleText, EveryRegistryPipelineRoundTrips) {
  for (const ScheduleInfo& row : schedule_registry()) {
    // Data parallelism is no pipeline: its text is written and refused (test below).
    if (row.kind == ScheduleKind::DataParallel) continue;
    for (bool remat : {false, true})
      for (int k = 1; k <= 5; ++k)
        for (int m = 1; m <= 6; ++m) {
          const Schedule s = generate_schedule(row.kind, k, m, remat);
          const Schedule back = parse_schedule_text(schedule_text(s), "described.txt");
          SCOPED_TRACE(std::string(row.name) + (remat ? "+remat" : "") + " K=" + std::to_string(k) +
                       " M=" + std::to_string(m));
          EXPECT_EQ(back.stages, s.stages);
          EXPECT_EQ(back.microbatches, s.microbatches);
          EXPECT_EQ(back.remat, s.remat);
          EXPECT_EQ(back.per_stage, s.per_stage);
        }
  }
}

TEST(ScheduleText, ChunkedSchedulesRoundTripWithTheirPlacement) {
  for (bool remat : {false, true})
    for (int k = 1; k <= 4; ++k)
      for (int v : {2, 3}) {
        const Schedule s = generate_schedule(ScheduleKind::Interleaved1F1B, k, 2 * k, remat, v);
        const Schedule back = parse_schedule_text(schedule_text(s), "described.txt");
        SCOPED_TRACE("interleaved K=" + std::to_string(k) + " v=" + std::to_string(v));
        EXPECT_EQ(back.chunks, v);
        EXPECT_EQ(back.placement, ChunkPlacement::Interleaved);
        EXPECT_EQ(back.per_stage, s.per_stage);
      }
  const std::string text = schedule_text(zbv_schedule(3, 5));
  EXPECT_NE(text.find("stages 3 microbatches 5 chunks 2 placement v\n"), std::string::npos) << text;
  EXPECT_EQ(parse_schedule_text(text, "zbv.txt").per_stage, zbv_schedule(3, 5).per_stage);
}

TEST(ScheduleText, DataParallelIsWrittenButAFileHoldsAPipeline) {
  const std::string text = schedule_text(generate_schedule(ScheduleKind::DataParallel, 2, 2, false));
  EXPECT_NE(text.find("0F0 0B0 ALL_REDUCE OPT\n1F1 1B1 ALL_REDUCE OPT\n"), std::string::npos) << text;
  try {
    parse_schedule_text(text, "dp.txt");
    FAIL() << "a data-parallel text was read as a schedule";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("dp.txt:3:9: 'ALL_REDUCE'"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("--schedule data-parallel"), std::string::npos) << e.hint();
  }
}

TEST(ScheduleText, OwnCommunicationOrderIsWrittenOutAndRoundTrips) {
  // Stage 0 sends micro-batch 0's activation only after its second forward: not what
  // insertion around F gives, so every action is written.
  Schedule s = gpipe_schedule(2, 2);
  s.kind = ScheduleKind::Custom;
  s.per_stage[0] = {F(0, 0), F(0, 1), SA(0, 0), SA(0, 1), RG(0, 1), B(0, 1), RG(0, 0), B(0, 0), Opt(0)};
  const std::string text = schedule_text(s);
  EXPECT_NE(text.find("0F0 0F1 0SEND_F0 0SEND_F1 0RECV_B1 0B1 0RECV_B0 0B0 OPT\n"), std::string::npos) << text;
  EXPECT_EQ(parse_schedule_text(text, "explicit.txt").per_stage, s.per_stage);
}

TEST(ScheduleFile, ReadsTheExampleFile) {
  const Schedule s = read_schedule_file(std::string(PIPELAB_SOURCE_DIR) + "/labs/tools/schedules/gpipe-k2-m2.txt");
  EXPECT_EQ(s.per_stage, kGpipe22);
}

}  // namespace
}  // namespace pipelab
