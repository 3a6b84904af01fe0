// cli/parse_errors.h — CLI11's parse errors as pipelab's one-line usage errors.
//
//   main(): catch (CLI::ParseError) → describe_parse_error(app, e) → stderr, exit 2
//
// An unknown flag names the closest flag of that subcommand ("unknown flag --microbatch;
// did you mean --microbatches?"), an unknown subcommand the closest subcommand, and the
// arguments not understood are listed in the order typed (CLI11's own message lists
// them reversed).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace pipelab::cli {

/// The one line main() prints for a CLI11 parse error (after "pipelab: error: "): the
/// message, and a hint naming the subcommand's --help.
std::string describe_parse_error(const CLI::App& app, const CLI::ParseError& e);

}  // namespace pipelab::cli
