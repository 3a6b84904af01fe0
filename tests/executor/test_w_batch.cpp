// test_w_batch.cpp — --w-batch run end to end (schedule/batched_weight.h): on the cpu the
// step's loss, gradients and updated parameters equal the single-device reference step
// (reference_step, model.cpp: no schedule at all) for every pipeline schedule, K 2..4,
// several M, with and without remat; on sim and cpu the stash peaks at the whole batch's
// (the memory plan's batched_weight_stash_bytes), M micro-batches in flight; the sim
// costs the whole-batch W as the sum of the W's it replaces; cuda refuses it.
#include <gtest/gtest.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/model/memory_plan.h"
#include "pipelab/report/in_flight.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {
namespace {

RunConfig tiny(BackendKind backend) {
  RunConfig c;
  c.model.layers = 8;  // K·v <= 8 for K = 4, v = 2
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 20;  // uneven micro-batches at M = 3, 6, 8
  c.backend = backend;
  c.warmup_steps = 0;
  c.repeat_steps = 1;
  c.w_batch = true;
  return c;
}

TEST(WBatch, CpuStepEqualsTheSingleDeviceReferenceForEveryPipelineSchedule) {
  RunConfig c = tiny(BackendKind::Cpu);
  const StepNumerics reference = reference_step(c.model);
  const ScheduleKind kinds[] = {ScheduleKind::Naive, ScheduleKind::Gpipe, ScheduleKind::OneFOneB,
                                ScheduleKind::ZbH1,  ScheduleKind::ZbH2,  ScheduleKind::Zbv,
                                ScheduleKind::Interleaved1F1B};
  for (ScheduleKind kind : kinds)
    for (int K : {2, 3, 4})
      for (int M : {K, 2 * K, 8}) {
        if (kind == ScheduleKind::Interleaved1F1B && M % K != 0) continue;  // its M is a multiple of K
        for (bool remat : {false, true}) {
          c.schedule = kind;
          c.devices = K;
          c.microbatches = M;
          c.chunks = 2;
          c.remat = remat;
          const RunResult r = run_step(c);
          SCOPED_TRACE(r.schedule.name() + " K=" + std::to_string(K) + " M=" + std::to_string(M));
          ASSERT_TRUE(r.schedule.w_batch);
          ASSERT_TRUE(r.numerics.has_value());
          EXPECT_LE(max_relative_difference(*r.numerics, reference), kTransparencyTolerance);
        }
      }
}

// Every device holds every micro-batch's stash and I's dy and da just before its whole-batch
// W: the plan's batched_weight_stash_bytes(B), on the sim's books and the cpu's alike.
TEST(WBatch, StashPeaksAtTheWholeBatchOnSimAndCpu) {
  for (BackendKind backend : {BackendKind::Sim, BackendKind::Cpu})
    for (ScheduleKind kind : {ScheduleKind::Gpipe, ScheduleKind::ZbH1}) {
      RunConfig c = tiny(backend);
      c.schedule = kind;
      c.devices = 4;
      c.microbatches = 8;
      const RunResult r = run_step(c);
      SCOPED_TRACE(r.schedule.name() + " on " + to_string(backend));
      const std::vector<int> in_flight = peak_in_flight_microbatches(r.trace);
      for (int d = 0; d < 4; ++d) {
        const StageMemoryPlan plan = plan_stage_memory(c.model, r.partition, d, false);
        EXPECT_EQ(r.metrics.peak_memory_by_category[d][static_cast<int>(MemoryCategory::Stash)],
                  plan.batched_weight_stash_bytes(c.model.batch))
            << "device " << d;
        EXPECT_EQ(in_flight[d], 8) << "device " << d;
      }
    }
}

// The sim's whole-batch W lasts the sum of the per-micro-batch W's it replaces.
TEST(WBatch, SimCostsTheWholeBatchWAsTheSumOfItsMicrobatchWs) {
  RunConfig c = tiny(BackendKind::Sim);
  c.schedule = ScheduleKind::ZbH1;
  c.devices = 2;
  c.microbatches = 3;
  const RunResult batched = run_step(c);
  c.w_batch = false;
  const RunResult split = run_step(c);
  for (int d = 0; d < 2; ++d) {
    double whole = 0, sum = 0;
    for (const TraceEvent& e : batched.trace.events)
      if (e.device == d && is_batched_weight(e.action)) whole += e.dur_us;
    for (const TraceEvent& e : split.trace.events)
      if (e.device == d && e.action.kind == ActionKind::BackwardWeight) sum += e.dur_us;
    EXPECT_GT(whole, 0);
    EXPECT_NEAR(whole, sum, 1e-9 * sum) << "device " << d;
  }
}

TEST(WBatch, CudaAndDataParallelRefuseItAsAUsageError) {
  RunConfig c = tiny(BackendKind::Cuda);
  try {
    run_step(c);
    FAIL() << "cuda ran --w-batch";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.flag(), "--w-batch") << e.message();
    EXPECT_NE(e.hint().find("--backend cpu"), std::string::npos) << e.hint();
  }
  c = tiny(BackendKind::Sim);
  c.schedule = ScheduleKind::DataParallel;
  EXPECT_THROW(run_step(c), UsageError);
}

}  // namespace
}  // namespace pipelab
