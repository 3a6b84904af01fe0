// fuzz_schedule_file.cpp — libFuzzer target: the schedule-file parser on arbitrary text;
// what it accepts validates and round-trips through its writer (harness/schedule_file.h).
// Run with scripts/fuzz.
#include "harness/schedule_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pipelab::fuzz::fuzz_schedule_file(data, size);
  return 0;
}
