// fuzz_trace_reader.cpp — libFuzzer target: read_chrome_trace on arbitrary bytes
// (properties in harness/trace_reader.h). Run with scripts/fuzz.
#include "harness/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pipelab::fuzz::fuzz_trace_reader(data, size);
  return 0;
}
