#pragma once

// The stream processor: consumes the input topics, applies the rules with the
// engine and commits decisions, dead letters, state changelog and input
// offsets in one Kafka transaction at a time (exactly once).

#include <atomic>
#include <memory>

#include "demerit/processor/config.h"

namespace demerit::processor {

// Exit codes of `demerit process`.
enum ProcessExit {
  kProcessOk = 0,
  kProcessConfig = 2,
  kProcessRules = 3,
  kProcessState = 4,
  kProcessKafka = 5,
  kProcessFenced = 6,
};

// Set by signal handlers: stop (SIGTERM, SIGINT) and reload the rules (SIGHUP).
struct Signals {
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
};

// Runs until stopped; returns a ProcessExit code.
int RunProcessor(const ProcessorConfig& config, Signals& signals);

}  // namespace demerit::processor
