// test_validate_data_parallel.cpp — validate() on data-parallel schedules (replicas > 1):
// hand-written programs, each rule broken once, the message naming the action at fault.
// The accepted form is written out here (F B AllReduce Opt on device d, share d), not
// taken from data_parallel_schedule, which is checked against it.
#include <gtest/gtest.h>

#include "action_shorthand.h"
#include "pipelab/error.h"
#include "pipelab/schedule/data_parallel.h"
#include "pipelab/schedule/validate.h"

namespace pipelab {
namespace {

using namespace shorthand;

Schedule replicated(std::vector<std::vector<Action>> programs) {
  const int k = static_cast<int>(programs.size());
  Schedule s = make(k, k, std::move(programs));
  s.replicas = k;
  return s;
}

// validation_error's text must contain `part`.
void expect_refused(const Schedule& s, const std::string& part) {
  const std::string why = validation_error(s);
  EXPECT_NE(why.find(part), std::string::npos) << "got: '" << why << "'";
}

TEST(ValidateDataParallel, TheGeneratorIsTheHandWrittenForm) {
  const Schedule hand = replicated({{F(0, 0), B(0, 0), AR(0), Opt(0)},
                                    {F(1, 1), B(1, 1), AR(1), Opt(1)},
                                    {F(2, 2), B(2, 2), AR(2), Opt(2)}});
  EXPECT_EQ(validation_error(hand), "");
  const Schedule generated = data_parallel_schedule(3);
  EXPECT_EQ(generated.per_stage, hand.per_stage);
  EXPECT_EQ(generated.replicas, 3);
  EXPECT_EQ(generated.microbatches, 3);
}

TEST(ValidateDataParallel, AcceptsRematAndTheSplitBackward) {
  EXPECT_EQ(validation_error(replicated({{F(0, 0), R(0, 0), B(0, 0), AR(0), Opt(0)},
                                         {F(1, 1), R(1, 1), B(1, 1), AR(1), Opt(1)}})),
            "");
  EXPECT_EQ(validation_error(replicated({{F(0, 0), I(0, 0), W(0, 0), AR(0), Opt(0)},
                                         {F(1, 1), I(1, 1), W(1, 1), AR(1), Opt(1)}})),
            "");
}

TEST(ValidateDataParallel, NamesAMissingAllReduceAndItsConsequence) {
  expect_refused(replicated({{F(0, 0), B(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), Opt(1)}}),
                 "missing AllReduce s1");
}

TEST(ValidateDataParallel, RefusesTheAllReduceBeforeTheBackwardIsDone) {
  expect_refused(replicated({{F(0, 0), AR(0), B(0, 0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}}),
                 "AllReduce s0 comes before B0 s0");
  expect_refused(replicated({{F(0, 0), I(0, 0), AR(0), W(0, 0), Opt(0)}, {F(1, 1), I(1, 1), W(1, 1), AR(1), Opt(1)}}),
                 "AllReduce s0 comes before W0 s0");
}

TEST(ValidateDataParallel, RefusesTheStepBeforeTheAllReduce) {
  expect_refused(replicated({{F(0, 0), B(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), Opt(1), AR(1)}}),
                 "Opt s1 comes before AllReduce s1");
}

TEST(ValidateDataParallel, RefusesAnotherDevicesShareAndAnySend) {
  expect_refused(replicated({{F(0, 1), B(0, 1), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}}),
                 "runs share 0 of the batch only");
  expect_refused(replicated({{F(0, 0), SA(0, 0), B(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}}),
                 "no neighbour stage");
}

TEST(ValidateDataParallel, RefusesTwoCollectivesAndBothBackwardForms) {
  expect_refused(replicated({{F(0, 0), B(0, 0), AR(0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}}),
                 "duplicate AllReduce s0");
  expect_refused(replicated({{F(0, 0), B(0, 0), I(0, 0), W(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}}),
                 "both B and I/W");
}

TEST(ValidateDataParallel, RefusesAnAllReduceInAPipelineAndBadReplicaCounts) {
  // A pipeline's stages hold different layers: nothing to sum.
  Schedule pipeline = make(1, 1, {{F(0, 0), B(0, 0), AR(0), Opt(0)}});
  expect_refused(pipeline, "AllReduce s0 in a pipeline");
  Schedule three_of_two = replicated({{F(0, 0), B(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}});
  three_of_two.replicas = 3;
  expect_refused(three_of_two, "3 replicas on 2 devices");
  Schedule wrong_m = replicated({{F(0, 0), B(0, 0), AR(0), Opt(0)}, {F(1, 1), B(1, 1), AR(1), Opt(1)}});
  wrong_m.microbatches = 4;
  expect_refused(wrong_m, "has 4 micro-batches");
}

TEST(RingAllReduce, SendsTwoKMinusOneOverKOfTheGradients) {
  // A ring of K: K-1 reduce-scatter and K-1 all-gather steps of G/K bytes each.
  EXPECT_EQ(ring_all_reduce_bytes(1, 1000.0), 0.0);
  EXPECT_DOUBLE_EQ(ring_all_reduce_bytes(2, 1000.0), 1000.0);  // 2 steps of 500
  EXPECT_DOUBLE_EQ(ring_all_reduce_bytes(4, 1000.0), 1500.0);  // 6 steps of 250
}

}  // namespace
}  // namespace pipelab
