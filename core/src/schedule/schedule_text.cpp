// schedule_text.cpp — write a schedule in the file format (schedule_file.h), what
// `pipelab run --describe` prints and parse_schedule_text() reads back.
#include <sstream>

#include "file_tokens.h"
#include "pipelab/schedule/schedule_file.h"

namespace pipelab {

namespace {

// F, B, R and OPT of one program, in order: what a file writes when it leaves the
// sends and receives to be inserted.
std::vector<Action> compute_order(const std::vector<Action>& program) {
  std::vector<Action> out;
  for (const Action& a : program)
    if (!detail::is_communication(a.kind)) out.push_back(a);
  return out;
}

// " chunks v placement interleaved|v" when the devices hold several model chunks.
std::string chunk_words(const Schedule& schedule) {
  if (schedule.chunks <= 1) return "";
  return " chunks " + std::to_string(schedule.chunks) + " placement " +
         (schedule.placement == ChunkPlacement::VShape ? "v" : "interleaved");
}

}  // namespace

std::string schedule_text(const Schedule& schedule) {
  // The short form only when it means the same programs: the parser inserts sends and
  // receives in every line of a file that names none, so a file is short or explicit
  // as a whole (a hand-built schedule with its own communication order is explicit).
  bool short_form = true;
  for (std::size_t s = 0; s < schedule.per_stage.size() && short_form; ++s)
    short_form = detail::insert_communication(compute_order(schedule.per_stage[s]), static_cast<int>(s),
                                              schedule.chunk_map()) == schedule.per_stage[s];
  std::ostringstream out;
  out << "# " << schedule.name() << ": " << schedule.stages << " stages, " << schedule.microbatches
      << " micro-batches, one line per stage"
      << (short_form ? " (sends and receives inserted around F and B)\n" : "\n");
  out << detail::kHeaderWord << ' ' << schedule.stages << " microbatches " << schedule.microbatches
      << chunk_words(schedule) << (schedule.remat ? " remat" : "") << '\n';
  for (std::size_t s = 0; s < schedule.per_stage.size(); ++s) {
    const std::vector<Action> line = short_form ? compute_order(schedule.per_stage[s]) : schedule.per_stage[s];
    for (std::size_t i = 0; i < line.size(); ++i) out << (i ? " " : "") << detail::file_token(line[i]);
    out << '\n';
  }
  return out.str();
}

}  // namespace pipelab
