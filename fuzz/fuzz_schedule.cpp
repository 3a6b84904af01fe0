// fuzz_schedule.cpp — libFuzzer target: validate() on edited schedules, and every
// schedule it accepts must run and be transparent (properties in harness/schedule.h).
// Run with scripts/fuzz.
#include "harness/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pipelab::fuzz::fuzz_schedule(data, size);
  return 0;
}
