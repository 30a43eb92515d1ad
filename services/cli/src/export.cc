// demerit export: one site's payroll month from a decision log, as CSV.
//
// A decision belongs to the local month (in the site's time zone) of the event
// that triggered it, whenever it was decided: a reversal or a re-issue that
// comes late in the log counts in the month it is about. Reversals are applied:
// only the issues standing at the end of the log (or at line --as-of-line)
// are paid.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "commands.h"
#include "demerit/core/codec.h"
#include "demerit/core/engine.h"
#include "demerit/core/facts.h"
#include "demerit/core/time.h"
#include "demerit/processor/rule_files.h"
#include "event_reader.h"
#include "output.h"

namespace demerit::cli {

core::Status ReadDecisionLog(std::istream& in, const std::string& name, int64_t max_lines,
                             std::string_view must_contain,
                             const std::function<void(int64_t, const v1::Decision&)>& visit,
                             const std::function<void(int64_t, const std::string&)>& on_bad,
                             int64_t* lines) {
  std::string line;
  int64_t number = 0;
  v1::Decision d;
  while ((max_lines <= 0 || number < max_lines) && std::getline(in, line)) {
    if (++number == 1 && line.starts_with(kUtf8ByteOrderMark)) {
      line.erase(0, kUtf8ByteOrderMark.size());
    }
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (!must_contain.empty() && line.find(must_contain) == std::string::npos) {
      // Unparsed; but a line cut short or run together shows in its shape.
      size_t last = line.find_last_not_of(" \t\r");
      if (on_bad && (line[first] != '{' || line[last] != '}')) {
        on_bad(number, "not a valid decision: not one JSON object on the line");
      }
      continue;
    }
    if (auto bad = core::ParseDecisionJson(line, &d)) {
      if (!on_bad) {
        return core::Status::Error(name + ": line " + std::to_string(number) + ": " + bad->detail);
      }
      on_bad(number, bad->detail);
      continue;
    }
    visit(number, d);
  }
  if (in.bad()) return core::Status::Error(name + ": read error");
  if (lines != nullptr) *lines = number;
  return core::Status::Ok();
}

namespace {

constexpr const char* kColumns[] = {
    "employee_id", "site_id",  "period",  "currency",          "fines_minor", "capped_minor",
    "decisions",   "warnings", "notices", "dismissal_reviews", "dismissals"};

// One employee's month.
struct PayrollRow {
  int64_t fines_minor = 0;
  int64_t capped_minor = 0;
  int64_t decisions = 0;
  int64_t warnings = 0;
  int64_t notices = 0;
  int64_t dismissal_reviews = 0;
  int64_t dismissals = 0;
};

// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a
// line break, with quotes doubled.
std::string CsvField(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// A text cell (an id, a name) that a spreadsheet would take for a formula,
// because it starts with =, +, -, @, a tab or a carriage return, with a '
// before it, as OWASP advises against CSV injection. Numbers are not passed
// through this: a negative amount stays a number.
std::string TextCell(const std::string& text) {
  if (text.empty() || std::string_view("=+-@\t\r").find(text[0]) == std::string_view::npos) {
    return text;
  }
  return "'" + text;
}

void AppendCsvRow(const std::vector<std::string>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) *out += ',';
    *out += CsvField(fields[i]);
  }
  *out += "\r\n";
}

}  // namespace

int RunExport(const ExportOptions& options) {
  ExportOptions o = options;
  std::string topic_log;
  if (!o.kafka.bootstrap.empty() || !o.kafka.config_file.empty()) {
    if (o.as_of_line > 0) {
      std::cerr << "--as-of-line counts the lines of a decision log file; the penalties topic "
                   "is cut by time (Hint: --as-of T keeps the decisions appended by T)\n";
      return kExitUsage;
    }
    // The penalties topic, cut at --as-of by the time each decision was appended.
    if (int code = ReadPenaltiesToFile(o.kafka, o.as_of, &topic_log); code != kExitOk) {
      std::remove(topic_log.c_str());
      return code;
    }
    o.decisions = topic_log;
    o.as_of.clear();
    o.kafka = {};
    int code = RunExport(o);
    std::remove(topic_log.c_str());
    return code;
  }
  if (o.decisions.empty()) {
    std::cerr << "export: give --decisions FILE or --bootstrap ADDR\n";
    return kExitUsage;
  }
  if (!o.as_of.empty()) {
    std::cerr << "--as-of " << o.as_of
              << ": a decision log file records no decision times, so it cannot be cut at a "
                 "time (Hint: --bootstrap reads the topic, whose records carry the time they "
                 "were appended; for a file, --as-of-line N reproduces the export made when the "
                 "log had N lines)\n";
    return kExitUsage;
  }
  static const std::regex kPeriod("[0-9]{4}-(0[1-9]|1[0-2])");
  if (!std::regex_match(o.period, kPeriod)) {
    std::cerr << "--period: \"" << o.period
              << "\" is not a month (Hint: YYYY-MM, the local month at the site, e.g. 2026-11)\n";
    return kExitUsage;
  }
  auto rules = processor::LoadRuleDirectory(o.rules_dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  const core::Site* site = (*rules)->FindSite(o.site);
  if (site == nullptr) {
    std::string known;
    for (const auto& [id, s] : (*rules)->sites()) known += (known.empty() ? "" : ", ") + id;
    std::cerr << "--site: unknown site \"" << o.site << "\" (Hint: the sites of " << o.rules_dir
              << " are " << known << ")\n";
    return kExitUsage;
  }

  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.decisions != "-") {
    if (auto s = OpenInputFile(o.decisions, &file); !s.ok()) {
      std::cerr << s.message() << "\n";
      return kExitIo;
    }
    in = &file;
  }
  // The issues of this site and month standing so far.
  core::Ledger ledger;
  int64_t problems = 0;
  auto problem = [&](int64_t line, const std::string& what) {
    ++problems;
    std::cerr << o.decisions << ": line " << line << ": " << what << "\n";
  };
  auto visit = [&](int64_t line, const v1::Decision& d) {
    if (d.site_id() != o.site) return;
    if (core::FormatMonth(site->zone.ToCivil(core::ToNanos(d.occurred_at())).day) != o.period) {
      return;
    }
    switch (ledger.Add(d)) {
      case core::Ledger::Change::kIssued:
      case core::Ledger::Change::kReversed:
        break;
      case core::Ledger::Change::kIssuedAgain:
        problem(line, d.penalty_id() + " issued again while it stands; counted once");
        break;
      case core::Ledger::Change::kReversalOfNothing:
        problem(line, "reversal " + d.penalty_id() + " of " + d.reverses_penalty_id() +
                          ", which does not stand; ignored");
        break;
      case core::Ledger::Change::kNeither:
        problem(line, "decision " + d.penalty_id() + " is neither ISSUE nor REVERSAL; ignored");
    }
  };
  // Every line is parsed: a damaged line must stop a payroll export, whatever it is about.
  int64_t lines = 0;
  auto status = ReadDecisionLog(*in, o.decisions, o.as_of_line, "", visit, nullptr, &lines);
  if (!status.ok()) {
    std::cerr << status.message() << "\n";
    return kExitIo;
  }
  if (o.as_of_line > lines) {
    std::cerr << "--as-of-line " << o.as_of_line << ": " << o.decisions << " has only " << lines
              << " lines (Hint: N from 1 to " << lines << ", the lines the log had then)\n";
    return kExitUsage;
  }

  // One row per employee (and currency, should a site ever have changed its
  // currency within the month), sorted by employee_id.
  std::map<std::pair<std::string, std::string>, PayrollRow> rows;
  for (const auto& [id, d] : ledger.standing()) {
    PayrollRow& row = rows[{d.employee_id(), d.currency()}];
    row.fines_minor += d.amount_minor();
    row.capped_minor += d.capped_minor();
    ++row.decisions;
    switch (d.action()) {
      case v1::WARNING: ++row.warnings; break;
      case v1::NOTICE: ++row.notices; break;
      case v1::DISMISSAL_REVIEW: ++row.dismissal_reviews; break;
      case v1::DISMISSAL: ++row.dismissals; break;
      default: break;
    }
  }
  std::string csv = o.excel ? std::string(kUtf8ByteOrderMark) : "";
  AppendCsvRow(std::vector<std::string>(std::begin(kColumns), std::end(kColumns)), &csv);
  for (const auto& [key, r] : rows) {
    AppendCsvRow(
        {TextCell(key.first), TextCell(o.site), o.period, TextCell(key.second),
         std::to_string(r.fines_minor), std::to_string(r.capped_minor), std::to_string(r.decisions),
         std::to_string(r.warnings), std::to_string(r.notices), std::to_string(r.dismissal_reviews),
         std::to_string(r.dismissals)},
        &csv);
  }
  if (int code = WriteOutput(o.out, csv); code != kExitOk) return code;
  return problems > 0 ? kExitRejected : kExitOk;
}

}  // namespace demerit::cli
