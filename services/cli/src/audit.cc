// demerit audit diff: compares two decision logs, reversals applied on both sides.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "demerit/core/codec.h"
#include "demerit/core/engine.h"
#include "demerit/processor/processor.h"
#include "event_reader.h"
#include "kafka_source.h"
#include "output.h"

namespace demerit::cli {
namespace {

struct Log {
  core::Ledger ledger;
  size_t records = 0;
  size_t issued_twice = 0;         // an id issued while it already stood
  size_t unmatched_reversals = 0;  // a reversal of an id that did not stand
  std::vector<std::string> problems;
  // Decisions whose content does not hash to their id (DecisionId): altered
  // after they were made. Where each is, and the decision.
  std::vector<std::pair<std::string, v1::Decision>> tampered;
};

core::Status ReadLog(const std::string& path, Log* log) {
  std::ifstream in;
  if (auto s = OpenInputFile(path, &in); !s.ok()) return s;
  return ReadDecisionLog(in, path, 0, "", [&](int64_t number, const v1::Decision& d) {
    auto at = [&] { return path + ": line " + std::to_string(number) + ": "; };
    ++log->records;
    // A reversal carries the content of the issue it reverses.
    const std::string& id = d.kind() == v1::REVERSAL ? d.reverses_penalty_id() : d.penalty_id();
    if (core::DecisionId(d) != id) log->tampered.emplace_back(at() + d.penalty_id(), d);
    switch (log->ledger.Add(d)) {
      case core::Ledger::Change::kIssued:
      case core::Ledger::Change::kReversed:
        break;
      case core::Ledger::Change::kReversalOfNothing:
        ++log->unmatched_reversals;
        log->problems.push_back(at() + "reversal " + d.penalty_id() + " of " +
                                d.reverses_penalty_id() + ", which does not stand");
        break;
      case core::Ledger::Change::kIssuedAgain:
        ++log->issued_twice;
        log->problems.push_back(at() + d.penalty_id() +
                                " issued again without a reversal between");
        break;
      case core::Ledger::Change::kNeither:
        log->problems.push_back(at() + "decision " + d.penalty_id() +
                                " is neither ISSUE nor REVERSAL");
        break;
    }
  });
}

// What a decision is about, whatever it decided: the pairing key for "different".
std::string Subject(const v1::Decision& d) {
  return d.employee_id() + "|" + d.site_id() + "|" + d.pack() + "|" + d.rule_id() + "|" +
         d.counter() + "|" + (d.evidence_event_ids_size() ? d.evidence_event_ids(0) : "");
}

std::string Brief(const v1::Decision& d) {
  return d.penalty_id() + "  " + d.employee_id() + "  " + d.pack() + "/" + d.rule_id() + "  " +
         d.window() + " #" + std::to_string(d.occurrence()) + "  " +
         v1::Action_Name(d.action()) + "  " + core::FormatMoney(d.amount_minor(), d.currency()) +
         (d.capped() ? "  capped " + core::FormatMoney(d.capped_minor(), d.currency()) : "");
}

// Every field in which `a` and `b` differ, as "name: a -> b", in field order.
std::vector<std::string> DifferentFields(const v1::Decision& a, const v1::Decision& b) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = a.GetReflection();
  auto text = [&](const v1::Decision& d, const FieldDescriptor* f) -> std::string {
    if (f->is_repeated()) {
      std::string out;
      for (int i = 0; i < r->FieldSize(d, f); ++i) {
        out += (i > 0 ? "," : "") + r->GetRepeatedString(d, f, i);
      }
      return out;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return r->GetString(d, f);
      case FieldDescriptor::CPPTYPE_INT32:
        return std::to_string(r->GetInt32(d, f));
      case FieldDescriptor::CPPTYPE_INT64:
        return std::to_string(r->GetInt64(d, f));
      case FieldDescriptor::CPPTYPE_BOOL:
        return r->GetBool(d, f) ? "true" : "false";
      case FieldDescriptor::CPPTYPE_ENUM:
        return r->GetEnum(d, f)->name();
      case FieldDescriptor::CPPTYPE_MESSAGE:  // occurred_at
        return r->HasField(d, f) ? core::FormatRfc3339(core::ToNanos(d.occurred_at())) : "";
      default:
        return "";
    }
  };
  std::vector<std::string> out;
  const google::protobuf::Descriptor* type = v1::Decision::descriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    if (f->number() == v1::Decision::kPenaltyIdFieldNumber) continue;  // shown with each
    std::string x = text(a, f), y = text(b, f);
    if (x != y) out.push_back(f->name() + ": " + x + " -> " + y);
  }
  if (a.penalty_id() != b.penalty_id())
    out.push_back("penalty_id: " + a.penalty_id() + " -> " + b.penalty_id());
  return out;
}

}  // namespace

namespace {

// Keeps the lines of a decision log whose occurred_at lies in [from, to).
core::Status FilterByTime(const std::string& in_path, const std::string& out_path,
                          core::Nanos from, core::Nanos to) {
  std::ifstream in;
  if (auto s = OpenInputFile(in_path, &in); !s.ok()) return s;
  auto out = Output::Open(out_path);
  if (!out.ok()) return out.status();
  std::string line;
  v1::Decision d;
  while (std::getline(in, line)) {
    if (core::ParseDecisionJson(line, &d)) continue;
    core::Nanos at = core::ToNanos(d.occurred_at());
    if (at >= from && at < to) (*out)->Write(line + "\n");
  }
  if (in.bad()) return core::Status::Error("cannot read " + in_path);
  return (*out)->Close();
}

// Reads the penalties topic with `tail` between two reads of the group's
// committed offsets, until both reads agree, and bounds `replay` to those
// offsets. The processor commits its decisions and its offsets in one
// transaction: with the offsets unchanged around the read, the topic held the
// decisions of exactly the input up to them. Returns an exit code.
int ReadAtCommittedOffsets(const AuditDiffOptions& o, const TailOptions& tail,
                           ReplayOptions* replay) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  auto same = [](const std::vector<kafka::TopicPartition>& a,
                 const std::vector<kafka::TopicPartition>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
      return x.topic == y.topic && x.partition == y.partition && x.offset == y.offset;
    });
  };
  constexpr int kAttempts = 3;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    auto before = CommittedInputOffsets(config, o.to_committed);
    if (!before.ok()) {
      std::cerr << before.status().message() << "\n";
      return processor::kProcessKafka;
    }
    if (std::none_of(before->begin(), before->end(),
                     [](const auto& tp) { return tp.offset >= 0; })) {
      std::cerr << "--to-committed: the consumer group \"" << o.to_committed
                << "\" has committed no offset on the input topics (Hint: the processor's group "
                   "is its application id, by default demerit)\n";
      return kExitUsage;
    }
    if (int code = RunTail(tail); code != kExitOk) return code;
    auto after = CommittedInputOffsets(config, o.to_committed);
    if (!after.ok()) {
      std::cerr << after.status().message() << "\n";
      return processor::kProcessKafka;
    }
    if (same(*before, *after)) {
      // Up to the committed offset; nothing of a partition without one.
      for (const auto& tp : *before) {
        replay->offsets.push_back(tp.topic + ":" + std::to_string(tp.partition) + ":" +
                                  (tp.offset < 0 ? "0-0" : "-" + std::to_string(tp.offset)));
      }
      return kExitOk;
    }
  }
  std::cerr << "--to-committed: the group \"" << o.to_committed << "\" committed new offsets "
            << "while the penalties topic was read, " << kAttempts << " times (Hint: stop the "
            << "processor, or run the audit when no input arrives)\n";
  return processor::kProcessKafka;
}

}  // namespace

// The committed decisions against a replay of the input topics, compared
// for the decisions whose occurred_at lies in [from, to).
int RunAuditDiffKafka(const AuditDiffOptions& o) {
  core::Nanos from = 0, to = 0;
  if (auto s = ParseEventTimeBounds(o.from, o.to, &from, &to); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitUsage;
  }
  char dir_template[] = "/tmp/demerit-audit-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::cerr << "cannot create a temporary directory\n";
    return kExitIo;
  }
  const std::string dir = dir_template;
  // The whole log is replayed: a decision inside the bounds may depend on
  // events outside them (a year's ladder, a timer moved by a later event).
  // Only the decisions inside the bounds are compared.
  ReplayOptions replay;
  replay.rules_dir = o.rules;
  replay.kafka = o.kafka;
  replay.quiet = true;
  replay.out = dir + "/replay-all.ndjson";
  TailOptions tail;
  tail.kafka = o.kafka;
  tail.from_beginning = true;
  tail.exit_at_end = true;
  tail.out = dir + "/committed-all.ndjson";
  int code = o.to_committed.empty() ? RunTail(tail) : ReadAtCommittedOffsets(o, tail, &replay);
  if (code != kExitOk) {
    std::filesystem::remove_all(dir);
    return code;
  }
  code = RunReplay(replay);
  if (code != kExitOk && code != kExitRejected) {
    std::filesystem::remove_all(dir);
    return code;
  }
  core::Status filtered = FilterByTime(tail.out, dir + "/committed.ndjson", from, to);
  if (filtered.ok()) filtered = FilterByTime(replay.out, dir + "/replay.ndjson", from, to);
  if (auto s = filtered; !s.ok()) {
    std::cerr << s.message() << "\n";
    std::filesystem::remove_all(dir);
    return kExitIo;
  }
  AuditDiffOptions files = o;
  files.kafka = {};
  files.to_committed.clear();
  files.decisions = dir + "/committed.ndjson";
  files.against = dir + "/replay.ndjson";
  code = RunAuditDiff(files);
  std::filesystem::remove_all(dir);
  return code;
}

int RunAuditDiff(const AuditDiffOptions& o) {
  if (!o.kafka.bootstrap.empty() || !o.kafka.config_file.empty()) return RunAuditDiffKafka(o);
  if (o.decisions.empty() || o.against.empty()) {
    std::cerr << "audit diff: give --decisions FILE --against FILE, or --bootstrap ADDR\n";
    return kExitUsage;
  }
  if (!o.to_committed.empty()) {
    std::cerr << "audit diff: --to-committed bounds a replay of the input topics (Hint: "
                 "--bootstrap ADDR instead of --decisions and --against)\n";
    return kExitUsage;
  }
  Log left, right;
  for (auto [path, log] : {std::pair{o.decisions, &left}, std::pair{o.against, &right}}) {
    if (auto s = ReadLog(path, log); !s.ok()) {
      std::cerr << s.message() << "\n";
      return kExitIo;
    }
  }
  // Pair by id first, then what is left by subject.
  std::vector<const v1::Decision*> missing, extra;
  std::vector<std::pair<const v1::Decision*, const v1::Decision*>> different;
  std::multimap<std::string, const v1::Decision*> left_by_subject;
  for (const auto& [id, d] : left.ledger.standing()) {
    auto same_id = right.ledger.standing().find(id);
    if (same_id == right.ledger.standing().end()) {
      left_by_subject.emplace(Subject(d), &d);
    } else if (!DifferentFields(d, same_id->second).empty()) {
      different.emplace_back(&d, &same_id->second);  // the id kept, a field changed
    }
  }
  for (const auto& [id, d] : right.ledger.standing()) {
    if (left.ledger.standing().count(id)) continue;
    auto it = left_by_subject.find(Subject(d));
    if (it != left_by_subject.end()) {
      different.emplace_back(it->second, &d);
      left_by_subject.erase(it);
    } else {
      missing.push_back(&d);  // stands in --against, not in --decisions
    }
  }
  for (const auto& [subject, d] : left_by_subject) extra.push_back(d);
  size_t problems = left.problems.size() + right.problems.size();
  size_t tampered = left.tampered.size() + right.tampered.size();
  bool agree =
      missing.empty() && extra.empty() && different.empty() && problems == 0 && tampered == 0;
  std::ostringstream report;
  if (o.json) {
    auto emit = [&](const char* kind, const v1::Decision* d, const v1::Decision* other) {
      nlohmann::json j;
      j["finding"] = kind;
      j["penalty_id"] = d->penalty_id();
      j["decision"] = nlohmann::json::parse(core::DecisionToJson(*d));
      if (other) {
        j["against_penalty_id"] = other->penalty_id();
        j["against"] = nlohmann::json::parse(core::DecisionToJson(*other));
      }
      report << j.dump() << "\n";
    };
    for (auto* d : missing) emit("missing", d, nullptr);
    for (auto* d : extra) emit("extra", d, nullptr);
    for (auto& [a, b] : different) emit("different", a, b);
    for (const auto* log : {&left, &right}) {
      for (const auto& [where, d] : log->tampered) {
        nlohmann::json j = nlohmann::json::parse(R"({"finding":"tampered"})");
        j["where"] = where;
        j["penalty_id"] = d.penalty_id();
        j["decision"] = nlohmann::json::parse(core::DecisionToJson(d));
        report << j.dump() << "\n";
      }
    }
    for (const auto* log : {&left, &right}) {
      for (const auto& p : log->problems) {
        report << nlohmann::json{{"finding", "malformed_log"}, {"detail", p}}.dump() << "\n";
      }
    }
  } else {
    if (!missing.empty()) {
      report << "missing: stand in " << o.against << " but not in " << o.decisions << "\n";
      for (auto* d : missing) report << "  " << Brief(*d) << "\n";
    }
    if (!extra.empty()) {
      report << "extra: stand in " << o.decisions << " but not in " << o.against << "\n";
      for (auto* d : extra) report << "  " << Brief(*d) << "\n";
    }
    if (!different.empty()) {
      report << "different: the same occurrence decided differently\n";
      for (auto& [a, b] : different) {
        report << "  " << Brief(*a) << "\n    vs " << Brief(*b) << "\n";
        for (const auto& f : DifferentFields(*a, *b)) report << "    " << f << "\n";
      }
    }
    if (tampered > 0) {
      report << "tampered: the content does not match the penalty_id (altered after it was "
                "decided)\n";
      for (const auto* log : {&left, &right}) {
        for (const auto& [where, d] : log->tampered) {
          report << "  " << where << "  " << Brief(d).substr(d.penalty_id().size() + 2) << "\n";
        }
      }
    }
    for (const auto* log : {&left, &right}) {
      for (const auto& p : log->problems) report << "malformed log: " << p << "\n";
    }
  }
  if (int code = WriteOutput("-", report.str()); code != kExitOk) return code;
  std::cerr << (agree ? "agree" : "DISAGREE") << ": " << left.ledger.standing().size()
            << " standing in " << o.decisions << " (" << left.records << " records), "
            << right.ledger.standing().size() << " in " << o.against << " (" << right.records
            << " records); " << missing.size() << " missing, " << extra.size() << " extra, "
            << different.size() << " different, " << tampered << " tampered, " << problems
            << " log problems\n";
  return agree ? kExitOk : kExitRejected;
}

}  // namespace demerit::cli
