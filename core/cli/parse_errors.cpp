// cli/parse_errors.cpp — describe_parse_error (parse_errors.h): "did you mean" by edit
// distance, and the arguments not understood in the order typed.
#include "cli/parse_errors.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

namespace pipelab::cli {
namespace {

/// Levenshtein distance: the fewest one-character insertions, deletions and
/// substitutions that turn `a` into `b` (one row of the DP table at a time).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;  // "" → b[0..j): j insertions
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];  // distance(a[0..i-1), b[0..j-1))
    row[0] = i;                     // a[0..i) → "": i deletions
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      // min(delete a[i-1], insert b[j-1], substitute or keep)
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// The candidate closest to `typed`, or "" when none is close: within a third of the
/// typed length (at least 2), so `--microbatch` finds `--microbatches` but `--x` finds
/// nothing rather than a random two-letter flag.
std::string closest(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(typed, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

/// Every flag of `command` as typed on a command line: "--microbatches", "-M", ...
std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& l : option->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : option->get_snames()) names.push_back("-" + s);
  }
  return names;
}

/// The words joined by spaces, in the order given.
std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
  return text;
}

}  // namespace

std::string describe_parse_error(const CLI::App& app, const CLI::ParseError& e) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();  // the one parsed, if any
  const CLI::App& command = parsed.empty() ? app : *parsed.front();
  const std::string where = parsed.empty() ? std::string("pipelab") : "pipelab " + command.get_name();
  const std::string hint = " (hint: see `" + where + " --help`)";
  // remaining(true): what no option took, in the order typed, the subcommand's included.
  const std::vector<std::string> extras = app.remaining(true);
  // `pipelab compar`: CLI11 says "A subcommand is required"; name the closest one.
  const bool unknown_subcommand = parsed.empty() && !extras.empty() && !extras.front().empty() &&
                                  extras.front()[0] != '-';
  if ((dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr && !unknown_subcommand) || extras.empty())
    return e.what() + hint;
  const std::string as_typed =
      extras.size() > 1 ? " (not understood, in the order typed: " + joined(extras) + ")" : std::string();
  const auto flag = std::find_if(extras.begin(), extras.end(),
                                 [](const std::string& a) { return a.size() > 1 && a[0] == '-'; });
  if (flag != extras.end() && !unknown_subcommand) {
    const std::string typed = flag->substr(0, flag->find('='));  // --microbatch=8 → --microbatch
    const std::string suggestion = closest(typed, flag_names(command));
    return "unknown flag " + typed + " of `" + where + "`" +
           (suggestion.empty() ? std::string() : "; did you mean " + suggestion + "?") + as_typed + hint;
  }
  if (parsed.empty()) {
    std::vector<std::string> subcommands;
    for (const CLI::App* sub : app.get_subcommands(std::function<bool(const CLI::App*)>{})) subcommands.push_back(sub->get_name());
    const std::string suggestion = closest(extras.front(), subcommands);
    return "unknown subcommand '" + extras.front() + "'" +
           (suggestion.empty() ? std::string() : "; did you mean " + suggestion + "?") + as_typed +
           " (hint: see `pipelab --help`)";
  }
  return "unexpected argument" + std::string(extras.size() > 1 ? "s " : " ") + joined(extras) + " of `" +
         where + "` (it takes no positional arguments: its flags start with -)" + hint;
}

}  // namespace pipelab::cli
