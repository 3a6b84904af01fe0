// test_memory_cap.cpp — --device-memory-mib: a run that does not fit each device's
// memory is refused before it starts, and the allocator refuses a charge past the cap.
//
// Oracles: the parameter bytes of a block written out by hand (W1 h×d, b1 h, W2 d×h,
// b2 d, fp32), and the peak the same run measures without a cap (the cap's boundary).
#include <gtest/gtest.h>

#include <string>

#include "pipelab/error.h"
#include "pipelab/report/metrics.h"
#include "pipelab/runtime/memory.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/runtime/run.h"

namespace pipelab {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::uint64_t at(const MemoryBytes& bytes, MemoryCategory c) { return bytes[static_cast<int>(c)]; }

RunConfig small_sim() {
  RunConfig c;
  c.backend = BackendKind::Sim;
  c.devices = 2;
  c.microbatches = 4;
  c.model.layers = 4;
  c.model.width = 32;
  c.model.hidden = 64;
  c.model.batch = 16;
  return c;
}

// The message of the UsageError `config` is refused with ("" if it runs).
std::string refusal(const RunConfig& config) {
  try {
    run_step(config);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.flag(), "--device-memory-mib");
    return e.message();
  }
  return "";
}

TEST(DeviceMemoryCap, ChargePastTheCapThrowsAndChargesNothing) {
  DeviceMemory mem(2, nullptr);
  mem.set_cap(100);
  MemoryCharge params = mem.charge(MemoryCategory::Params, 60);
  MemoryCharge stash = mem.charge(MemoryCategory::Stash, 40);  // exactly the cap: fits
  try {
    mem.charge(MemoryCategory::Buffers, 1);
    FAIL() << "a charge past the cap was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("device 2 is out of memory"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("buffers"), std::string::npos) << e.message();
  }
  EXPECT_EQ(at(mem.current(), MemoryCategory::Buffers), 0u);
  stash.reset();
  MemoryCharge again = mem.charge(MemoryCategory::Buffers, 40);  // room again after a release
  EXPECT_EQ(mem.peak_total(), 100u);
  mem.check_consistent();
}

TEST(DeviceMemoryCap, ParamsAndGradsOverTheCapAreRefusedBeforeTheRun) {
  RunConfig c = small_sim();
  // One block: W1 (h×d) + b1 (h) + W2 (d×h) + b2 (d) floats; a stage holds layers/K blocks
  // of params and as many of grads.
  const double d = c.model.width, h = c.model.hidden;
  const double block_bytes = 4.0 * (2 * d * h + h + d);
  const double resident = 2.0 * (c.model.layers / c.devices) * block_bytes;
  c.device_memory_mib = 0.9 * resident / kMiB;
  const std::string why = refusal(c);
  EXPECT_NE(why.find("device 0 needs"), std::string::npos) << why;
  EXPECT_NE(why.find("over the cap"), std::string::npos) << why;
  EXPECT_NE(why.find("params"), std::string::npos) << why;
}

TEST(DeviceMemoryCap, TheMeasuredPeakIsTheBoundary) {
  const RunConfig uncapped = small_sim();
  const RunResult measured = run_step(uncapped);
  std::uint64_t peak = 0;
  for (std::uint64_t p : measured.metrics.peak_memory_bytes) peak = std::max(peak, p);
  RunConfig fits = uncapped;
  fits.device_memory_mib = static_cast<double>(peak) / kMiB;  // the peak itself fits
  EXPECT_EQ(refusal(fits), "");
  RunConfig over = uncapped;
  over.device_memory_mib = static_cast<double>(peak - 1024) / kMiB;  // 1 KiB short
  EXPECT_NE(refusal(over).find("needs"), std::string::npos);
}

TEST(DeviceMemoryCap, MoreStagesOrRematMakeARefusedRunFit) {
  // The lesson of the cap: the same model fits once split further or recomputed. A
  // bigger batch, so the stash (which remat shrinks) dominates the peak.
  RunConfig c = small_sim();
  c.model.batch = 256;
  const RunResult measured = run_step(c);
  std::uint64_t peak = 0;
  for (std::uint64_t p : measured.metrics.peak_memory_bytes) peak = std::max(peak, p);
  c.device_memory_mib = 0.8 * static_cast<double>(peak) / kMiB;
  ASSERT_NE(refusal(c), "");
  RunConfig split = c;
  split.devices = 4;
  EXPECT_EQ(refusal(split), "");
  RunConfig recomputed = c;
  recomputed.remat = true;
  EXPECT_EQ(refusal(recomputed), "");
}

TEST(DeviceMemoryCap, CpuBuffersPastThePredictionStopTheRunWithTheDevice) {
  // The prediction (the sim's plan: params, grads, stash) leaves out the cpu backend's
  // transfer buffers, so a cap between the two passes the check and the allocator
  // refuses the charge while the step runs.
  RunConfig c = small_sim();
  c.backend = BackendKind::Cpu;
  c.warmup_steps = 0;
  c.repeat_steps = 1;
  const RunResult measured = run_step(c);
  const MemoryPrediction predicted = predict_peak_memory(c, measured.partition, measured.schedule);
  std::uint64_t measured_peak = 0, predicted_peak = 0;
  for (std::uint64_t p : measured.metrics.peak_memory_bytes) measured_peak = std::max(measured_peak, p);
  for (std::uint64_t p : predicted.peak_total) predicted_peak = std::max(predicted_peak, p);
  ASSERT_GT(measured_peak, predicted_peak) << "the cpu backend holds buffers the sim does not";
  c.device_memory_mib = (static_cast<double>(predicted_peak + measured_peak) / 2.0) / kMiB;
  try {
    run_step(c);
    FAIL() << "ran past the cap";
  } catch (const UsageError& e) {
    FAIL() << "refused by the prediction, which should fit: " << e.message();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("is out of memory"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("--device-memory-mib cap"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace pipelab
