#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "commands.h"
#include "decision_table.h"
#include "demerit/core/engine.h"
#include "demerit/metrics/metrics.h"
#include "demerit/processor/config.h"
#include "demerit/processor/processor.h"
#include "demerit/processor/rule_files.h"
#include "demerit/store/rocksdb_state_store.h"
#include "event_reader.h"
#include "interrupt.h"
#include "kafka_source.h"
#include "output.h"

namespace demerit::cli {

using processor::LoadRuleDirectory;
using processor::ReadFile;

namespace fs = std::filesystem;

namespace {

// A temporary state directory, removed when the run ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "demerit-state-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Events applied together, grouped by employee, under --net.
constexpr size_t kGroupChunk = 1 << 18;

}  // namespace

core::Status ParseEventTimeBounds(const std::string& from_text, const std::string& to_text,
                                  int64_t* from, int64_t* to) {
  *from = std::numeric_limits<core::Nanos>::min();
  *to = std::numeric_limits<core::Nanos>::max();
  for (auto [text, bound] : {std::pair{&from_text, from}, std::pair{&to_text, to}}) {
    if (text->empty()) continue;
    auto t = core::ParseRfc3339(*text);
    if (!t.ok()) return core::Status::Error("--from/--to: " + t.status().message());
    *bound = *t;
  }
  if (!from_text.empty() && !to_text.empty() && *from >= *to) {
    return core::Status::Error("--from " + from_text + " is not before --to " + to_text +
                               " (Hint: the events kept are those in [from, to))");
  }
  return core::Status::Ok();
}

int RunReplay(const ReplayOptions& options) {
  // Ctrl-C or SIGTERM stops the replay at the next event; the temporary
  // state is removed on the way out.
  InterruptScope interrupt;
  auto rules = LoadRuleDirectory(options.rules_dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  InputFormat format = InputFormat::kNdjson;
  if (options.input_format == "pb" ||
      (options.input_format == "auto" && (options.events.ends_with(".pb") ||
                                          options.events.ends_with(".bin")))) {
    format = InputFormat::kBinary;
  } else if (options.input_format != "auto" && options.input_format != "ndjson") {
    std::cerr << "--input-format: unknown format \"" << options.input_format
              << "\" (Hint: ndjson or pb)\n";
    return kExitUsage;
  }
  if (options.format != "ndjson" && options.format != "table") {
    std::cerr << "--format: unknown format \"" << options.format << "\" (Hint: ndjson or table)\n";
    return kExitUsage;
  }
  // Events come from a file, or from the input topics with --bootstrap.
  const bool from_kafka = !options.kafka.bootstrap.empty() || !options.kafka.config_file.empty();
  if (from_kafka == !options.events.empty()) {
    std::cerr << "replay: give either --events FILE (- for standard input) or --bootstrap ADDR\n";
    return kExitUsage;
  }
  if (!from_kafka && (!options.offsets.empty() || !options.to_committed.empty())) {
    std::cerr << "replay: --offsets and --to-committed bound a replay of the input topics "
                 "(Hint: --bootstrap ADDR instead of --events)\n";
    return kExitUsage;
  }
  auto ranges = ParseOffsetRanges(options.offsets);
  if (!ranges.ok()) {
    std::cerr << ranges.status().message() << "\n";
    return kExitUsage;
  }
  std::unique_ptr<EventReader> file_reader;
  std::unique_ptr<KafkaEventSource> kafka_source;
  if (from_kafka) {
    processor::ProcessorConfig config;
    if (int code = KafkaSettings(options.kafka, &config); code != kExitOk) return code;
    auto source = KafkaEventSource::Connect(config, options.to_committed);
    if (!source.ok()) {
      std::cerr << source.status().message() << "\n";
      return processor::kProcessKafka;
    }
    auto spans = ResolveSpans((*source)->inputs(), *ranges, !options.to_committed.empty(),
                              options.to_committed);
    if (!spans.ok()) {
      std::cerr << spans.status().message() << "\n";
      return kExitUsage;
    }
    if (auto s = (*source)->Start(*spans); !s.ok()) {
      std::cerr << s.message() << "\n";
      return processor::kProcessKafka;
    }
    kafka_source = std::move(*source);
  } else {
    auto reader = EventReader::Open(options.events, format);
    if (!reader.ok()) {
      std::cerr << reader.status().message() << "\n";
      return kExitIo;
    }
    file_reader = std::move(*reader);
  }
  // Reads the next event, and its binary form when the input is binary.
  auto next = [&](v1::Envelope* e, core::Rejection* r, std::string_view* wire) {
    if (!file_reader) return kafka_source->Next(e, r);
    auto result = file_reader->Next(e, r);
    *wire = file_reader->wire();
    return result;
  };
  auto where_record = [&](int64_t record) {
    return options.events + ": " + (format == InputFormat::kNdjson ? "line " : "record ") +
           std::to_string(record);
  };
  auto where = [&]() -> std::string {
    if (kafka_source) return kafka_source->where();
    return where_record(file_reader->record());
  };
  auto bytes_read = [&]() -> uint64_t {
    return file_reader ? file_reader->bytes() : kafka_source->bytes();
  };
  // Event-time bounds.
  core::Nanos from = 0, to = 0;
  if (auto s = ParseEventTimeBounds(options.from, options.to, &from, &to); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitUsage;
  }
  auto out_file = Output::Open(options.out);
  if (!out_file.ok()) {
    std::cerr << out_file.status().message() << "\n";
    return kExitIo;
  }
  Output& out = **out_file;
  TempDir temp;
  std::string state_dir = options.state_dir.empty() ? temp.path() : options.state_dir;
  if (state_dir.empty()) {
    std::cerr << "cannot create a temporary state directory (Hint: --state DIR)\n";
    return kExitIo;
  }
  // The cache serves every read of what it wrote and commits before reading
  // again; the state is rebuilt by running again, so no write-ahead log. A
  // temporary state directory is deleted at the end: nothing is flushed to it.
  const bool keep_state = !options.state_dir.empty();
  auto store = store::RocksDbStateStore::Open(
      state_dir, store::RocksDbOptions{.read_your_writes = false,
                                       .write_ahead_log = false,
                                       .flush_on_close = keep_state,
                                       .bulk_load = true});
  if (!store.ok()) {
    std::cerr << store.status().message() << "\n";
    return kExitIo;
  }
  // Employees' state stays in memory. RocksDB gets it once at the end, and
  // before that only when the cache outgrows its budget: a commit then writes
  // every change and the cache drops the least recently used employees.
  const size_t budget = options.cache_mb << 20;
  auto cache_owner = std::make_unique<core::EmployeeStateCache>(
      store->get(),
      core::EmployeeStateCache::Options{.max_bytes = budget,
                                        .point_tables = std::string(core::kEnginePointTables)});
  core::EmployeeStateCache& cache = *cache_owner;
  core::Engine engine(*rules, &cache);
  auto commit = [&]() {
    cache.Flush();
    return (*store)->Commit();
  };
  // The cache trims itself to its budget only when it is flushed: above the
  // budget, commit (checked every 4,096 events).
  core::Status budget_commit;
  size_t until_budget_check = 4096;
  auto keep_to_budget = [&] {
    if (--until_budget_check > 0) return;
    until_budget_check = 4096;
    if (cache.cached_bytes() > budget && budget_commit.ok()) budget_commit = commit();
  };

  // Decisions go out in the order made; --net prints the standing ones from
  // the state at the end.
  std::string out_buffer;
  size_t issued = 0, reversed = 0;
  std::vector<v1::Decision> all_for_table;
  auto flush_out = [&] {
    out.Write(out_buffer);
    out_buffer.clear();
  };
  metrics::Metrics metrics;
  const bool with_metrics = !options.metrics_out.empty();
  auto stream_of = [](const v1::Envelope& e) {
    core::Stream stream;
    return core::StreamOf(e, &stream) ? std::string(core::StreamName(stream))
                                      : std::string("unknown");
  };
  int64_t read = 0, applied = 0, duplicates = 0, rejected = 0, outside = 0;
  // Records rejected as conflicting (a subset of rejected), and records
  // applied earlier that a conflict withdrew (dead-lettered late).
  int64_t conflicting = 0, withdrawn = 0;
  auto report = [&](const std::string& place, const std::string& stream,
                    const core::Rejection& why) {
    if (with_metrics) metrics.DeadLettered(stream, v1::DeadLetterReason_Name(why.reason));
    std::cerr << place << ": " << v1::DeadLetterReason_Name(why.reason) << ": " << why.detail
              << "\n";
  };
  auto reject = [&](const std::string& stream, const core::Rejection& why) {
    ++rejected;
    report(where(), stream, why);
  };
  std::vector<v1::Decision> decisions;
  // Applies an event that has passed ValidateEvent; `wire` is its binary form
  // or empty, `place` where it was read.
  auto apply = [&](const v1::Envelope& event, std::string_view wire, auto&& place) {
    decisions.clear();
    core::ApplyResult r = engine.ApplyValidated(event, wire, &decisions);
    keep_to_budget();
    switch (r.outcome) {
      case core::ApplyResult::Outcome::kApplied:
        ++applied;
        break;
      case core::ApplyResult::Outcome::kDuplicate:
        ++duplicates;
        break;
      case core::ApplyResult::Outcome::kRejected:
        // A conflict is found only here; what it withdrew is reversed below.
        ++rejected;
        ++conflicting;
        report(place(), stream_of(event), r.rejection);
        break;
    }
    for (const core::Withdrawn& w : r.withdrawn) {
      ++withdrawn;
      report(place() + ", an earlier record", stream_of(w.event), w.rejection);
    }
    if (with_metrics && r.outcome != core::ApplyResult::Outcome::kRejected) {
      if (const core::Site* site = (*rules)->FindSite(*core::HeaderOf(event).site_id)) {
        metrics.EventApplied(event, *site, r.outcome == core::ApplyResult::Outcome::kDuplicate);
      }
      for (const auto& [site, rule] : r.occurrences)
        metrics.Occurrence(site->id, rule->pack, rule->id);
      for (const auto& d : decisions) metrics.DecisionMade(d);
    }
    for (const auto& d : decisions) {
      ++(d.kind() == v1::REVERSAL ? reversed : issued);
      if (options.net) continue;
      if (options.format == "table") {
        all_for_table.push_back(d);
      } else {
        out_buffer += core::DecisionToJson(d);
        out_buffer += '\n';
      }
    }
    if (out_buffer.size() > (1 << 16)) flush_out();
  };
  // With --net nothing is printed as it is decided, so a chunk of events can
  // be applied employee by employee: each event's state is then still in the
  // CPU's caches from the employee's previous one (about a fifth faster on a
  // million events of 3,000 employees). The engine keeps every employee's
  // state apart, and the sort is stable, so each employee sees its events in
  // the input order and decides exactly what it would have decided in it:
  // the same decisions, counts and state; only their interleaving across
  // employees differs, which --net does not show.
  const bool grouped = options.net;
  const size_t chunk_limit = grouped ? kGroupChunk : 1;
  std::vector<v1::Envelope> chunk(1);  // grows to chunk_limit as events come
  // Their binary forms (binary input), one after the other, and where each ends.
  std::string wire_bytes;
  std::vector<size_t> wire_ends;
  // Where each was read, for what only applying finds (a conflict): the
  // record number in a file, the place in a topic.
  std::vector<int64_t> records;
  std::vector<std::string> places;
  chunk.reserve(chunk_limit);
  wire_ends.reserve(chunk_limit);
  // The chunk's employees numbered in order of first appearance, and its
  // events as (employee number << 32 | index in chunk): sorted, grouped by
  // employee and in input order within one (integers sort faster than ids).
  std::unordered_map<std::string_view, uint64_t> employee_numbers;
  std::vector<uint64_t> order;
  size_t buffered = 0;
  auto apply_chunk = [&] {
    employee_numbers.clear();
    order.clear();
    for (size_t i = 0; i < buffered; ++i) {
      auto [it, added] = employee_numbers.try_emplace(*core::HeaderOf(chunk[i]).employee_id,
                                                      employee_numbers.size());
      order.push_back(it->second << 32 | i);
    }
    std::sort(order.begin(), order.end());
    for (uint64_t key : order) {
      const size_t i = key & 0xffffffff;
      const size_t begin = i == 0 ? 0 : wire_ends[i - 1];
      apply(chunk[i], std::string_view(wire_bytes).substr(begin, wire_ends[i] - begin),
            [&] { return kafka_source ? places[i] : where_record(records[i]); });
    }
    buffered = 0;
    wire_bytes.clear();
    wire_ends.clear();
    records.clear();
    places.clear();
  };
  core::Rejection rejection;
  auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  bool progress_shown = false;
  // Stops reading when a signal came or the output failed (a full disk, a
  // closed pipe): nothing more can be written.
  while (InterruptScope::signal() == 0 && !out.failed()) {
    v1::Envelope& event = chunk[buffered];
    std::string_view wire;
    auto result = next(&event, &rejection, &wire);
    if (result == EventReader::Result::kEnd) break;
    ++read;
    if (result == EventReader::Result::kBad) {
      reject("unknown", rejection);
    } else if (core::Nanos at = core::HeaderOf(event).occurred_at; at < from || at >= to) {
      ++outside;
    } else if (auto bad = core::ValidateEvent(event, **rules)) {
      // What Apply would reject, reported where the reader is.
      reject(stream_of(event), *bad);
    } else if (!grouped) {
      apply(event, wire, where);
    } else {
      wire_bytes += wire;
      wire_ends.push_back(wire_bytes.size());
      if (kafka_source) {
        places.push_back(where());
      } else {
        records.push_back(file_reader->record());
      }
      if (++buffered == chunk_limit) {
        apply_chunk();
      } else if (buffered == chunk.size()) {
        chunk.emplace_back();
      }
    }
    if (!budget_commit.ok()) {
      std::cerr << budget_commit.message() << "\n";
      return kExitIo;
    }
    if (!options.quiet && read % 4096 == 0) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress > std::chrono::seconds(2)) {
        // Events read but still waiting in a chunk are not done yet.
        const long long done = applied + duplicates + rejected + outside;
        double secs = std::chrono::duration<double>(now - started).count();
        std::fprintf(stderr, "\r%lld events read (%.1f MB), %lld done, %.0f events/s ",
                     static_cast<long long>(read), bytes_read() / 1e6, done, done / secs);
        std::fflush(stderr);
        last_progress = now;
        progress_shown = true;
      }
    }
  }
  // Reports why the run stopped early; the temporary state goes with the
  // return.
  auto stopped = [&]() -> std::optional<int> {
    if (int signal = InterruptScope::signal(); signal != 0) {
      if (progress_shown) std::fputc('\n', stderr);
      std::cerr << "replay: stopped by " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
                << "; the decisions written are incomplete\n";
      return InterruptedExitCode(signal);
    }
    if (out.failed()) return OutputFailed(out, out.Close());
    return std::nullopt;
  };
  if (auto code = stopped()) return *code;
  if (file_reader && !file_reader->status().ok()) {
    std::cerr << file_reader->status().message() << "\n";
    return kExitIo;
  }
  if (grouped) apply_chunk();
  if (!budget_commit.ok()) {
    std::cerr << budget_commit.message() << "\n";
    return kExitIo;
  }
  if (kafka_source && kafka_source->stuck()) {
    std::cerr << "replay: the input topics could not be read to their ends\n";
    return processor::kProcessKafka;
  }
  cache.Flush();
  if (auto s = keep_state ? (*store)->Close() : (*store)->Commit(); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitIo;
  }
  if (progress_shown) std::fputc('\n', stderr);
  size_t standing = 0;
  if (options.net) {
    std::vector<v1::Decision> rows;
    // The cache is flushed: the employees it still holds are read from memory.
    core::ForEachStandingDecision(
        **store,
        [&](const v1::Decision& d) {
          ++standing;
          if (options.format == "table") {
            rows.push_back(d);
            return;
          }
          out_buffer += core::DecisionToJson(d);
          out_buffer += '\n';
          if (out_buffer.size() > (1 << 16)) flush_out();
        },
        &cache);
    if (options.format == "table") {
      std::ostringstream table;
      PrintDecisionTable(rows, false, table);
      out_buffer += table.str();
    }
  } else if (options.format == "table") {
    std::ostringstream table;
    PrintDecisionTable(all_for_table, true, table);
    out_buffer += table.str();
  }
  flush_out();
  if (auto code = stopped()) return *code;
  if (auto s = out.Close(); !s.ok()) return OutputFailed(out, s);
  if (with_metrics) {
    metrics.RulesInForce((*rules)->version());
    if (int code = WriteOutput(options.metrics_out, metrics.Serialize()); code != kExitOk) {
      return code;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options.quiet) {
    std::string rejected_text = std::to_string(rejected);
    if (conflicting > 0) rejected_text += " (conflicting " + std::to_string(conflicting) + ")";
    if (withdrawn > 0) {
      rejected_text += ", withdrawn later " + std::to_string(withdrawn);
    }
    std::string standing_text = options.net ? ", standing " + std::to_string(standing) : "";
    if (outside > 0) standing_text += "; " + std::to_string(outside) + " events outside --from/--to";
    std::fprintf(stderr,
                 "events read %lld, applied %lld, duplicates %lld, rejected %s; decisions "
                 "issued %zu, reversed %zu%s; %.2f s (%.0f events/s); rules %s\n",
                 static_cast<long long>(read), static_cast<long long>(applied),
                 static_cast<long long>(duplicates), rejected_text.c_str(), issued, reversed,
                 standing_text.c_str(), secs, secs > 0 ? read / secs : 0.0,
                 (*rules)->version().c_str());
  }
#ifndef __SANITIZE_ADDRESS__
  // Everything is written. Freeing the cache's millions of small blocks one
  // by one takes about a quarter of a second for a million events; when the
  // process ends next, the operating system takes the memory back at once.
  if (options.process_ends) (void)cache_owner.release();
#endif
  return rejected > 0 || withdrawn > 0 ? kExitRejected : kExitOk;
}

}  // namespace demerit::cli
