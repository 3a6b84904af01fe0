// test_memory.cpp — DeviceMemory, the allocator books every backend keeps: charges
// per category, peaks, the sample series, and restart() between steps. Expected
// values are hand-computed from the charges each test makes.
#include <gtest/gtest.h>

#include <utility>

#include "pipelab/runtime/memory.h"

namespace pipelab {
namespace {

std::uint64_t at(const MemoryBytes& bytes, MemoryCategory c) { return bytes[static_cast<int>(c)]; }

TEST(DeviceMemory, ChargesAddUpPerCategoryAndReleaseOnDestruction) {
  double now = 0;
  DeviceMemory mem(3, [&] { return now; });
  {
    MemoryCharge params = mem.charge(MemoryCategory::Params, 100);
    now = 1;
    MemoryCharge stash = mem.charge(MemoryCategory::Stash, 40);
    EXPECT_EQ(at(mem.current(), MemoryCategory::Params), 100u);
    EXPECT_EQ(at(mem.current(), MemoryCategory::Stash), 40u);
    now = 2;
    stash.reset();
    EXPECT_EQ(at(mem.current(), MemoryCategory::Stash), 0u);
    EXPECT_EQ(at(mem.peak(), MemoryCategory::Stash), 40u);
  }
  EXPECT_EQ(at(mem.current(), MemoryCategory::Params), 0u);
  EXPECT_EQ(mem.peak_total(), 140u);  // params 100 + stash 40 at t = 1
  const auto samples = mem.samples();
  ASSERT_EQ(samples.size(), 4u);  // +params, +stash, −stash, −params
  EXPECT_EQ(samples[1].time_us, 1.0);
  EXPECT_EQ(samples[1].device, 3);
  mem.check_consistent();
}

TEST(DeviceMemory, MovedChargeIsReleasedOnce) {
  DeviceMemory mem(0, nullptr);
  MemoryCharge a = mem.charge(MemoryCategory::Buffers, 8);
  MemoryCharge b = std::move(a);
  a.reset();  // holds nothing any more
  EXPECT_EQ(at(mem.current(), MemoryCategory::Buffers), 8u);
  b.reset();
  EXPECT_EQ(at(mem.current(), MemoryCategory::Buffers), 0u);
  mem.check_consistent();
}

TEST(DeviceMemory, RestartKeepsWhatIsHeldAndForgetsTheOldPeaksAndSamples) {
  double now = 5;
  DeviceMemory mem(0, [&] { return now; });
  MemoryCharge params = mem.charge(MemoryCategory::Params, 1000);
  {
    MemoryCharge stash = mem.charge(MemoryCategory::Stash, 500);  // a warm-up step's stash
  }
  EXPECT_EQ(mem.peak_total(), 1500u);
  now = 0;  // the new step's origin
  mem.restart();
  EXPECT_EQ(at(mem.current(), MemoryCategory::Params), 1000u);
  EXPECT_EQ(mem.peak_total(), 1000u) << "the old step's peak must not survive restart()";
  EXPECT_EQ(at(mem.peak(), MemoryCategory::Stash), 0u);
  auto samples = mem.samples();
  ASSERT_EQ(samples.size(), 1u);  // one sample of what is held at the restart
  EXPECT_EQ(samples[0].time_us, 0.0);
  EXPECT_EQ(at(samples[0].current, MemoryCategory::Params), 1000u);
  now = 1;
  { MemoryCharge stash = mem.charge(MemoryCategory::Stash, 200); }
  EXPECT_EQ(mem.peak_total(), 1200u);
  EXPECT_EQ(mem.samples().size(), 3u);
}

}  // namespace
}  // namespace pipelab
