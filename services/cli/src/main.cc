// The demerit command.

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "output.h"

int main(int argc, char** argv) {
  using namespace demerit::cli;
  CLI::App app{"demerit: conduct policy as data, applied to workplace events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "demerit 0.1.0");

  ReplayOptions replay;
  auto* replay_cmd = app.add_subcommand(
      "replay",
      "Apply rules to an event file, or the input topics, and print the decisions (NDJSON by "
      "default)");
  replay_cmd->add_option("--rules", replay.rules_dir, "Rules directory")->capture_default_str();
  replay_cmd->add_option("--events", replay.events,
                         "Event file, - for standard input");
  replay_cmd->add_option("--bootstrap", replay.kafka.bootstrap,
                         "Replay the input topics of this Kafka cluster instead of a file");
  replay_cmd->add_option("--config", replay.kafka.config_file,
                         "YAML configuration for --bootstrap (topic names, kafka: properties)");
  replay_cmd->add_option("--from", replay.from, "Only events with occurred_at >= this (RFC 3339)");
  replay_cmd->add_option("--to", replay.to, "Only events with occurred_at < this (RFC 3339)");
  replay_cmd
      ->add_option("--offsets", replay.offsets,
                   "With --bootstrap: read only offsets [FROM, TO) of a partition, as "
                   "TOPIC:PARTITION:FROM-TO (PARTITION * for all; FROM or TO may be "
                   "empty); repeatable or comma-separated")
      ->type_name("TOPIC:PARTITION:FROM-TO")
      ->allow_extra_args(false);
  replay_cmd
      ->add_option("--to-committed", replay.to_committed,
                   "With --bootstrap: stop each partition at the committed offset of this "
                   "consumer group (the processor's: its application id, demerit)")
      ->type_name("GROUP");
  replay_cmd->add_option("--out", replay.out, "Write the decisions here (default: stdout)");
  replay_cmd->add_option("--input-format", replay.input_format,
                         "ndjson or pb (length-delimited binary); auto: pb for *.pb and *.bin")
      ->capture_default_str();
  replay_cmd->add_option("--state", replay.state_dir,
                         "Keep the RocksDB state in DIR (default: a temporary directory)");
  replay_cmd->add_flag("--net", replay.net,
                       "Print only the standing decisions, sorted by employee, time, rule");
  replay_cmd->add_option("--format", replay.format, "ndjson or table")->capture_default_str();
  replay_cmd->add_flag("-q,--quiet", replay.quiet, "No summary or progress on stderr");
  replay_cmd->add_option("--cache-mb", replay.cache_mb,
                         "Memory for active employees' state (MiB); the rest stays in RocksDB")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 20));
  replay_cmd->add_option("--metrics-out", replay.metrics_out,
                         "Write the run's metrics to FILE at the end (Prometheus text format)");

  auto* rules_cmd = app.add_subcommand("rules", "Check or test a rules directory");
  rules_cmd->require_subcommand(1);
  std::string check_dir, previous_dir, test_dir;
  bool verbose = false;
  auto* check_cmd = rules_cmd->add_subcommand("check", "Compile the rules and report errors");
  check_cmd->add_option("dir", check_dir, "Rules directory")->required();
  check_cmd->add_option("--previous", previous_dir,
                        "Rules directory in force until now: report every rule in force there "
                        "that DIR changes without a new effective_from (exit 7)");
  auto* test_cmd = rules_cmd->add_subcommand("test", "Run the rule test cases in DIR/tests");
  test_cmd->add_option("dir", test_dir, "Rules directory")->required();
  test_cmd->add_flag("-v,--verbose", verbose, "List every case");

  GenOptions gen;
  auto* gen_cmd = app.add_subcommand("gen", "Generate a deterministic synthetic workload");
  gen_cmd->add_option("--employees", gen.employees)->capture_default_str();
  gen_cmd->add_option("--sites", gen.sites, "Use the first S sites of the rules")
      ->capture_default_str();
  gen_cmd->add_option("--days", gen.days)->capture_default_str();
  gen_cmd->add_option("--seed", gen.seed)->capture_default_str();
  gen_cmd->add_option("--format", gen.format, "ndjson or pb")->capture_default_str();
  gen_cmd->add_option("--rules", gen.rules_dir, "Rules directory (for the sites)")
      ->capture_default_str();
  gen_cmd->add_option("--start", gen.start, "Local date of the first day")->capture_default_str();
  gen_cmd->add_option("--out", gen.out, "Output file, - for standard output")
      ->capture_default_str();

  auto kafka_flags = [](CLI::App* cmd, KafkaOptions* k) {
    cmd->add_option("--bootstrap", k->bootstrap, "Kafka bootstrap address HOST:PORT");
    cmd->add_option("--config", k->config_file,
                    "YAML configuration (topic names, kafka: properties)");
  };
  ProcessOptions process;
  auto* process_cmd = app.add_subcommand(
      "process", "Run the stream processor: Kafka in, decisions out, exactly once");
  kafka_flags(process_cmd, &process.kafka);
  process_cmd->add_option("--rules", process.rules, "Rules directory");
  process_cmd->add_option("--state", process.state, "State directory (RocksDB)");
  process_cmd->add_option("--metrics-listen", process.metrics_listen,
                          "Address for /metrics, /healthz, /readyz");
  process_cmd->add_option("--instance-id", process.instance_id,
                          "Stable id of this instance (transactional id suffix)");
  process_cmd->add_option("--application-id", process.application_id,
                          "Consumer group and transactional id prefix");
  process_cmd
      ->add_option("--commit-interval-ms", process.commit_interval_ms,
                   "Transaction commit interval (default 100)")
      ->check(CLI::Range(demerit::processor::kMinCommitIntervalMs,
                         demerit::processor::kMaxCommitIntervalMs));

  TopicsOptions topics;
  auto* topics_cmd = app.add_subcommand(
      "topics", "Create, or check and report, every topic demerit uses");
  kafka_flags(topics_cmd, &topics.kafka);
  topics_cmd->add_option("--partitions", topics.partitions, "Partitions per topic")->required();
  topics_cmd->add_option("--replication", topics.replication)->capture_default_str();

  ProduceOptions produce;
  auto* produce_cmd = app.add_subcommand(
      "produce", "Publish events to the input topics, keyed by employee id (murmur2)");
  kafka_flags(produce_cmd, &produce.kafka);
  produce_cmd->add_option("--events", produce.events, "Event file, - for standard input")
      ->required();
  produce_cmd->add_option("--input-format", produce.input_format, "auto, ndjson or pb")
      ->capture_default_str();

  TailOptions tail;
  auto* tail_cmd =
      app.add_subcommand("tail", "Print the committed records of a topic as NDJSON");
  kafka_flags(tail_cmd, &tail.kafka);
  tail_cmd->add_option("--topic", tail.topic, "Topic (default: the penalties topic)");
  tail_cmd->add_flag("--from-beginning", tail.from_beginning, "Start at the oldest record");
  tail_cmd->add_flag("--exit-at-end", tail.exit_at_end, "Exit after reading to the end");

  LagOptions lag;
  auto* lag_cmd = app.add_subcommand(
      "lag", "Print the processor group's lag per input partition; the total last");
  kafka_flags(lag_cmd, &lag.kafka);
  lag_cmd->add_option("--group", lag.group, "Consumer group (default: the application id)");
  lag_cmd->add_flag("--total", lag.total_only, "Print only the total");

  AuditDiffOptions diff;
  auto* audit_cmd = app.add_subcommand("audit", "Check decisions against a replay");
  audit_cmd->require_subcommand(1);
  auto* diff_cmd = audit_cmd->add_subcommand(
      "diff", "Compare two decision logs, reversals applied; exit 0 only when they agree");
  diff_cmd->add_option("--decisions", diff.decisions, "Decision log (NDJSON)");
  diff_cmd->add_option("--against", diff.against, "The log to compare with (NDJSON)");
  diff_cmd->add_option("--bootstrap", diff.kafka.bootstrap,
                       "Compare the committed penalties topic with a replay of the input topics");
  diff_cmd->add_option("--config", diff.kafka.config_file, "YAML configuration for --bootstrap");
  diff_cmd->add_option("--rules", diff.rules, "Rules for the replay")->capture_default_str();
  diff_cmd->add_option("--from", diff.from, "Event-time bound, RFC 3339 (inclusive)");
  diff_cmd->add_option("--to", diff.to, "Event-time bound, RFC 3339 (exclusive)");
  diff_cmd
      ->add_option("--to-committed", diff.to_committed,
                   "With --bootstrap: replay the input up to this consumer group's committed "
                   "offsets (the processor's: its application id, demerit)")
      ->type_name("GROUP");
  diff_cmd->add_flag("--json", diff.json, "Findings as NDJSON");

  ExplainOptions explain;
  auto* explain_cmd = app.add_subcommand(
      "explain", "Explain one decision of a decision log: rule, window, occurrences, history");
  explain_cmd->add_option("penalty_id", explain.penalty_id, "An ISSUE or REVERSAL penalty_id")
      ->required();
  explain_cmd->add_option("--decisions", explain.decisions,
                          "Decision log (NDJSON, as replay prints it)");
  kafka_flags(explain_cmd, &explain.kafka);
  explain_cmd->add_option("--rules", explain.rules_dir, "Rules directory")->capture_default_str();
  explain_cmd->add_option("--events", explain.events,
                          "Event file, to show the content of the evidence events");
  explain_cmd->add_option("--input-format", explain.input_format,
                          "Of --events: ndjson or pb; auto: pb for *.pb and *.bin")
      ->capture_default_str();
  explain_cmd->add_flag("--json", explain.json, "One JSON object instead of text");

  ExportOptions export_options;
  auto* export_cmd = app.add_subcommand(
      "export", "Payroll CSV of one site and local month from a decision log");
  export_cmd->add_option("--decisions", export_options.decisions,
                         "Decision log (NDJSON, as replay prints it), - for standard input");
  kafka_flags(export_cmd, &export_options.kafka);
  export_cmd->add_option("--rules", export_options.rules_dir, "Rules directory (site time zones)")
      ->capture_default_str();
  export_cmd->add_option("--site", export_options.site, "Site id")->required();
  export_cmd->add_option("--period", export_options.period, "YYYY-MM, the local month at the site")
      ->required();
  export_cmd
      ->add_option("--as-of-line", export_options.as_of_line,
                   "Use only the first N lines of the log: the export made when it had N lines")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  export_cmd->add_option("--as-of", export_options.as_of,
                         "With --bootstrap: only decisions appended by this time (RFC 3339)");
  export_cmd->add_option("--out", export_options.out, "Output file, - for standard output")
      ->capture_default_str();
  export_cmd->add_flag("--excel", export_options.excel,
                       "Start with a UTF-8 byte order mark, for spreadsheets that need one");

  // A first word that names no command: say so, rather than that a command
  // is required.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->check_name(argv[1]);
    }
    if (!known) {
      std::cerr << "unknown command `" << argv[1] << "` (Hint: the commands are " << names
                << "; demerit --help describes them)\n";
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  // These commands check every write: a reader that closes the pipe is an
  // EPIPE they stop on quietly, after removing what they made, rather than
  // a signal that ends them at once.
  if (*replay_cmd || *gen_cmd || *diff_cmd || *explain_cmd || *export_cmd) {
    std::signal(SIGPIPE, SIG_IGN);
  }
  auto dispatch = [&]() -> int {
    if (*replay_cmd) {
      replay.process_ends = true;
      return RunReplay(replay);
    }
    if (*check_cmd) return RunRulesCheck(check_dir, previous_dir);
    if (*test_cmd) return RunRulesTest(test_dir, verbose);
    if (*gen_cmd) return RunGen(gen);
    if (*process_cmd) return RunProcess(process);
    if (*topics_cmd) return RunTopics(topics);
    if (*produce_cmd) return RunProduce(produce);
    if (*tail_cmd) return RunTail(tail);
    if (*diff_cmd) return RunAuditDiff(diff);
    if (*explain_cmd) return RunExplain(explain);
    if (*export_cmd) return RunExport(export_options);
    if (*lag_cmd) return RunLag(lag);
    return kExitUsage;
  };
  int code = dispatch();
  // What a command printed with std::cout (rules check and test, topics,
  // lag) is checked here; the commands that write through Output did so.
  std::cout.flush();
  if ((!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) && code != kExitIo &&
      code != kExitPipeClosed) {
    std::cerr << "cannot write standard output: " << std::strerror(errno) << "\n";
    return kExitIo;
  }
  return code;
}
