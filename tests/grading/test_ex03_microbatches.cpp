// test_ex03_microbatches.cpp — graded: ex03 split_microbatches and
// microbatch_loss_scale (lab 03).
// Oracles: numpy.array_split sizes written by hand, and the single-device step
// reference_step(): a pipelined step with uneven micro-batches must give the same
// loss, gradients and updated parameters. A test that is not a literal needs a valid
// split first (prerequisites.h).
#include <cmath>
#include <numeric>

#include "grading.h"
#include "prerequisites.h"
#include "pipelab/backends/backends.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/model/model.h"

namespace pipelab::grading {
namespace {

std::string sizes_text(const std::vector<int>& sizes) {
  std::string out = "{";
  for (std::size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "}";
}

TEST(MicrobatchSplit, Literals) {
  // numpy.array_split(np.arange(B), M) sizes.
  const struct {
    int batch, m;
    std::vector<int> sizes;
  } cases[] = {{10, 3, {4, 3, 3}}, {11, 4, {3, 3, 3, 2}}, {8, 4, {2, 2, 2, 2}},
               {7, 7, {1, 1, 1, 1, 1, 1, 1}}, {5, 1, {5}}, {7, 5, {2, 2, 1, 1, 1}}};
  for (const auto& c : cases) {
    const std::vector<int> got = split_microbatches(c.batch, c.m);
    GRADE_EXPECT(got == c.sizes, "split_microbatches(" << c.batch << ", " << c.m << ") gives " << sizes_text(got)
                                                       << ", expected " << sizes_text(c.sizes));
  }
}

TEST(MicrobatchSplit, SizesAddUpLargestFirst) {
  // The validity sweep the other non-literal tests require (prerequisites.h), then the sizes.
  const std::string problem = split_microbatches_problem();
  GRADE_ASSERT(problem.empty(), problem);
  for (int batch = 1; batch <= 40; ++batch) {
    for (int m = 1; m <= batch; ++m) {
      const std::vector<int> got = split_microbatches(batch, m);
      GRADE_ASSERT(static_cast<int>(got.size()) == m,
                   "split_microbatches(" << batch << ", " << m << ") returns " << got.size() << " sizes, expected " << m);
      const int sum = std::accumulate(got.begin(), got.end(), 0);
      GRADE_ASSERT(sum == batch, "split_microbatches(" << batch << ", " << m << ") sizes add up to " << sum
                                                       << ", not the batch " << batch << ": " << sizes_text(got));
      for (int i = 0; i < m; ++i) {
        const int expected = batch / m + (i < batch % m ? 1 : 0);
        GRADE_ASSERT(got[i] == expected, "split_microbatches(" << batch << ", " << m << "): micro-batch " << i
                                                               << " has " << got[i] << " samples, expected " << expected
                                                               << " (the first B % M get one more): "
                                                               << sizes_text(got));
      }
    }
  }
}

TEST(MicrobatchSplit, RejectsBadArguments) {
  // Refusing bad arguments earns nothing while the good ones give invalid splits.
  GRADE_REQUIRE(valid_split_microbatches());
  for (const auto& args : {std::pair{3, 4}, std::pair{3, 0}, std::pair{8, -2}}) {
    const int batch = args.first, m = args.second;  // named copies: lambdas cannot capture bindings in C++17
    const std::string why = throws_error([&] { split_microbatches(batch, m); });
    GRADE_EXPECT(why.empty(), "split_microbatches(" << batch << ", " << m << ") must throw a pipelab::Error: " << why);
  }
}

TEST(LossScale, EveryRowWeighsOneOverBatch) {
  // The step's loss is the mean over all B samples: each row's weight is 1/B, whatever
  // the size of the micro-batch it ran in (mean of micro-batch means is wrong when uneven).
  const struct {
    int rows, batch;
  } cases[] = {{4, 10}, {3, 10}, {10, 10}, {1, 37}, {13, 37}, {64, 128}};
  for (const auto& c : cases) {
    const float got = microbatch_loss_scale(c.rows, c.batch);
    const float expected = 1.0f / static_cast<float>(c.batch);
    GRADE_EXPECT(std::fabs(got - expected) <= 1e-7f * expected,
                 "microbatch_loss_scale(" << c.rows << ", " << c.batch << ") = " << got << ", expected " << expected
                                          << ": every row of the batch must weigh the same");
  }
}

TEST(LossScale, PipelinedStepEqualsSingleDeviceStep) {
  // Uneven micro-batches (B = 37) through a real 2-stage cpu pipeline must give the
  // single-device step's loss, gradients and updated parameters (fp32 tolerance).
  // The cpu backend splits the batch with split_microbatches: a bad split is named as
  // such, not blamed on the loss scale.
  GRADE_REQUIRE(valid_split_microbatches());
  for (int m : {1, 3, 5, 8}) {
    RunConfig c = tiny_cpu_config(2, 2);
    c.microbatches = m;
    const Schedule schedule = fixture_fill_drain(2, m);
    auto backend = make_cpu_backend(c, fixture_partition(2, 2), m);
    ExecutorOptions options;
    options.watchdog_seconds = 10;
    execute(schedule, *backend, options);
    const StepNumerics got = *backend->numerics();
    const StepNumerics reference = reference_step(c.model);
    const double diff = max_relative_difference(got, reference);
    GRADE_EXPECT(diff <= 1e-5, "M=" << m << " (sizes of B=37 uneven): loss " << got.loss << " vs single device "
                                    << reference.loss << ", max normwise relative difference " << diff
                                    << " > 1e-5 — are the micro-batch gradients weighted like the batch mean?");
  }
}

}  // namespace
}  // namespace pipelab::grading
