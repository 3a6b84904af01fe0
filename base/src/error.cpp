// error.cpp — pipelab::Error construction (message + hint + throw site).
#include "pipelab/error.h"

#include <cstring>

namespace pipelab {

namespace {
// Keep only the file name of __FILE__: full build paths are noise in a message.
std::string short_where(const char* file, int line) {
  if (file == nullptr || *file == '\0') return {};
  const char* slash = std::strrchr(file, '/');
  return std::string(slash ? slash + 1 : file) + ":" + std::to_string(line);
}
}  // namespace

Error::Error(std::string message, std::string hint, const char* file, int line)
    : std::runtime_error(message + (hint.empty() ? "" : " (hint: " + hint + ")")),
      message_(std::move(message)),
      hint_(std::move(hint)),
      where_(short_where(file, line)) {}

}  // namespace pipelab
