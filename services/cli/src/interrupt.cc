#include "interrupt.h"

#include <csignal>
#include <utility>

namespace demerit::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_previous_int, g_previous_term;

void Record(int signal) { g_signal = signal; }

}  // namespace

InterruptScope::InterruptScope() {
  struct sigaction action = {};
  action.sa_handler = Record;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a read waiting for input returns, and the command sees
  // the signal. SA_RESETHAND: a second signal has the default effect.
  action.sa_flags = SA_RESETHAND;
  // A signal ignored when the command started (SIGINT in a shell script's
  // background job) stays ignored.
  for (auto [signal, previous] :
       {std::pair{SIGINT, &g_previous_int}, std::pair{SIGTERM, &g_previous_term}}) {
    sigaction(signal, nullptr, previous);
    if (previous->sa_handler != SIG_IGN) sigaction(signal, &action, nullptr);
  }
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int InterruptScope::signal() { return g_signal; }

}  // namespace demerit::cli
