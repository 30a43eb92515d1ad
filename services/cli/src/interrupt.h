#pragma once

namespace demerit::cli {

// While an InterruptScope lives, SIGINT and SIGTERM do not end the process:
// the first one is recorded, for the command to stop at its next check of
// InterruptScope::signal(), remove what it made (a temporary state
// directory) and exit with InterruptedExitCode(). A blocking read returns
// early (EINTR) rather than waiting for input. A second signal of the same
// kind ends the process at once. A signal ignored when the process started
// stays ignored.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();  // the previous handlers again
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // SIGINT or SIGTERM once one has come; 0 before.
  static int signal();
};

// The exit code of a command stopped by `signal`, as a shell reports a process
// ended by it: 130 for SIGINT, 143 for SIGTERM.
constexpr int InterruptedExitCode(int signal) { return 128 + signal; }

}  // namespace demerit::cli
