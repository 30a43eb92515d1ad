#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "demerit/core/status.h"

namespace demerit::cli {

// The exit code of a command whose standard output is a pipe that its reader
// closed (`demerit replay ... | head`): the command stops quietly, with the
// status of a process ended by SIGPIPE (128 + 13), after removing what it
// made. The commands that write through Output ignore SIGPIPE for this.
constexpr int kExitPipeClosed = 141;

// Where a command writes its result: a file, or standard output for "-".
// Every write, the flush and the close are checked (a full disk, a closed
// pipe); the first failure is kept, and what is written after it is dropped.
class Output {
 public:
  // Opens `path` for writing, truncating it; "-" is standard output.
  static core::StatusOr<std::unique_ptr<Output>> Open(const std::string& path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void Write(std::string_view bytes);
  // Flushes, and closes a file (standard output is flushed only). Returns the
  // first failure of a write, the flush or the close, naming the output.
  core::Status Close();
  // Whether a write has failed (Close reports why).
  bool failed() const { return error_ != 0; }
  // Whether the failure is the reader of a pipe going away (EPIPE).
  bool pipe_closed() const { return error_ == EPIPE; }

 private:
  Output(FILE* file, bool owned, std::string name)
      : file_(file), owned_(owned), name_(std::move(name)) {}
  core::Status Failure() const;

  FILE* file_;
  bool owned_;
  std::string name_;  // the path, or "standard output"
  int error_ = 0;     // errno of the first failure
};

// Says on stderr why an output failed and returns the exit code: kExitIo, or
// kExitPipeClosed without a word when the output was a pipe its reader closed.
int OutputFailed(const Output& out, const core::Status& why);

// Writes `bytes` to `path` ("-": standard output) and closes it. Returns
// kExitOk, or the exit code of OutputFailed after saying why.
int WriteOutput(const std::string& path, std::string_view bytes);

}  // namespace demerit::cli
