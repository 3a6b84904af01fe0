// fuzz_cli_config.cpp — libFuzzer target: the `pipelab` command line → RunConfig →
// validate_config (properties in harness/cli_config.h). Run with scripts/fuzz.
#include "harness/cli_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pipelab::fuzz::fuzz_cli_config(data, size);
  return 0;
}
