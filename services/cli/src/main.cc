// The demerit command.

#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace demerit::cli;
  CLI::App app{"demerit: conduct policy as data, applied to workplace events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "demerit 0.1.0");

  ReplayOptions replay;
  auto* replay_cmd = app.add_subcommand(
      "replay", "Apply rules to an event file and print the decisions (NDJSON by default)");
  replay_cmd->add_option("--rules", replay.rules_dir, "Rules directory")->capture_default_str();
  replay_cmd->add_option("--events", replay.events, "Event file, - for standard input")
      ->required();
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

  auto* rules_cmd = app.add_subcommand("rules", "Check or test a rules directory");
  rules_cmd->require_subcommand(1);
  std::string check_dir, test_dir;
  bool verbose = false;
  auto* check_cmd = rules_cmd->add_subcommand("check", "Compile the rules and report errors");
  check_cmd->add_option("dir", check_dir, "Rules directory")->required();
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (*replay_cmd) return RunReplay(replay);
  if (*check_cmd) return RunRulesCheck(check_dir);
  if (*test_cmd) return RunRulesTest(test_dir, verbose);
  if (*gen_cmd) return RunGen(gen);
  return kExitUsage;
}
