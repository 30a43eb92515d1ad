#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "demerit/core/rules.h"
#include "demerit/v1/events.pb.h"

namespace demerit::cli {

// Exit codes of the demerit command.
enum ExitCode {
  kExitOk = 0,
  kExitRejected = 1,   // the run finished, but some input records were rejected
  kExitUsage = 2,      // bad command line
  kExitRules = 3,      // the rules do not compile, or rule tests failed
  kExitIo = 4,         // an input, output or state directory could not be used
};

struct ReplayOptions {
  std::string rules_dir = "rules";
  std::string events = "-";
  std::string input_format = "auto";  // auto | ndjson | pb
  std::string state_dir;              // empty: a temporary directory, removed at the end
  std::string format = "ndjson";      // ndjson | table
  bool net = false;
  bool quiet = false;
  size_t cache_mb = 1024;  // employees' state kept in memory
};
int RunReplay(const ReplayOptions& options);

int RunRulesCheck(const std::string& dir);
int RunRulesTest(const std::string& dir, bool verbose);

struct GenOptions {
  int employees = 100;
  int sites = 6;
  int days = 30;
  uint64_t seed = 1;
  std::string format = "ndjson";  // ndjson | pb
  std::string rules_dir = "rules";
  std::string start = "2026-11-02";  // local date of the first day
  std::string out = "-";
};
int RunGen(const GenOptions& options);

// Options every Kafka command takes.
struct KafkaOptions {
  std::string bootstrap;    // overrides the configuration's
  std::string config_file;  // optional YAML, as for `demerit process`
};

struct ProcessOptions {
  KafkaOptions kafka;
  std::string rules, state, metrics_listen, instance_id, application_id;
  int commit_interval_ms = 0;
};
int RunProcess(const ProcessOptions& options);

struct TopicsOptions {
  KafkaOptions kafka;
  int partitions = 0;
  int replication = 1;
};
int RunTopics(const TopicsOptions& options);

struct ProduceOptions {
  KafkaOptions kafka;
  std::string events = "-";
  std::string input_format = "auto";
};
int RunProduce(const ProduceOptions& options);

struct TailOptions {
  KafkaOptions kafka;
  std::string topic;  // default: the penalties topic
  bool from_beginning = false;
  bool exit_at_end = false;
};
int RunTail(const TailOptions& options);

struct LagOptions {
  KafkaOptions kafka;
  std::string group;  // default: the application id
  bool total_only = false;
};
// Prints the group's lag per input partition, then the total on the last line.
int RunLag(const LagOptions& options);

struct AuditDiffOptions {
  std::string decisions;  // a decision log (NDJSON, as replay or tail print it)
  std::string against;
  bool json = false;
};
// Exit 0 only when both logs, reversals applied, have the same standing decisions.
int RunAuditDiff(const AuditDiffOptions& options);

// The events `demerit gen` writes, in the order it writes them.
core::StatusOr<std::vector<v1::Envelope>> GenerateEvents(const GenOptions& options,
                                                         const core::RuleSet& rules);

}  // namespace demerit::cli
