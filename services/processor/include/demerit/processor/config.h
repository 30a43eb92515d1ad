#pragma once

#include <map>
#include <string>

#include "demerit/core/facts.h"
#include "demerit/core/status.h"
#include "demerit/v1/events.pb.h"

namespace demerit::processor {

struct Topics {
  std::string attendance = "attendance.punches";
  std::string calls = "calls.events";
  std::string visits = "visits.completions";
  std::string callbacks = "callbacks.results";
  std::string observations = "observations";
  std::string penalties = "demerit.penalties";
  std::string deadletter = "demerit.deadletter";
  std::string changelog = "demerit.changelog";

  // The input topic of each stream, by topic name.
  std::map<std::string, core::Stream> Inputs() const;
  // The input topic of `stream`.
  const std::string& Input(core::Stream stream) const;
  // The input topic of an event's stream ("" for an envelope without payload).
  std::string InputOf(const v1::Envelope& event) const;
};

// The processor's settings. Defaults, then the YAML file (--config), then
// flags, then the environment for secrets.
struct ProcessorConfig {
  std::string bootstrap = "127.0.0.1:9092";
  std::string rules = "rules";
  std::string state = "state";
  std::string metrics_listen = "0.0.0.0:9464";
  std::string application_id = "demerit";  // consumer group, transactional id prefix
  std::string instance_id = "0";           // stable per instance
  int commit_interval_ms = 100;
  int cache_mb = 1024;  // memory for active employees' state; the rest stays in RocksDB
  Topics topics;
  std::map<std::string, std::string> kafka;  // librdkafka properties, passed through
};

// The allowed transaction commit interval, in the file and on the command line.
constexpr int kMinCommitIntervalMs = 1;
constexpr int kMaxCommitIntervalMs = 60000;

// Reads a YAML configuration file into *config (keys not in the file keep
// their values): "cannot read" if it cannot be read, else ParseConfig.
core::Status LoadConfigFile(const std::string& path, ProcessorConfig* config);

// Reads the YAML configuration `text` of file `path` into *config. Unknown and
// duplicate keys and bad values are errors; the message lists every one, a
// line each, as "path:line:column: what is wrong (Hint: what is allowed)".
core::Status ParseConfig(const std::string& path, const std::string& text, ProcessorConfig* config);

// Applies DEMERIT_KAFKA_SASL_USERNAME, DEMERIT_KAFKA_SASL_PASSWORD and
// DEMERIT_KAFKA_SSL_CA_LOCATION from the environment.
void ApplyEnvironment(ProcessorConfig* config);

}  // namespace demerit::processor
