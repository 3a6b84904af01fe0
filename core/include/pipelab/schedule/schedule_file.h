// pipelab/schedule/schedule_file.h — schedules as plain text: one line per stage.
//
//   text file → parse_schedule_text() → Schedule (kind Custom, validated)
//   Schedule  → schedule_text()       → the same text form (`pipelab run --describe`)
//
// The format (docs/schedule-file.md) is close to PyTorch's pipelining action strings:
//
//   # GPipe, K = 2, M = 2
//   stages 2 microbatches 2
//   0F0 0F1 0B1 0B0 OPT
//   1F0 1F1 1B1 1B0 OPT
//
// A token is <stage><kind><micro-batch>: F (forward), B (backward), R (recompute), the
// sends and receives SEND_F / RECV_F (activations) and SEND_B / RECV_B (gradients);
// OPT is the stage's optimizer step. Line i (not counting blank, comment and header
// lines) is stage i's program, in order. A file that names no send or receive gets
// them inserted around every F and B, as append_forward / append_backward do; a file
// that names any gets none inserted. W and chunk suffixes (0W0, 0F0c1) are reserved
// for the split backward and virtual stages of issue 13 and refused as not supported.
//
// Every error is a pipelab::Error whose message starts with "FILE:LINE:COLUMN:" (or
// "FILE:LINE:" for a whole line, "FILE:" for the whole file) and quotes the token.
#pragma once

#include <string>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// Parses `text` (the contents of the file `source`, which names it in messages),
/// then validate()s the schedule: a validator error is re-thrown naming the line and
/// token of the action it is about. The result has kind Custom, K and M from the
/// header (or K = number of stage lines, M = largest micro-batch + 1 without one) and
/// remat set when it has R actions.
Schedule parse_schedule_text(const std::string& text, const std::string& source);

/// Reads the file at `path` and parses it (parse_schedule_text). Throws pipelab::Error
/// naming the path when it cannot be read.
Schedule read_schedule_file(const std::string& path);

/// The schedule in the file format: a comment naming it, the header, one line per
/// stage. Sends and receives are left out when inserting them around F and B gives
/// them back exactly, else every action is written. parse_schedule_text() of the text
/// gives back the same K, M, remat and programs.
std::string schedule_text(const Schedule& schedule);

}  // namespace pipelab
