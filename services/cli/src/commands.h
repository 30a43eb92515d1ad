#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/core/rules.h"
#include "demerit/processor/config.h"
#include "demerit/v1/events.pb.h"

namespace demerit::cli {

// Exit codes of the demerit command.
enum ExitCode {
  kExitOk = 0,
  kExitRejected = 1,    // the run finished, but some input records were rejected
  kExitUsage = 2,       // bad command line
  kExitRules = 3,       // the rules do not compile, or rule tests failed
  kExitIo = 4,          // an input, output or state directory could not be used
  kExitRuleEdited = 7,  // rules check --previous: a rule in force changed in place
};

// Options every Kafka command takes.
struct KafkaOptions {
  std::string bootstrap;    // overrides the configuration's
  std::string config_file;  // optional YAML, as for `demerit process`
};

// The settings of a Kafka command: defaults, --config, flags, environment.
// Returns kExitOk, or the exit code after saying why on stderr: kExitIo when
// --config cannot be read, kExitUsage when it is not valid.
int KafkaSettings(const KafkaOptions& options, processor::ProcessorConfig* config);

struct ReplayOptions {
  std::string rules_dir = "rules";
  std::string events;                 // a file, or - for standard input
  std::string input_format = "auto";  // auto | ndjson | pb
  std::string state_dir;              // empty: a temporary directory, removed at the end
  std::string format = "ndjson";      // ndjson | table
  bool net = false;
  bool quiet = false;
  size_t cache_mb = 1024;  // employees' state kept in memory
  KafkaOptions kafka;      // with a bootstrap: read the input topics instead of --events
  std::string from, to;    // event-time bounds, RFC 3339, [from, to)
  // With a bootstrap: offset bounds of the input partitions (TOPIC:PARTITION:FROM-TO,
  // see ParseOffsetRanges), and a consumer group whose committed offsets end the read.
  std::vector<std::string> offsets;
  std::string to_committed;
  std::string out = "-";    // where the decisions go
  std::string metrics_out;  // write the metrics here at the end (Prometheus text format)
  // The process exits when the replay returns: its employee cache is left to
  // the operating system instead of being freed block by block.
  bool process_ends = false;
};
int RunReplay(const ReplayOptions& options);
// Parses --from/--to (RFC 3339; empty: unbounded) into [*from, *to).
core::Status ParseEventTimeBounds(const std::string& from_text, const std::string& to_text,
                                  int64_t* from, int64_t* to);

// Compiles the rules of `dir`; with `previous` (a rules directory, "" for
// none), also reports every rule in force there that `dir` changes without a
// new effective_from.
int RunRulesCheck(const std::string& dir, const std::string& previous);
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
  std::string out = "-";
  std::string as_of;  // RFC 3339: skip records appended after this time
};

// Reads the whole penalties topic (committed, up to its end, appended by
// `as_of` if given) into a temporary decision log; sets *path. Returns an exit code.
int ReadPenaltiesToFile(const KafkaOptions& kafka, const std::string& as_of, std::string* path);
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
  // With a bootstrap: the committed decisions of the penalties topic against
  // a replay of all the input topics, compared within [from, to) of event time.
  KafkaOptions kafka;
  std::string rules = "rules";
  std::string from, to;
  // A consumer group: the replay reads the input up to its committed offsets,
  // fetched around the read of the penalties topic and required to be the
  // same before and after it.
  std::string to_committed;
};
// Exit 0 only when both logs, reversals applied, have the same standing decisions.
int RunAuditDiff(const AuditDiffOptions& options);

// Reads a decision log (NDJSON, one demerit.v1.Decision a line, as replay and
// tail print it) and calls visit(line, decision) for each decision in log
// order, with its 1-based line number; blank lines are skipped. Reads at most
// `max_lines` lines when it is positive. When `must_contain` is not empty,
// lines without that text are skipped unparsed (a fast filter: the visitor
// still checks what it needs). Stops at the first line that is not a
// decision, with an error naming `name` and the line; with `on_bad`, calls
// on_bad(line, why) for such a line instead and goes on. A line skipped
// unparsed counts as bad when it is not shaped as one JSON object. With
// `lines`, sets *lines to the number of lines read, blank ones too.
core::Status ReadDecisionLog(
    std::istream& in, const std::string& name, int64_t max_lines, std::string_view must_contain,
    const std::function<void(int64_t, const v1::Decision&)>& visit,
    const std::function<void(int64_t, const std::string&)>& on_bad = nullptr,
    int64_t* lines = nullptr);

struct ExplainOptions {
  KafkaOptions kafka;                 // with a bootstrap: the log is the penalties topic
  std::string penalty_id;             // an ISSUE id, or a REVERSAL id (its issue is explained)
  std::string decisions;              // the decision log (NDJSON, as replay prints it)
  std::string rules_dir = "rules";    // for titles, the site's time zone and the ladder
  std::string events;                 // optional: the event file, to show the evidence events
  std::string input_format = "auto";  // of --events: auto | ndjson | pb
  bool json = false;
};
// Explains one decision: rule, clause, version, pack, site and zone, local
// window, ranked occurrences, ladder step, guardrail, history in the log.
// Exit 0 when found, 1 when the id is not in the log.
int RunExplain(const ExplainOptions& options);

struct ExportOptions {
  KafkaOptions kafka;               // with a bootstrap: the log is the penalties topic
  std::string decisions;            // the decision log (NDJSON, as replay prints it)
  std::string rules_dir = "rules";  // for the site's time zone
  std::string site;
  std::string period;      // YYYY-MM: the local month at the site
  int64_t as_of_line = 0;  // > 0: use only the first N lines of the log
  std::string as_of;       // a time: with --bootstrap, only decisions appended by then
  std::string out = "-";
  bool excel = false;  // a UTF-8 byte order mark first, for spreadsheets
};
// Writes one site's payroll month as CSV (RFC 4180, CRLF, header row): per
// employee, the standing issues whose trigger's local month is the period.
// Text cells that start like a formula get a ' first (CSV injection).
int RunExport(const ExportOptions& options);

// The events `demerit gen` writes, in the order it writes them.
core::StatusOr<std::vector<v1::Envelope>> GenerateEvents(const GenOptions& options,
                                                         const core::RuleSet& rules);

}  // namespace demerit::cli
