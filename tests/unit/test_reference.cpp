// test_reference.cpp — which single-device step the transparency check uses, and the
// GPU-sized default model (run.h, config.h). The threshold is recomputed here from
// the FLOP formula 12·L·B·d·h, not read from the code under test.
#include <gtest/gtest.h>

#include "pipelab/model/config.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

RunConfig with_model(BackendKind backend, int layers, int width, int hidden, int batch) {
  RunConfig c;
  c.backend = backend;
  c.model.layers = layers;
  c.model.width = width;
  c.model.hidden = hidden;
  c.model.batch = batch;
  return c;
}

TEST(TransparencyReference, CpuReferenceUnlessACudaModelIsTooBigForOneCore) {
  // 12·4·1024·1024·4096 = 206 GFLOP: just over 200 GFLOP.
  const RunConfig big_cuda = with_model(BackendKind::Cuda, 4, 1024, 4096, 1024);
  EXPECT_EQ(reference_kind(big_cuda), ReferenceKind::Cuda);
  // 12·4·1000·1024·4096 = 201 GFLOP: over; 12·4·900·1024·4096 = 181 GFLOP: under.
  EXPECT_EQ(reference_kind(with_model(BackendKind::Cuda, 4, 1024, 4096, 1000)), ReferenceKind::Cuda);
  EXPECT_EQ(reference_kind(with_model(BackendKind::Cuda, 4, 1024, 4096, 900)), ReferenceKind::Cpu);
  // The cpu backend is always checked against the cpu reference, however big.
  EXPECT_EQ(reference_kind(with_model(BackendKind::Cpu, 4, 1024, 4096, 1024)), ReferenceKind::Cpu);
  // The default models: the cpu one is checked on the cpu even on cuda.
  RunConfig small_cuda;
  small_cuda.backend = BackendKind::Cuda;
  EXPECT_EQ(reference_kind(small_cuda), ReferenceKind::Cpu);
  EXPECT_NE(describe(ReferenceKind::Cpu), describe(ReferenceKind::Cuda));
}

TEST(TransparencyReference, GpuDefaultModelIsValidAndGemmBound) {
  RunConfig c;
  c.model = default_cuda_model();
  c.devices = 4;
  c.microbatches = 16;
  validate_config(c);  // throws if the default were out of bounds
  // GPipe's micro-batches keep at least 64 rows at M = 16, and the stages are even.
  EXPECT_GE(c.model.batch / 16, 64);
  EXPECT_EQ(c.model.layers % 4, 0);
  const double flops = 12.0 * c.model.layers * c.model.batch * double(c.model.width) * c.model.hidden;
  EXPECT_GT(flops, 1e12) << "a GPU default must be big enough that GEMMs dominate";
}

}  // namespace
}  // namespace pipelab
