// test_cli_did_you_mean.cpp — issue 12, deliverable 3: an unknown flag names the closest
// flag of that subcommand (edit distance), an unknown subcommand the closest one, and
// the arguments not understood are listed in the order typed (core/cli/parse_errors.h).
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"

namespace {

using pipelab::cli_test::pipelab;

// Exit 2, one line on stderr containing `says`, nothing on stdout.
void expect_usage_error(const std::string& args, const std::string& says) {
  const auto r = pipelab(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << args << "\nstderr: " << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(DidYouMean, MisspeltFlagNamesTheClosestFlag) {
  expect_usage_error("compare --microbatch 8", "unknown flag --microbatch of `pipelab compare`; did you mean --microbatches?");
}

TEST(DidYouMean, ArgumentsAreListedInTheOrderTyped) {
  // CLI11 alone printed "8 --microbatch".
  expect_usage_error("compare --microbatch 8", "in the order typed: --microbatch 8)");
}

TEST(DidYouMean, FlagWithEqualsSignIsNamedWithoutItsValue) {
  expect_usage_error("compare --backend sim --microbatch=8", "did you mean --microbatches?");
}

TEST(DidYouMean, SuggestionIsAFlagOfThatSubcommand) {
  expect_usage_error("run --backend sim --schedul naive", "did you mean --schedule?");
  expect_usage_error("sweep --backend sim --cvs", "unknown flag --cvs of `pipelab sweep`; did you mean --csv?");
}

TEST(DidYouMean, NothingCloseMeansNoSuggestion) {
  const auto r = pipelab("compare --zzzzzz");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("unknown flag --zzzzzz of `pipelab compare`"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: see `pipelab compare --help`"), std::string::npos) << r.err;
}

TEST(DidYouMean, MisspeltSubcommandNamesTheClosestSubcommand) {
  expect_usage_error("compar -K 2", "unknown subcommand 'compar'; did you mean compare?");
}

TEST(DidYouMean, PositionalArgumentIsNamed) {
  expect_usage_error("compare --backend sim 8", "unexpected argument 8 of `pipelab compare`");
}

}  // namespace
