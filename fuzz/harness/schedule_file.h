// fuzz/harness/schedule_file.h — the schedule-file parser on arbitrary text (fuzz/,
// tests/unit/test_fuzz_regressions.cpp). Properties:
//   1. parse_schedule_text either throws pipelab::Error (bad input, named) or returns a
//      schedule that validate() accepts: the parser validates, it never hands on garbage;
//   2. what it accepts round-trips: schedule_text() of it reads back to the same programs,
//      K, M and remat (the writer is what `pipelab run --describe` prints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "check.h"
#include "pipelab/error.h"
#include "pipelab/schedule/schedule_file.h"
#include "pipelab/schedule/validate.h"

namespace pipelab::fuzz {

/// One fuzz input: the bytes as a schedule file's text.
inline void fuzz_schedule_file(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Schedule schedule;
  try {
    schedule = parse_schedule_text(text, "fuzz.txt");
  } catch (const Error&) {
    return;  // bad input, refused with a message: expected
  }
  PIPELAB_FUZZ_CHECK(validation_error(schedule).empty(), "the parser accepted an invalid schedule: " +
                                                             validation_error(schedule));
  const std::string written = schedule_text(schedule);
  Schedule back;
  try {
    back = parse_schedule_text(written, "described.txt");
  } catch (const Error& e) {
    PIPELAB_FUZZ_CHECK(false, std::string("its own text was refused: ") + e.message() + "\n" + written);
  }
  PIPELAB_FUZZ_CHECK(back.stages == schedule.stages && back.microbatches == schedule.microbatches &&
                         back.remat == schedule.remat && back.per_stage == schedule.per_stage,
                     "the written text reads back to another schedule:\n" + written);
}

}  // namespace pipelab::fuzz
