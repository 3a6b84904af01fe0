// no_cuda.cpp — the GPU suite of a build without the cuda backend (no nvcc at
// configure time, or -DPIPELAB_CUDA=OFF): one test that skips and says why, so a
// report shows the GPU tests as skipped, never as missing or passed.
#include <gtest/gtest.h>

TEST(GpuSuite, SkippedWithoutTheCudaBackend) {
  GTEST_SKIP() << "this build has no cuda backend: " << PIPELAB_CUDA_STATUS;
}
