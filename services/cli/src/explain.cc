// demerit explain: one decision of a decision log, and everything that led to
// it: the rule and its clause, the site's local window, the ranked occurrences
// in that window, the ladder step, the guardrail, and the decision's history
// in the log.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "commands.h"
#include "decision_table.h"
#include "demerit/core/codec.h"
#include "demerit/core/engine.h"
#include "demerit/core/facts.h"
#include "demerit/core/time.h"
#include "demerit/processor/rule_files.h"
#include "event_reader.h"
#include "output.h"

namespace demerit::cli {
namespace {

using Json = nlohmann::ordered_json;

// The local window a decision was counted in, read from its key.
struct WindowSpan {
  std::string kind;  // none, day, week, month, year, rolling
  // Local days [first, end) of the window; absent for "none".
  std::optional<std::pair<core::CivilDay, core::CivilDay>> days;
};

bool ParseInts(const std::string& text, const char* format, int* a, int* b, int* c) {
  int consumed = 0;
  std::string f = std::string(format) + "%n";
  int n = c ? std::sscanf(text.c_str(), f.c_str(), a, b, c, &consumed)
            : b ? std::sscanf(text.c_str(), f.c_str(), a, b, &consumed)
                : std::sscanf(text.c_str(), f.c_str(), a, &consumed);
  int want = c ? 3 : b ? 2 : 1;
  return n == want && consumed == static_cast<int>(text.size());
}

core::CivilDay DayPlus(const core::CivilDay& day, int64_t days) {
  return core::CivilFromDays(core::DaysFromCivil(day) + days);
}

WindowSpan ReadWindow(const std::string& key) {
  int y = 0, m = 0, d = 0;
  auto day = [](int y, int m, int d) {
    return core::CivilDay{y, static_cast<unsigned>(m), static_cast<unsigned>(d)};
  };
  if (key == "none") return {"none", std::nullopt};
  if (auto dots = key.find(".."); dots != std::string::npos) {
    int y2 = 0, m2 = 0, d2 = 0;
    if (ParseInts(key.substr(0, dots), "%4d-%2d-%2d", &y, &m, &d) &&
        ParseInts(key.substr(dots + 2), "%4d-%2d-%2d", &y2, &m2, &d2)) {
      return {"rolling", std::pair{day(y, m, d), DayPlus(day(y2, m2, d2), 1)}};
    }
  } else if (key.size() == 10 && ParseInts(key, "%4d-%2d-%2d", &y, &m, &d)) {
    return {"day", std::pair{day(y, m, d), DayPlus(day(y, m, d), 1)}};
  } else if (key.size() == 8 && key[5] == 'W' && ParseInts(key, "%4d-W%2d", &y, &m, nullptr)) {
    // ISO week m of year y: week 1 holds January 4th; weeks start on Monday.
    int64_t jan4 = core::DaysFromCivil(day(y, 1, 4));
    int64_t weekday = ((jan4 + 3) % 7 + 7) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
    core::CivilDay first = core::CivilFromDays(jan4 - weekday + 7 * (m - 1));
    return {"week", std::pair{first, DayPlus(first, 7)}};
  } else if (key.size() == 7 && ParseInts(key, "%4d-%2d", &y, &m, nullptr)) {
    return {"month", std::pair{day(y, m, 1), m == 12 ? day(y + 1, 1, 1) : day(y, m + 1, 1)}};
  } else if (key.size() == 4 && ParseInts(key, "%4d", &y, nullptr, nullptr)) {
    return {"year", std::pair{day(y, 1, 1), day(y + 1, 1, 1)}};
  }
  return {"unknown", std::nullopt};
}

// RFC 3339 local time with the zone's offset: 2026-11-09T11:00:00+08:00.
std::string FormatLocal(const core::Zone& zone, core::Nanos at) {
  core::CivilTime local = zone.ToCivil(at);
  int64_t utc_seconds = at >= 0 ? at / core::kNanosPerSecond
                                : -((-at + core::kNanosPerSecond - 1) / core::kNanosPerSecond);
  int64_t offset =
      core::DaysFromCivil(local.day) * 86'400 + local.seconds_of_day - utc_seconds;
  int64_t s = local.seconds_of_day;
  int64_t off = offset < 0 ? -offset : offset;
  char buf[64];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d%c%02d:%02d", static_cast<int>(s / 3600),
                static_cast<int>(s / 60 % 60), static_cast<int>(s % 60), offset < 0 ? '-' : '+',
                static_cast<int>(off / 3600), static_cast<int>(off / 60 % 60));
  return core::FormatDay(local.day) + buf;
}

std::string Ordinal(int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string StepText(const core::Step& step, const std::string& currency) {
  if (step.skip) return "skip (nothing is decided at this rank)";
  auto amount = step.amounts.find(currency);
  bool has_amount = amount != step.amounts.end() && amount->second != 0;
  std::string text = has_amount ? core::FormatMoney(amount->second, currency) : "";
  if (step.action != v1::NONE) {
    text += (text.empty() ? "" : ", ") + v1::Action_Name(step.action);
  }
  return text.empty() ? core::FormatMoney(0, currency) : text;
}

std::string WindowKindText(const core::Window& w) {
  switch (w.kind) {
    case core::Window::Kind::kNone: return "none";
    case core::Window::Kind::kDay: return "day";
    case core::Window::Kind::kWeek: return "week";
    case core::Window::Kind::kMonth: return "month";
    case core::Window::Kind::kYear: return "year";
    case core::Window::Kind::kRolling: return "rolling " + std::to_string(w.rolling_days) + " days";
  }
  return "?";
}

// One occurrence in the decision's window.
struct OccurrenceRow {
  enum class Status { kThis, kStanding, kEvidence };
  int rank = 0;  // 0: not known
  std::string trigger;
  std::optional<core::Nanos> at;
  std::string rule;  // pack/rule; empty when not known
  int step = 0;      // 0: not known
  bool skip = false;  // the ladder skips this rank
  std::optional<v1::Decision> decision;
  Status status = Status::kStanding;
};

struct HistoryEntry {
  int64_t line = 0;
  v1::Decision decision;
  bool same_id = false;  // an issue of the explained id, or a reversal of it
};

// What a decision is about, whatever it decided: one occurrence of one rule.
std::string Subject(const v1::Decision& d) {
  return d.employee_id() + "|" + d.site_id() + "|" + d.pack() + "|" + d.rule_id() + "|" +
         d.counter() + "|" + (d.evidence_event_ids_size() ? d.evidence_event_ids(0) : "");
}

// An event named by the explanation, as found in --events.
struct FoundEvent {
  std::optional<v1::Envelope> event;
  std::vector<std::string> corrected_by;  // events that supersede or void it
};

std::string StatusText(const OccurrenceRow& row, bool stands) {
  switch (row.status) {
    case OccurrenceRow::Status::kThis:
      return stands ? "this decision (standing)" : "this decision (not standing)";
    case OccurrenceRow::Status::kStanding: return "standing";
    case OccurrenceRow::Status::kEvidence:
      return row.skip ? "no decision: the ladder skips this rank" : "no standing decision";
  }
  return "";
}

const char* StatusName(OccurrenceRow::Status s) {
  switch (s) {
    case OccurrenceRow::Status::kThis: return "this";
    case OccurrenceRow::Status::kStanding: return "standing";
    case OccurrenceRow::Status::kEvidence: return "evidence_only";
  }
  return "";
}

// `"value"` as any JSON printer writes it in a decision, when `value` needs no
// escaping; empty otherwise (no filter).
std::string QuotedForFilter(const std::string& value) {
  if (value.empty()) return "";
  for (unsigned char c : value) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-' && c != ':' && c != '@' && c != '+') {
      return "";
    }
  }
  return "\"" + value + "\"";
}

// Opens the decision log for one pass: the file, or standard input read once.
class LogSource {
 public:
  explicit LogSource(std::string path) : path_(std::move(path)) {}
  core::Status ForEach(std::string_view must_contain,
                       const std::function<void(int64_t, const v1::Decision&)>& visit,
                       const std::function<void(int64_t, const std::string&)>& on_bad) {
    if (path_ == "-") {
      if (!stdin_) {
        auto all = processor::ReadFile("-");
        if (!all.ok()) return all.status();
        stdin_ = std::move(*all);
      }
      std::istringstream in(*stdin_);
      return ReadDecisionLog(in, path_, 0, must_contain, visit, on_bad);
    }
    std::ifstream in;
    if (auto s = OpenInputFile(path_, &in); !s.ok()) return s;
    return ReadDecisionLog(in, path_, 0, must_contain, visit, on_bad);
  }

 private:
  std::string path_;
  std::optional<std::string> stdin_;
};

}  // namespace

int RunExplain(const ExplainOptions& options) {
  if (!options.kafka.bootstrap.empty() || !options.kafka.config_file.empty()) {
    ExplainOptions o = options;
    std::string topic_log;
    if (int code = ReadPenaltiesToFile(o.kafka, "", &topic_log); code != kExitOk) {
      std::remove(topic_log.c_str());
      return code;
    }
    o.decisions = topic_log;
    o.kafka = {};
    int code = RunExplain(o);
    std::remove(topic_log.c_str());
    return code;
  }
  const ExplainOptions& o = options;
  if (o.decisions.empty()) {
    std::cerr << "explain: give --decisions FILE or --bootstrap ADDR\n";
    return kExitUsage;
  }
  auto rules = processor::LoadRuleDirectory(o.rules_dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  InputFormat event_format = InputFormat::kNdjson;
  if (o.input_format == "pb" ||
      (o.input_format == "auto" && (o.events.ends_with(".pb") || o.events.ends_with(".bin")))) {
    event_format = InputFormat::kBinary;
  } else if (o.input_format != "auto" && o.input_format != "ndjson") {
    std::cerr << "--input-format: unknown format \"" << o.input_format
              << "\" (Hint: ndjson or pb)\n";
    return kExitUsage;
  }

  // Lines of the log that are not decisions: reported, skipped.
  std::map<int64_t, std::string> bad_lines;
  auto on_bad = [&](int64_t line, const std::string& why) { bad_lines.emplace(line, why); };
  auto report_bad_lines = [&] {
    for (const auto& [line, why] : bad_lines) {
      std::cerr << o.decisions << ": line " << line << ": " << why << " (skipped)\n";
    }
  };

  // Pass 1: the line the id names.
  LogSource log(o.decisions);
  std::optional<v1::Decision> named;
  int64_t named_line = 0;
  auto status = log.ForEach(
      QuotedForFilter(o.penalty_id),
      [&](int64_t line, const v1::Decision& d) {
        if (!named && d.penalty_id() == o.penalty_id) {
          named = d;
          named_line = line;
        }
      },
      on_bad);
  if (!status.ok()) {
    std::cerr << status.message() << "\n";
    return kExitIo;
  }
  if (!named) {
    report_bad_lines();
    std::cerr << o.penalty_id << ": no decision with this id in " << o.decisions;
    if (!o.penalty_id.starts_with("pen-") && !o.penalty_id.starts_with("rev-")) {
      std::cerr << " (Hint: an issue's id starts with pen-, a reversal's with rev-)";
    }
    std::cerr << "\n";
    return kExitRejected;
  }
  // A reversal is explained by the issue it reverses; it carries that issue's
  // subject (employee, site, counter, window).
  const std::string issue_id =
      named->kind() == v1::REVERSAL ? named->reverses_penalty_id() : named->penalty_id();

  // Pass 2: the issue, its history, and the decisions on its counter as they
  // stand at the end of the log.
  std::optional<v1::Decision> issue;
  std::vector<HistoryEntry> history;
  core::Ledger standing;  // of the same counter
  const std::string subject = Subject(*named);
  auto visit = [&](int64_t line, const v1::Decision& d) {
    bool mine = (d.kind() == v1::ISSUE && d.penalty_id() == issue_id) ||
                (d.kind() == v1::REVERSAL && d.reverses_penalty_id() == issue_id);
    // The same occurrence decided differently (re-ranked, capped otherwise) belongs
    // to its story too.
    if (mine || Subject(d) == subject) history.push_back({line, d, mine});
    if (!issue && d.kind() == v1::ISSUE && d.penalty_id() == issue_id) issue = d;
    if (d.employee_id() != named->employee_id() || d.site_id() != named->site_id() ||
        d.counter() != named->counter()) {
      return;
    }
    standing.Add(d);
  };
  status = log.ForEach(QuotedForFilter(named->employee_id()), visit, on_bad);
  if (!status.ok()) {
    std::cerr << status.message() << "\n";
    return kExitIo;
  }
  report_bad_lines();
  std::vector<std::string> notes;
  if (!bad_lines.empty()) {
    std::string lines;
    int listed = 0;
    for (const auto& [line, why] : bad_lines) {
      if (++listed > 10) {
        lines += ", ...";
        break;
      }
      lines += (lines.empty() ? "" : ", ") + std::to_string(line);
    }
    const bool one = bad_lines.size() == 1;
    notes.push_back(
        std::to_string(bad_lines.size()) + (one ? " line" : " lines") + " of " + o.decisions +
        (one ? " is not a decision and was" : " are not decisions and were") + " skipped (" +
        (one ? "line " : "lines ") + lines + "): the history may be incomplete");
  }
  if (!issue) {
    // Only the reversal is in the log: it holds the issue's content.
    issue = *named;
    issue->set_kind(v1::ISSUE);
    issue->set_penalty_id(issue_id);
    issue->clear_reverses_penalty_id();
    notes.push_back("the issue " + issue_id + " is not in " + o.decisions +
                    "; shown as its reversal " + named->penalty_id() + " describes it");
  }
  const v1::Decision& d = *issue;
  const bool stands = standing.Stands(issue_id);
  const core::Nanos at = core::ToNanos(d.occurred_at());
  const std::string qualified = d.pack() + "/" + d.rule_id();

  // What the rules say.
  const core::Site* site = (*rules)->FindSite(d.site_id());
  std::optional<core::Zone> zone;
  if (site != nullptr) {
    zone = site->zone;
  } else {
    auto utc = core::Zone::Find("UTC");
    if (utc.ok()) zone = *utc;
    notes.push_back("site " + d.site_id() + " is not in the rules of " + o.rules_dir +
                    ": local times are shown in UTC");
  }
  auto local = [&](core::Nanos t) { return zone ? FormatLocal(*zone, t) : "-"; };
  const core::Rule* rule = nullptr;
  bool version_found = false;
  if (site != nullptr) {
    auto versions = site->rules.find(qualified);
    if (versions != site->rules.end()) {
      for (const auto& [from, r] : versions->second.versions) {
        if (r->version == d.rule_version()) {
          rule = r.get();
          version_found = true;
        }
      }
      if (rule == nullptr) rule = versions->second.At(at);
    }
    if (rule == nullptr) {
      notes.push_back("rule " + qualified + " is not in force at " + d.site_id() +
                      " in the rules of " + o.rules_dir);
    } else if (!version_found) {
      notes.push_back("the rules of " + o.rules_dir + " hold version " + rule->version + " of " +
                      qualified + ", not " + d.rule_version() +
                      ": title and ladder are shown as that version has them");
    }
  }
  const core::Pack* pack = nullptr;
  if (auto p = (*rules)->packs().find(d.pack()); p != (*rules)->packs().end()) pack = &p->second;
  const core::Ladder* ladder = rule ? &rule->counter->ladder : nullptr;
  const WindowSpan span = ReadWindow(d.window());

  // The occurrences in the window: the standing decisions on the same counter
  // and window, this decision, and the earlier occurrences its evidence names.
  std::vector<OccurrenceRow> rows;
  auto in_window = [&](const v1::Decision& other) {
    if (span.kind == "none") return false;
    if (span.kind == "rolling" && span.days && zone) {
      core::CivilDay day = zone->ToCivil(core::ToNanos(other.occurred_at())).day;
      int64_t n = core::DaysFromCivil(day);
      return n >= core::DaysFromCivil(span.days->first) &&
             n < core::DaysFromCivil(span.days->second);
    }
    return other.window() == d.window();
  };
  auto row_of = [&](const v1::Decision& x, OccurrenceRow::Status s) {
    OccurrenceRow row;
    row.rank = x.occurrence();
    row.trigger = x.evidence_event_ids_size() ? x.evidence_event_ids(0) : "";
    row.at = core::ToNanos(x.occurred_at());
    row.rule = x.pack() + "/" + x.rule_id();
    row.step = x.step();
    row.decision = x;
    row.status = s;
    return row;
  };
  rows.push_back(row_of(d, OccurrenceRow::Status::kThis));
  for (const auto& [id, other] : standing.standing()) {
    if (id != issue_id && in_window(other)) {
      rows.push_back(row_of(other, OccurrenceRow::Status::kStanding));
    }
  }
  // Evidence after the trigger: the occurrences of ranks occurrence-n .. occurrence-1.
  const int n_earlier = std::max(0, d.evidence_event_ids_size() - 1);
  for (int i = 1; i <= n_earlier; ++i) {
    OccurrenceRow row;
    row.trigger = d.evidence_event_ids(i);
    row.status = OccurrenceRow::Status::kEvidence;
    if (span.kind != "rolling") row.rank = d.occurrence() - n_earlier + (i - 1);
    bool known = std::any_of(rows.begin(), rows.end(), [&](const OccurrenceRow& r) {
      return r.trigger == row.trigger && (row.rank == 0 || r.rank == row.rank);
    });
    if (known) continue;
    if (rule != nullptr && !rule->counter->shared) row.rule = qualified;
    if (row.rank > 0 && ladder != nullptr) {
      row.step = std::min(row.rank, static_cast<int>(ladder->steps.size()));
      const core::Step* step = ladder->At(row.rank);
      row.skip = step == nullptr || step->skip;
    }
    rows.push_back(row);
  }

  // The events, when an event file is given.
  std::map<std::string, FoundEvent> events;
  if (!o.events.empty()) {
    for (const auto& id : d.evidence_event_ids()) events[id];
    for (const auto& h : history) {
      if (!h.decision.cause_event_id().empty()) events[h.decision.cause_event_id()];
    }
    auto reader = EventReader::Open(o.events, event_format);
    if (!reader.ok()) {
      std::cerr << reader.status().message() << "\n";
      return kExitIo;
    }
    v1::Envelope event;
    core::Rejection rejection;
    while (true) {
      auto r = (*reader)->Next(&event, &rejection);
      if (r == EventReader::Result::kEnd) break;
      if (r == EventReader::Result::kBad) continue;  // replay rejected it too
      core::EventHeader h = core::HeaderOf(event);
      if (auto it = events.find(*h.event_id); it != events.end() && !it->second.event) {
        it->second.event = event;
      }
      if (auto it = events.find(*h.supersedes_event_id); it != events.end()) {
        std::string by = *h.event_id + (h.is_void ? " (void)" : "");
        auto& list = it->second.corrected_by;
        if (std::find(list.begin(), list.end(), by) == list.end()) list.push_back(by);
      }
    }
    if (!(*reader)->status().ok()) {
      std::cerr << (*reader)->status().message() << "\n";
      return kExitIo;
    }
    for (auto& row : rows) {
      if (row.at) continue;
      auto it = events.find(row.trigger);
      if (it != events.end() && it->second.event) {
        row.at = core::HeaderOf(*it->second.event).occurred_at;
      }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const OccurrenceRow& a, const OccurrenceRow& b) {
    auto key = [](const OccurrenceRow& r) {
      return std::make_tuple(r.rank == 0 ? INT32_MAX : r.rank, r.at.value_or(INT64_MAX),
                             std::cref(r.trigger), std::cref(r.rule), static_cast<int>(r.status));
    };
    return key(a) < key(b);
  });

  const std::string currency = site ? site->currency : d.currency();
  const int64_t ladder_amount = d.amount_minor() + d.capped_minor();
  std::string step_text;
  std::optional<v1::Action> ladder_action;
  if (ladder != nullptr) {
    const core::Step* step = ladder->At(d.occurrence());
    if (step != nullptr) {
      step_text = StepText(*step, currency);
      ladder_action = step->action;
    }
  }
  auto role_of = [&](int i) -> std::string {
    if (i == 0) return "trigger";
    if (span.kind == "rolling") return "earlier occurrence";
    return "occurrence " + std::to_string(d.occurrence() - n_earlier + (i - 1));
  };

  if (o.json) {
    Json j;
    j["penalty_id"] = o.penalty_id;
    j["explains"] = issue_id;
    if (named->kind() == v1::REVERSAL) {
      j["reversal"] = {{"penalty_id", named->penalty_id()},
                       {"line", named_line},
                       {"cause_event_id", named->cause_event_id()}};
    }
    j["stands"] = stands;
    j["decision"] = Json::parse(core::DecisionToJson(d));
    j["rule"] = {{"id", qualified},
                 {"title", rule ? Json(rule->title) : Json()},
                 {"clause", d.clause()},
                 {"version", d.rule_version()},
                 {"version_in_rules", version_found},
                 {"defined_at", rule && version_found ? Json(rule->location) : Json()}};
    j["pack"] = {{"id", d.pack()},
                 {"title", pack ? Json(pack->title) : Json()},
                 {"source", pack ? Json(pack->source) : Json()}};
    j["site"] = {{"id", d.site_id()},
                 {"name", site ? Json(site->name) : Json()},
                 {"time_zone", zone ? Json(zone->name()) : Json()},
                 {"currency", currency}};
    j["occurred_at"] = {{"utc", core::FormatRfc3339(at)}, {"local", local(at)}};
    Json window = {{"key", d.window()}, {"kind", span.kind}};
    if (span.days && zone) {
      core::Nanos start = zone->ToInstant(span.days->first, 0);
      core::Nanos end = zone->ToInstant(span.days->second, 0);
      window["local_start"] = local(start);
      window["local_end"] = local(end);
      window["utc_start"] = core::FormatRfc3339(start);
      window["utc_end"] = core::FormatRfc3339(end);
    }
    j["window"] = window;
    Json lj = {{"counter", d.counter()}, {"occurrence", d.occurrence()}, {"step", d.step()}};
    if (rule != nullptr) {
      lj["shared"] = rule->counter->shared;
      lj["window"] = WindowKindText(rule->counter->window);
      lj["then"] = ladder->repeat ? "repeat" : "stop";
      Json steps = Json::array();
      for (size_t i = 0; i < ladder->steps.size(); ++i) {
        const core::Step& s = ladder->steps[i];
        auto amount = s.amounts.find(currency);
        steps.push_back({{"step", i + 1},
                         {"skip", s.skip},
                         {"amount_minor", amount == s.amounts.end() ? 0 : amount->second},
                         {"action", v1::Action_Name(s.action)},
                         {"text", StepText(s, currency)}});
      }
      lj["steps"] = steps;
      lj["step_text"] = step_text;
    }
    j["ladder"] = lj;
    if (d.capped()) {
      j["guardrail"] = {{"name", d.guardrail()},
                        {"ladder_amount_minor", ladder_amount},
                        {"ladder_action", ladder_action ? Json(v1::Action_Name(*ladder_action))
                                                        : Json()},
                        {"capped_minor", d.capped_minor()},
                        {"amount_minor", d.amount_minor()}};
    } else {
      j["guardrail"] = nullptr;
    }
    Json occ = Json::array();
    for (const auto& r : rows) {
      Json x = {{"rank", r.rank ? Json(r.rank) : Json()},
                {"trigger_event_id", r.trigger},
                {"occurred_at", r.at ? Json(core::FormatRfc3339(*r.at)) : Json()},
                {"occurred_at_local", r.at ? Json(local(*r.at)) : Json()},
                {"status", StatusName(r.status)}};
      if (r.decision) {
        x["rule"] = r.rule;
        x["step"] = r.step;
        x["amount_minor"] = r.decision->amount_minor();
        x["action"] = v1::Action_Name(r.decision->action());
        x["penalty_id"] = r.decision->penalty_id();
      } else {
        x["step"] = r.step ? Json(r.step) : Json();
        x["skip"] = r.skip;
      }
      occ.push_back(x);
    }
    j["occurrences"] = occ;
    Json ev = Json::array();
    for (int i = 0; i < d.evidence_event_ids_size(); ++i) {
      const std::string& id = d.evidence_event_ids(i);
      Json x = {{"event_id", id}, {"role", role_of(i)}};
      if (!o.events.empty()) {
        const FoundEvent& f = events[id];
        x["event"] = f.event ? Json::parse(core::EventToJson(*f.event)) : Json();
        x["corrected_by"] = f.corrected_by;
      }
      ev.push_back(x);
    }
    j["evidence"] = ev;
    Json hist = Json::array();
    for (const auto& h : history) {
      const v1::Decision& x = h.decision;
      Json e = {{"line", h.line},
                {"kind", v1::DecisionKind_Name(x.kind())},
                {"penalty_id", x.penalty_id()},
                {"this_decision", h.same_id}};
      if (x.kind() == v1::REVERSAL) {
        e["reverses_penalty_id"] = x.reverses_penalty_id();
      } else {
        e["occurrence"] = x.occurrence();
        e["step"] = x.step();
        e["amount_minor"] = x.amount_minor();
        e["capped_minor"] = x.capped_minor();
        e["action"] = v1::Action_Name(x.action());
      }
      e["cause_event_id"] = x.cause_event_id();
      if (!o.events.empty() && !x.cause_event_id().empty()) {
        const FoundEvent& f = events[x.cause_event_id()];
        e["cause_event"] = f.event ? Json::parse(core::EventToJson(*f.event)) : Json();
      }
      hist.push_back(e);
    }
    j["history"] = hist;
    j["notes"] = notes;
    if (int code = WriteOutput("-", j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
        code != kExitOk) {
      return code;
    }
    return bad_lines.empty() ? kExitOk : kExitRejected;
  }

  std::ostringstream out;
  out << d.penalty_id() << ": " << (stands ? "stands" : "does not stand")
      << " at the end of " << o.decisions << "\n";
  if (named->kind() == v1::REVERSAL) {
    out << "(" << o.penalty_id << ", line " << named_line << ", is a reversal of it"
        << (named->cause_event_id().empty() ? "" : ", caused by event " + named->cause_event_id())
        << "; explained here through the issue it reverses)\n";
  }
  std::vector<std::vector<std::string>> facts;
  facts.push_back({"employee", d.employee_id()});
  std::string site_text = d.site_id();
  if (site && !site->name.empty()) site_text += " (" + site->name + ")";
  if (zone) site_text += ", time zone " + zone->name();
  facts.push_back({"site", site_text + ", currency " + currency});
  facts.push_back({"rule", qualified + (rule ? "  " + rule->title : "")});
  facts.push_back({"clause", d.clause()});
  std::string defined_at = rule && version_found ? " (" + rule->location + ")"
                                                 : " (not in the rules of " + o.rules_dir + ")";
  facts.push_back({"version", d.rule_version() + defined_at});
  facts.push_back({"pack", d.pack() + (pack ? "  " + pack->title : "")});
  facts.push_back({"occurred at", core::FormatRfc3339(at) + ", local " + local(at)});
  std::string counter_text = d.counter();
  if (rule != nullptr) {
    counter_text +=
        rule->counter->shared ? " (shared by the rules of the pack)" : " (the rule's own)";
  }
  facts.push_back({"counter", counter_text});
  std::string window_text = d.window();
  if (span.kind == "none") {
    window_text += ": no counting window, every occurrence is its own";
  } else if (span.days && zone) {
    core::Nanos start = zone->ToInstant(span.days->first, 0);
    core::Nanos end = zone->ToInstant(span.days->second, 0);
    window_text += ": local " + span.kind + ", " + local(start) + " to " + local(end) + " (" +
                   core::FormatRfc3339(start) + " to " + core::FormatRfc3339(end) + ")";
  }
  facts.push_back({"window", window_text});
  facts.push_back({"occurrence", Ordinal(d.occurrence()) + " in the window"});
  std::string step_line = std::to_string(d.step());
  if (ladder != nullptr) {
    step_line += " of " + std::to_string(ladder->steps.size());
    if (!step_text.empty()) step_line += ": " + step_text;
  }
  facts.push_back({"ladder step", step_line});
  if (d.capped()) {
    facts.push_back({"guardrail", d.guardrail() + ": " +
                                      core::FormatMoney(d.capped_minor(), d.currency()) +
                                      " not deducted (the ladder's " +
                                      core::FormatMoney(ladder_amount, d.currency()) + " became " +
                                      core::FormatMoney(d.amount_minor(), d.currency()) +
                                      (ladder_action && *ladder_action != d.action()
                                           ? ", and its action " + v1::Action_Name(*ladder_action) +
                                                 " became " + v1::Action_Name(d.action())
                                           : "") +
                                      ")"});
  } else {
    facts.push_back({"guardrail", "none changed the amount"});
  }
  facts.push_back({"decided", core::FormatMoney(d.amount_minor(), d.currency()) + ", action " +
                                  v1::Action_Name(d.action())});
  facts.push_back({"reason", d.reason()});
  for (const auto& n : notes) facts.push_back({"note", n});
  PrintAligned(facts, "  ", false, out);

  if (ladder != nullptr) {
    out << "\nLadder of " << d.counter() << " (per " << WindowKindText(rule->counter->window)
        << "; then " << (ladder->repeat ? "repeat: the last step applies to every later occurrence"
                                        : "stop: nothing after the last step")
        << "):\n";
    std::vector<std::vector<std::string>> steps;
    for (size_t i = 0; i < ladder->steps.size(); ++i) {
      bool applied = static_cast<int>(i + 1) == d.step();
      steps.push_back({applied ? ">" : " ", std::to_string(i + 1),
                       StepText(ladder->steps[i], currency), applied ? "<- applied" : ""});
    }
    PrintAligned(steps, "  ", false, out);
  }

  out << "\nOccurrences in window " << d.window()
      << ", ranked (the decisions standing at the end of the log, this one, and the earlier "
         "occurrences its evidence names):\n";
  std::vector<std::vector<std::string>> table = {
      {"", "rank", "trigger", "occurred_at (UTC)", "local", "rule", "step", "action", "amount",
       "decision"}};
  for (const auto& r : rows) {
    bool self = r.status == OccurrenceRow::Status::kThis;
    std::string step = r.step ? std::to_string(r.step) : "-";
    if (r.skip) step += " (skip)";
    table.push_back(
        {self ? ">" : "", r.rank ? std::to_string(r.rank) : "-", r.trigger,
         r.at ? core::FormatRfc3339(*r.at) : "-", r.at ? local(*r.at) : "-",
         r.rule.empty() ? "-" : r.rule, step,
         r.decision ? v1::Action_Name(r.decision->action()) : "-",
         r.decision ? core::FormatMoney(r.decision->amount_minor(), r.decision->currency()) : "-",
         (r.decision ? r.decision->penalty_id() + " " : "") + StatusText(r, stands)});
  }
  PrintAligned(table, "  ", false, out);

  out << "\nEvidence (the trigger first, then the earlier occurrences that brought the ladder to "
         "this step):\n";
  std::vector<std::vector<std::string>> evidence;
  for (int i = 0; i < d.evidence_event_ids_size(); ++i) {
    const std::string& id = d.evidence_event_ids(i);
    std::string content;
    if (!o.events.empty()) {
      const FoundEvent& f = events[id];
      content = f.event ? core::EventToJson(*f.event) : "(not in " + o.events + ")";
      if (!f.corrected_by.empty()) {
        std::string by;
        for (const auto& c : f.corrected_by) by += (by.empty() ? "" : ", ") + c;
        content += "  corrected by " + by;
      }
    }
    evidence.push_back({id, role_of(i), content});
  }
  PrintAligned(evidence, "  ", false, out);

  out << "\nHistory in " << o.decisions << " (every issue and reversal of this occurrence, in "
         "log order; * marks "
      << issue_id << " and its reversals):\n";
  std::vector<std::vector<std::string>> hist;
  std::vector<std::string> causes;
  size_t issued = 0, reversed = 0;
  for (const auto& h : history) {
    const v1::Decision& x = h.decision;
    std::string what;
    if (x.kind() == v1::REVERSAL) {
      what = "reverses " + x.reverses_penalty_id();
    } else {
      what = "#" + std::to_string(x.occurrence()) + " step " + std::to_string(x.step()) + ", " +
             core::FormatMoney(x.amount_minor(), x.currency()) + " " + v1::Action_Name(x.action());
      if (x.capped()) {
        what += ", " + core::FormatMoney(x.capped_minor(), x.currency()) + " not deducted (" +
                x.guardrail() + ")";
      }
    }
    if (h.same_id) ++(x.kind() == v1::REVERSAL ? reversed : issued);
    const std::string& cause = x.cause_event_id();
    if (!cause.empty() && std::find(causes.begin(), causes.end(), cause) == causes.end()) {
      causes.push_back(cause);
    }
    hist.push_back({"line " + std::to_string(h.line), v1::DecisionKind_Name(x.kind()),
                    h.same_id ? "*" : "", x.penalty_id(), what,
                    cause.empty() ? "" : "cause: " + cause});
  }
  PrintAligned(hist, "  ", false, out);
  if (!o.events.empty() && !causes.empty()) {
    out << "\nEvents that caused reversals:\n";
    std::vector<std::vector<std::string>> cause_rows;
    for (const auto& c : causes) {
      const FoundEvent& f = events[c];
      cause_rows.push_back(
          {c, f.event ? core::EventToJson(*f.event) : "(not in " + o.events + ")"});
    }
    PrintAligned(cause_rows, "  ", false, out);
  }
  out << "\nStands at the end of the log: " << (stands ? "yes" : "no") << " (" << issue_id
      << " issued " << issued << (issued == 1 ? " time" : " times") << ", reversed " << reversed
      << (reversed == 1 ? " time" : " times") << ")\n";
  if (int code = WriteOutput("-", out.str()); code != kExitOk) return code;
  return bad_lines.empty() ? kExitOk : kExitRejected;
}

}  // namespace demerit::cli
