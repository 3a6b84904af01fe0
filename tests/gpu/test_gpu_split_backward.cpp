// test_gpu_split_backward.cpp — the cuda backend refuses I and W (the split backward) with
// a clear pipelab::Error naming the backends that run them, instead of computing them with
// kernels nobody has tested; B on the same backend is unchanged (GpuTransparency).
#include <gtest/gtest.h>

#include <string>

#include "gpu_test_util.h"
#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

TEST(CudaSplitBackward, RefusesIAndWWithAClearError) {
  PIPELAB_REQUIRE_GPU();
  RunConfig c;
  c.model.layers = 2;
  c.model.width = 16;
  c.model.hidden = 32;
  c.model.batch = 8;
  c.devices = 1;
  c.microbatches = 1;
  c.backend = BackendKind::Cuda;
  c.cuda.placement = CudaPlacement::Streams;
  Schedule s = start_schedule(ScheduleKind::Custom, "split", 1, 1);
  append_forward(s.per_stage[0], 0, 0, 1);
  append_backward_input(s.per_stage[0], 0, 0, 1);
  append_weight_backward(s.per_stage[0], 0, 0);
  s.per_stage[0].push_back({ActionKind::OptimizerStep, 0, -1});
  auto backend = make_backend(c, build_partition(c), 1);
  try {
    execute(s, *backend);
    FAIL() << "the cuda backend ran I/W";
  } catch (const Error& e) {
    const std::string what = std::string(e.message()) + " " + e.hint();
    EXPECT_NE(what.find("I/W (split backward) is not supported on the cuda backend yet"), std::string::npos) << what;
    EXPECT_NE(what.find("--backend cpu or sim"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace pipelab
