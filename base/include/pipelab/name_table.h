// pipelab/name_table.h — one table of names per enum, read both ways.
//
// Every enum whose values are printed or parsed (CLI flags, JSON, trace files) has
// exactly one table { {Enum::A, "a"}, {Enum::B, "b"} }. to_string, the parser and
// the "use one of …" hint all read that table, so a name is written once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace pipelab {

/// One row of an enum's name table.
template <typename Enum>
struct EnumName {
  Enum value;        ///< the enum value
  const char* name;  ///< its one spelling in flags, JSON and traces
};

/// The name of `value` in `table` ("?" if the table lacks it: a bug, never shown by design).
template <typename Enum, std::size_t N>
const char* name_of(const EnumName<Enum> (&table)[N], Enum value) {
  for (const auto& row : table)
    if (row.value == value) return row.name;
  return "?";
}

/// The value named `name` in `table`, or nullopt.
template <typename Enum, std::size_t N>
std::optional<Enum> value_named(const EnumName<Enum> (&table)[N], const std::string& name) {
  for (const auto& row : table)
    if (name == row.name) return row.value;
  return std::nullopt;
}

/// "a, b, c": every name of `table` in order, for hints.
template <typename Enum, std::size_t N>
std::string list_names(const EnumName<Enum> (&table)[N]) {
  std::string out;
  for (const auto& row : table) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

}  // namespace pipelab
