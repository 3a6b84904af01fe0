// fuzz/harness/check.h — how a fuzz harness reports a broken property.
//
// Bad input is expected and must come back as a pipelab::Error; the harnesses
// swallow those. A *property* that fails (the writer refuses what the reader
// accepted, a validated schedule hangs, ...) is a bug: it throws
// InvariantViolated, which libFuzzer reports as a crash (uncaught exception →
// abort, with the message) and tests/unit/test_fuzz_regressions.cpp as a failure.
#pragma once

#include <stdexcept>
#include <string>

namespace pipelab::fuzz {

/// A property checked by a harness does not hold: a bug, not bad input.
struct InvariantViolated : std::logic_error {
  using std::logic_error::logic_error;
};

}  // namespace pipelab::fuzz

/// Throw InvariantViolated naming the condition and `what` (a std::string).
#define PIPELAB_FUZZ_CHECK(cond, what)                                                        \
  do {                                                                                        \
    if (!(cond))                                                                              \
      throw ::pipelab::fuzz::InvariantViolated(std::string("fuzz property failed: ") + #cond + \
                                               ": " + (what));                                \
  } while (0)
