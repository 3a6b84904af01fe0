// pipelab/error.h — the one exception type of the kit.
//
// Library code (core/, kernels/) throws pipelab::Error with a message, a hint
// that tells the user what to do, and the file:line that threw. Only main()
// catches it and prints it. NotImplemented is what an untouched exercise
// skeleton throws, so a failing graded test names the task ("ex02: ...").
#pragma once

#include <stdexcept>
#include <string>

namespace pipelab {

/// The kit's error: what went wrong, a hint how to fix it, and where it was thrown.
class Error : public std::runtime_error {
 public:
  /// `file` and `line` name the throw site (PIPELAB_THROW fills them in).
  Error(std::string message, std::string hint, const char* file = "", int line = 0);

  /// What went wrong, one line, no hint.
  const std::string& message() const { return message_; }
  /// What the user can do about it (may be empty).
  const std::string& hint() const { return hint_; }
  /// "file.cpp:123" of the throw site (empty when unknown).
  const std::string& where() const { return where_; }

 private:
  std::string message_;
  std::string hint_;
  std::string where_;
};

/// Thrown by exercise skeletons: "exNN: what to implement".
class NotImplemented : public Error {
 public:
  /// `task` is "exNN: what to implement".
  explicit NotImplemented(const std::string& task)
      : Error("not implemented: " + task, "write this function in exercises/ (see its TODO)") {}
};

/// An invalid user setting (a flag or config value). The CLI maps it to exit code 2.
class UsageError : public Error {
 public:
  /// The message reads "<flag>: <message>".
  UsageError(const std::string& flag, const std::string& message, const std::string& hint,
             const char* file = "", int line = 0)
      : Error(flag + ": " + message, hint, file, line), flag_(flag) {}
  /// The flag or setting at fault, e.g. "--devices".
  const std::string& flag() const { return flag_; }

 private:
  std::string flag_;
};

}  // namespace pipelab

/// Throw pipelab::Error with the call site's file and line.
#define PIPELAB_THROW(message, hint) throw ::pipelab::Error((message), (hint), __FILE__, __LINE__)

/// Throw pipelab::UsageError naming the flag at fault.
#define PIPELAB_USAGE_ERROR(flag, message, hint) \
  throw ::pipelab::UsageError((flag), (message), (hint), __FILE__, __LINE__)

/// Check a condition; on failure throw pipelab::Error naming the condition.
#define PIPELAB_CHECK(cond, hint)                                              \
  do {                                                                        \
    if (!(cond)) PIPELAB_THROW(std::string("check failed: ") + #cond, (hint)); \
  } while (0)
