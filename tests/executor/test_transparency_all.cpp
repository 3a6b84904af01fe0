// test_transparency_all.cpp — issue 13, deliverable 10: for every registry schedule, K in
// {2, 4}, M in {4, 8}, v in {1, 2} where the schedule takes chunks, with and without remat,
// the cpu step's loss, gradients and updated parameters equal the single-device reference
// step (reference_step, model.cpp: one thread, the whole batch, no schedule at all).
#include <gtest/gtest.h>

#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {
namespace {

TEST(TransparencyForAll, EveryScheduleKMChunksAndRematEqualTheSingleDeviceStep) {
  RunConfig c;
  c.model.layers = 8;  // K·v <= 8 for K = 4, v = 2
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 20;  // 5 or 2.5 rows per micro-batch: uneven at M = 8
  c.backend = BackendKind::Cpu;
  c.warmup_steps = 0;  // one step each: the numerics are a first step's either way
  c.repeat_steps = 1;
  const StepNumerics reference = reference_step(c.model);
  int runs = 0;
  for (const ScheduleInfo& row : schedule_registry())
    for (int K : {2, 4})
      for (int M : {4, 8})
        for (int v : {1, 2}) {
          if (v > 1 && !row.uses_chunks) continue;
          for (bool remat : {false, true}) {
            c.schedule = row.kind;
            c.devices = K;
            c.microbatches = M;
            c.chunks = v;
            c.remat = remat;
            const RunResult r = run_step(c);
            SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M) +
                         " v=" + std::to_string(v));
            ASSERT_TRUE(r.numerics.has_value());
            EXPECT_LE(max_relative_difference(*r.numerics, reference), kTransparencyTolerance);
            EXPECT_EQ(r.schedule.chunks, scheduled_chunks(row, v)) << "v, or the row's own (zbv: 2)";
            ++runs;
          }
        }
  EXPECT_GE(runs, 2 * 2 * 2 * static_cast<int>(schedule_registry().size())) << "every row ran";
}

}  // namespace
}  // namespace pipelab
