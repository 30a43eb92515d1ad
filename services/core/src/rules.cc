#include "demerit/core/rules.h"

#include <google/protobuf/descriptor.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "demerit/core/currency.h"
#include "demerit/core/duplicate_keys.h"
#include "demerit/core/hash.h"

namespace demerit::core {

bool Condition::Eval(const FactValues& facts) const {
  switch (op) {
    case Op::kAll:
      for (const Condition& c : children) {
        if (!c.Eval(facts)) return false;
      }
      return true;
    case Op::kAny:
      for (const Condition& c : children) {
        if (c.Eval(facts)) return true;
      }
      return false;
    case Op::kNot:
      return !children[0].Eval(facts);
    case Op::kPresent:
      return facts[fact].present;
    case Op::kAbsent:
      return !facts[fact].present;
    default:
      break;
  }
  const FactValue& f = facts[fact];
  if (!f.present) return false;
  switch (op) {
    case Op::kEq: return f.value == value;
    case Op::kNe: return f.value != value;
    case Op::kGt: return f.value > value;
    case Op::kGe: return f.value >= value;
    case Op::kLt: return f.value < value;
    case Op::kLe: return f.value <= value;
    case Op::kIn: return std::find(values.begin(), values.end(), f.value) != values.end();
    case Op::kHas: return (f.value >> value) & 1;
    default: return false;
  }
}

std::string Condition::Canonical(Stream stream) const {
  static constexpr const char* kOps[] = {"all", "any", "not", "eq", "ne", "gt", "ge",
                                         "lt",  "le",  "in",  "has", "present", "absent"};
  std::string out = kOps[static_cast<int>(op)];
  out += '(';
  if (fact >= 0) out += FactsOf(stream)[fact].name;
  if (op == Op::kIn) {
    for (int64_t v : values) out += "," + std::to_string(v);
  } else if (op != Op::kPresent && op != Op::kAbsent && fact >= 0) {
    out += "," + std::to_string(value);
  }
  for (const Condition& c : children) out += c.Canonical(stream) + ";";
  out += ')';
  return out;
}

const Step* Ladder::At(int rank) const {
  if (rank < 1 || steps.empty()) return nullptr;
  size_t index = static_cast<size_t>(rank - 1);
  if (index >= steps.size()) {
    if (!repeat) return nullptr;
    index = steps.size() - 1;
  }
  const Step& step = steps[index];
  return step.skip ? nullptr : &step;
}

const Rule* RuleVersions::At(Nanos at) const {
  const Rule* found = nullptr;
  for (const auto& [from, rule] : versions) {
    if (from <= at) found = rule.get();
  }
  return found;
}

Shift Site::ShiftOf(Nanos at, bool clock_in) const {
  const int64_t today = DaysFromCivil(zone.ToCivil(at).day);
  // An overnight shift (end at or before start) ends on the next local day.
  const bool overnight = shift_end_seconds <= shift_start_seconds;
  Shift best{0, 0};
  Nanos best_distance = std::numeric_limits<Nanos>::max();
  // On a tie a clock-in takes the later shift, a clock-out the earlier one.
  const int64_t order[3] = {-1, 0, 1};
  for (int i = 0; i < 3; ++i) {
    const int64_t day = today + (clock_in ? order[2 - i] : order[i]);
    Shift shift{zone.ToInstant(CivilFromDays(day), shift_start_seconds),
                zone.ToInstant(CivilFromDays(day + (overnight ? 1 : 0)), shift_end_seconds)};
    const Nanos edge = clock_in ? shift.start : shift.end;
    const Nanos distance = at < edge ? edge - at : at - edge;
    if (distance < best_distance) {
      best = shift;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<Nanos> Site::ShiftUnderWay(Nanos at) const {
  // Today's shift, then yesterday's (an overnight shift runs into today).
  const int64_t today = DaysFromCivil(zone.ToCivil(at).day);
  for (int64_t day : {today, today - 1}) {
    const bool overnight = shift_end_seconds <= shift_start_seconds;
    Nanos start = zone.ToInstant(CivilFromDays(day), shift_start_seconds);
    Nanos end = zone.ToInstant(CivilFromDays(day + (overnight ? 1 : 0)), shift_end_seconds);
    if (start <= at && at < end) return start;
  }
  return std::nullopt;
}

const Site* RuleSet::FindSite(std::string_view id) const {
  auto it = sites_.find(id);
  return it == sites_.end() ? nullptr : &it->second;
}

int RuleSet::RuleCount() const {
  int n = 0;
  for (const auto& [id, pack] : packs_) n += static_cast<int>(pack.rules.size());
  return n;
}

// Builds a RuleSet from YAML, collecting every error with its location.
class RuleCompiler {
 public:
  StatusOr<std::shared_ptr<const RuleSet>> Compile(const SourceFile& sites,
                                                   const std::vector<SourceFile>& packs);

 private:
  void Error(const YAML::Node& node, const std::string& message) {
    const YAML::Mark mark = node.Mark();
    std::ostringstream out;
    out << file_ << ':' << (mark.line + 1) << ':' << (mark.column + 1) << ": " << message;
    errors_.push_back(out.str());
  }
  void FileError(const std::string& message) { errors_.push_back(file_ + ": " + message); }

  std::optional<YAML::Node> Load(const SourceFile& source);
  bool CheckKeys(const YAML::Node& map, const char* what, std::vector<std::string> allowed,
                 std::vector<std::string> required);
  bool Scalar(const YAML::Node& node, const char* key, std::string* out);
  bool Integer(const YAML::Node& node, const char* what, int64_t* out);
  bool Currency(const YAML::Node& node, const std::string& code);

  void CompilePack(const SourceFile& source);
  std::shared_ptr<Rule> CompileRule(const YAML::Node& node, Pack& pack,
                                    const std::map<std::string, std::shared_ptr<Counter>>& counters);
  bool CompileWindow(const YAML::Node& node, Window* window);
  bool CompileLadder(const YAML::Node& map, Ladder* ladder);
  bool CompileCondition(const YAML::Node& node, Stream stream, Condition* out);
  bool CompileField(const YAML::Node& key, const YAML::Node& value, Stream stream,
                    Condition* out);
  bool FactLiteral(const YAML::Node& node, Stream stream, int fact, int64_t* out);
  void CompileSites(const SourceFile& source);
  void Link();

  std::string file_;
  std::vector<std::string> errors_;
  std::shared_ptr<RuleSet> set_ = std::make_shared<RuleSet>();
  struct PendingSite {
    Site site;
    YAML::Node packs_node;
    std::string file;
  };
  std::vector<PendingSite> pending_sites_;
};

std::optional<YAML::Node> RuleCompiler::Load(const SourceFile& source) {
  file_ = source.path;
  // The node API keeps the first of two equal keys: every repeat is an error.
  for (std::string& error : FindDuplicateKeys(source.path, source.content)) {
    errors_.push_back(std::move(error));
  }
  try {
    YAML::Node root = YAML::Load(source.content);
    if (root.IsNull()) {
      if (auto unread = UnreadContent(source.path, source.content)) {
        errors_.push_back(std::move(*unread));
        return std::nullopt;
      }
    }
    return root;
  } catch (const YAML::ParserException& e) {
    std::ostringstream out;
    out << file_ << ':' << (e.mark.line + 1) << ':' << (e.mark.column + 1)
        << ": not valid YAML: " << e.msg;
    errors_.push_back(out.str());
    return std::nullopt;
  }
}

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string EnumNames(const google::protobuf::EnumDescriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() != 0) names.push_back(d->value(i)->name());
  }
  return JoinNames(names);
}

std::string FactNames(Stream stream) {
  std::vector<std::string> names;
  for (const auto& f : FactsOf(stream)) names.push_back(f.name);
  return JoinNames(names);
}

const char* TypeName(FactType t) {
  switch (t) {
    case FactType::kBool: return "true or false";
    case FactType::kInt: return "an integer or a duration (90s, 10m, 1h, 2d)";
    case FactType::kEnum: return "one of";
    case FactType::kEnumSet: return "one of";
  }
  return "";
}

bool ValidId(const std::string& id) {
  static const std::regex kId("[a-z0-9][a-z0-9-]*");
  return std::regex_match(id, kId);
}

}  // namespace

bool RuleCompiler::CheckKeys(const YAML::Node& map, const char* what,
                             std::vector<std::string> allowed, std::vector<std::string> required) {
  if (!map.IsMap()) {
    Error(map, std::string(what) + " must be a mapping (Hint: keys " + JoinNames(allowed) + ")");
    return false;
  }
  bool ok = true;
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      Error(kv.first, "unknown key \"" + key + "\" in " + what + " (Hint: allowed keys are " +
                          JoinNames(allowed) + ")");
      ok = false;
    }
  }
  for (const auto& key : required) {
    if (!map[key]) {
      Error(map, std::string(what) + " is missing required key \"" + key + "\"");
      ok = false;
    }
  }
  return ok;
}

bool RuleCompiler::Scalar(const YAML::Node& node, const char* key, std::string* out) {
  if (!node.IsScalar()) {
    Error(node, std::string("\"") + key + "\" must be a single value");
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool RuleCompiler::Integer(const YAML::Node& node, const char* what, int64_t* out) {
  if (!node.IsScalar()) {
    Error(node, std::string(what) + " must be an integer");
    return false;
  }
  const std::string& s = node.Scalar();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    Error(node, std::string(what) + ": \"" + s + "\" is not an integer");
    return false;
  }
  return true;
}

// Whether `code`, written at `node`, is an active ISO 4217 code; if not, an error.
bool RuleCompiler::Currency(const YAML::Node& node, const std::string& code) {
  if (IsCurrencyCode(code)) return true;
  std::string upper = code;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != code && IsCurrencyCode(upper)) {
    Error(node,
          "currency \"" + code + "\": codes are upper case (Hint: did you mean " + upper + "?)");
  } else {
    Error(node, "currency \"" + code +
                    "\" is not an active ISO 4217 code (Hint: e.g. CNY, EUR, USD, JPY: three "
                    "capitals of ISO 4217 list one)");
  }
  return false;
}

void RuleCompiler::CompileSites(const SourceFile& source) {
  auto root = Load(source);
  if (!root) return;
  if (!CheckKeys(*root, "the sites file", {"sites"}, {"sites"})) return;
  const YAML::Node list = (*root)["sites"];
  if (!list.IsSequence()) {
    Error(list, "\"sites\" must be a list of sites");
    return;
  }
  std::set<std::string> seen;
  for (const YAML::Node& node : list) {
    if (!CheckKeys(node, "a site",
                   {"id", "name", "time_zone", "currency", "packs", "default_shift", "guardrails"},
                   {"id", "time_zone", "currency", "packs"})) {
      continue;
    }
    std::string id, zone_name, currency;
    if (!Scalar(node["id"], "id", &id) || !Scalar(node["time_zone"], "time_zone", &zone_name) ||
        !Scalar(node["currency"], "currency", &currency)) {
      continue;
    }
    if (!seen.insert(id).second) Error(node["id"], "site \"" + id + "\" is defined twice");
    Currency(node["currency"], currency);
    auto zone = Zone::Find(zone_name);
    if (!zone.ok()) {
      Error(node["time_zone"], zone.status().message());
      zone = Zone::Find("UTC");  // to go on checking the rest of the site
    }
    PendingSite pending{Site(id, *zone), node["packs"], file_};
    Site& site = pending.site;
    site.currency = currency;
    if (node["name"]) Scalar(node["name"], "name", &site.name);
    if (const YAML::Node shift = node["default_shift"]) {
      if (CheckKeys(shift, "default_shift", {"start", "end"}, {"start", "end"})) {
        auto clock = [&](const YAML::Node& n, int64_t* out) {
          static const std::regex kClock("([01][0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?");
          std::smatch m;
          std::string s = n.IsScalar() ? n.Scalar() : "";
          if (!std::regex_match(s, m, kClock)) {
            Error(n, "bad local time \"" + s + "\" (Hint: HH:MM or HH:MM:SS, 24-hour)");
            return;
          }
          *out = std::stoi(m[1]) * 3600 + std::stoi(m[2]) * 60 +
                 (m[4].matched ? std::stoi(m[4]) : 0);
        };
        clock(shift["start"], &site.shift_start_seconds);
        clock(shift["end"], &site.shift_end_seconds);
      }
    }
    if (const YAML::Node g = node["guardrails"]) {
      if (CheckKeys(g, "guardrails", {"monthly_deduction_cap", "fines_allowed"}, {})) {
        if (g["monthly_deduction_cap"]) {
          int64_t cap;
          if (Integer(g["monthly_deduction_cap"], "monthly_deduction_cap", &cap)) {
            if (cap < 0) {
              Error(g["monthly_deduction_cap"],
                    "monthly_deduction_cap must not be negative (Hint: minor units, e.g. 20000)");
            } else if (cap > kMaxAmountMinor) {
              Error(g["monthly_deduction_cap"],
                    "monthly_deduction_cap " + std::to_string(cap) + " is more than the largest, " +
                        std::to_string(kMaxAmountMinor) + " (Hint: minor units, from 0 to " +
                        std::to_string(kMaxAmountMinor) + ")");
            }
            site.monthly_deduction_cap = cap;
          }
        }
        if (g["fines_allowed"]) {
          std::string v = g["fines_allowed"].IsScalar() ? g["fines_allowed"].Scalar() : "";
          if (v != "true" && v != "false") {
            Error(g["fines_allowed"], "fines_allowed must be true or false, not \"" + v + "\"");
          }
          site.fines_allowed = v != "false";
        }
      }
    }
    if (!pending.packs_node.IsSequence()) {
      Error(pending.packs_node, "\"packs\" must be a list of pack names");
    }
    pending_sites_.push_back(std::move(pending));
  }
}

bool RuleCompiler::CompileWindow(const YAML::Node& node, Window* window) {
  static const char* kHint = " (Hint: none, day, week, month, year, or {rolling_days: N})";
  if (node.IsMap()) {
    if (!CheckKeys(node, "window", {"rolling_days"}, {"rolling_days"})) return false;
    int64_t days;
    if (!Integer(node["rolling_days"], "rolling_days", &days)) return false;
    if (days < 1 || days > 3660) {
      Error(node["rolling_days"], "rolling_days must be between 1 and 3660");
      return false;
    }
    window->kind = Window::Kind::kRolling;
    window->rolling_days = static_cast<int>(days);
    return true;
  }
  std::string s = node.IsScalar() ? node.Scalar() : "";
  static const std::map<std::string, Window::Kind> kKinds = {
      {"none", Window::Kind::kNone},   {"day", Window::Kind::kDay},
      {"week", Window::Kind::kWeek},   {"month", Window::Kind::kMonth},
      {"year", Window::Kind::kYear}};
  auto it = kKinds.find(s);
  if (it == kKinds.end()) {
    Error(node, "unknown window \"" + s + "\"" + kHint);
    return false;
  }
  window->kind = it->second;
  return true;
}

bool RuleCompiler::CompileLadder(const YAML::Node& map, Ladder* ladder) {
  const YAML::Node steps = map["ladder"];
  if (!steps.IsSequence() || steps.size() == 0) {
    Error(steps ? steps : map, "\"ladder\" must be a non-empty list of steps");
    return false;
  }
  if (steps.size() > kMaxLadderSteps) {
    Error(steps, "a ladder has at most " + std::to_string(kMaxLadderSteps) + " steps");
    return false;
  }
  bool ok = true;
  for (const YAML::Node& s : steps) {
    Step step;
    if (s.IsScalar() && s.Scalar() == "skip") {
      step.skip = true;
    } else if (!CheckKeys(s, "a ladder step", {"amount", "action"}, {})) {
      ok = false;
      continue;
    } else {
      if (const YAML::Node amount = s["amount"]) {
        if (!amount.IsMap() || amount.size() == 0) {
          Error(amount, "\"amount\" must map currencies to minor units (Hint: {CNY: 2000})");
          ok = false;
        } else {
          for (const auto& kv : amount) {
            std::string cur = kv.first.Scalar();
            if (!Currency(kv.first, cur)) {
              ok = false;
              continue;
            }
            int64_t v;
            if (!Integer(kv.second, "amount", &v)) {
              ok = false;
            } else if (v < 0) {
              Error(kv.second, "amount must not be negative");
              ok = false;
            } else if (v > kMaxAmountMinor) {
              Error(kv.second, "amount " + std::to_string(v) + " is more than the largest, " +
                                   std::to_string(kMaxAmountMinor) +
                                   " (Hint: minor units, from 0 to " +
                                   std::to_string(kMaxAmountMinor) + ")");
              ok = false;
            } else {
              step.amounts[cur] = v;
            }
          }
        }
      }
      if (const YAML::Node action = s["action"]) {
        v1::Action a = v1::NONE;
        std::string name = action.IsScalar() ? action.Scalar() : "";
        if (!v1::Action_Parse(name, &a)) {
          Error(action, "unknown action \"" + name + "\" (Hint: " +
                            EnumNames(v1::Action_descriptor()) + ", NONE)");
          ok = false;
        }
        step.action = a;
      }
      bool any_amount = false;
      for (const auto& [cur, v] : step.amounts) any_amount |= v > 0;
      if (!any_amount && step.action == v1::NONE) step.action = v1::WARNING;
    }
    ladder->steps.push_back(std::move(step));
  }
  if (ok && std::all_of(ladder->steps.begin(), ladder->steps.end(),
                        [](const Step& step) { return step.skip; })) {
    Error(steps,
          "a ladder of only skip steps never fires (Hint: give at least one step an "
          "amount or an action)");
    ok = false;
  }
  if (const YAML::Node then = map["then"]) {
    std::string s = then.IsScalar() ? then.Scalar() : "";
    if (s == "repeat") {
      ladder->repeat = true;
    } else if (s == "stop") {
      ladder->repeat = false;
    } else {
      Error(then, "\"then\" must be repeat or stop, not \"" + s + "\"");
      ok = false;
    }
  }
  return ok;
}

bool RuleCompiler::FactLiteral(const YAML::Node& node, Stream stream, int fact, int64_t* out) {
  const FactSpec& spec = FactsOf(stream)[fact];
  std::string s = node.IsScalar() ? node.Scalar() : "";
  switch (spec.type) {
    case FactType::kBool:
      if (s == "true" || s == "false") {
        *out = s == "true";
        return true;
      }
      Error(node, spec.name + " is true or false, not \"" + s + "\"");
      return false;
    case FactType::kInt: {
      auto d = ParseDurationSeconds(s);
      if (s.size() > 1 && s[0] == '-') {
        auto rest = ParseDurationSeconds(s.substr(1));
        if (rest.ok()) {
          *out = -*rest;
          return true;
        }
      }
      if (!d.ok()) {
        Error(node, spec.name + " compares with " + TypeName(spec.type) + ", not \"" + s +
                        "\" (Hint: at most " + kMaxDurationText + ", " +
                        std::to_string(kMaxDurationSeconds) + " seconds, either sign)");
        return false;
      }
      *out = *d;
      return true;
    }
    case FactType::kEnum:
    case FactType::kEnumSet: {
      const auto* v = spec.enum_type->FindValueByName(s);
      if (v == nullptr || v->number() == 0) {
        Error(node, "unknown value \"" + s + "\" for " + spec.name +
                        " (Hint: " + EnumNames(spec.enum_type) + ")");
        return false;
      }
      *out = v->number();
      return true;
    }
  }
  return false;
}

bool RuleCompiler::CompileField(const YAML::Node& key, const YAML::Node& value, Stream stream,
                                Condition* out) {
  const std::string name = key.Scalar();
  int fact = FindFact(stream, name);
  if (fact < 0) {
    Error(key, "unknown field \"" + name + "\" for stream " + std::string(StreamName(stream)) +
                   " (Hint: " + FactNames(stream) + ", or all, any, not)");
    return false;
  }
  const FactSpec& spec = FactsOf(stream)[fact];
  out->fact = fact;
  if (!value.IsMap()) {
    if (spec.type == FactType::kEnumSet) {
      Error(value, name + " is a list: test it with {has: VALUE}");
      return false;
    }
    out->op = Condition::Op::kEq;
    return FactLiteral(value, stream, fact, &out->value);
  }
  // {op: value, ...}: all must hold.
  std::vector<Condition> parts;
  bool ok = true;
  for (const auto& kv : value) {
    const std::string op = kv.first.Scalar();
    Condition c;
    c.fact = fact;
    static const std::map<std::string, Condition::Op> kOps = {
        {"eq", Condition::Op::kEq}, {"ne", Condition::Op::kNe}, {"gt", Condition::Op::kGt},
        {"ge", Condition::Op::kGe}, {"lt", Condition::Op::kLt}, {"le", Condition::Op::kLe},
        {"in", Condition::Op::kIn}, {"has", Condition::Op::kHas},
        {"present", Condition::Op::kPresent}};
    auto it = kOps.find(op);
    if (it == kOps.end()) {
      Error(kv.first, "unknown comparison \"" + op +
                          "\" (Hint: eq, ne, gt, ge, lt, le, in, has, present)");
      ok = false;
      continue;
    }
    c.op = it->second;
    bool ordered = c.op == Condition::Op::kGt || c.op == Condition::Op::kGe ||
                   c.op == Condition::Op::kLt || c.op == Condition::Op::kLe;
    if (ordered && spec.type != FactType::kInt) {
      Error(kv.first, "\"" + op + "\" compares integers; " + name + " is not one");
      ok = false;
      continue;
    }
    if (c.op == Condition::Op::kHas && spec.type != FactType::kEnumSet) {
      Error(kv.first, "\"has\" tests list fields; " + name + " is not one (Hint: eq or in)");
      ok = false;
      continue;
    }
    if (c.op != Condition::Op::kHas && c.op != Condition::Op::kPresent &&
        spec.type == FactType::kEnumSet) {
      Error(kv.first, name + " is a list: test it with {has: VALUE}");
      ok = false;
      continue;
    }
    if (c.op == Condition::Op::kPresent) {
      std::string s = kv.second.IsScalar() ? kv.second.Scalar() : "";
      if (s != "true" && s != "false") {
        Error(kv.second, "present is true or false, not \"" + s + "\"");
        ok = false;
        continue;
      }
      c.op = s == "true" ? Condition::Op::kPresent : Condition::Op::kAbsent;
    } else if (c.op == Condition::Op::kIn) {
      if (!kv.second.IsSequence() || kv.second.size() == 0) {
        Error(kv.second, "\"in\" takes a non-empty list of values");
        ok = false;
        continue;
      }
      for (const YAML::Node& v : kv.second) {
        int64_t lit;
        if (FactLiteral(v, stream, fact, &lit)) {
          c.values.push_back(lit);
        } else {
          ok = false;
        }
      }
    } else if (!FactLiteral(kv.second, stream, fact, &c.value)) {
      ok = false;
      continue;
    }
    parts.push_back(std::move(c));
  }
  if (parts.size() == 1) {
    *out = std::move(parts[0]);
  } else {
    out->op = Condition::Op::kAll;
    out->fact = -1;
    out->children = std::move(parts);
  }
  return ok;
}

bool RuleCompiler::CompileCondition(const YAML::Node& node, Stream stream, Condition* out) {
  if (!node.IsMap() || node.size() == 0) {
    Error(node, "a condition must be a non-empty mapping of fields to values (Hint: fields of " +
                    std::string(StreamName(stream)) + ": " + FactNames(stream) +
                    "; or all, any, not)");
    return false;
  }
  out->op = Condition::Op::kAll;
  bool ok = true;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    Condition c;
    if (key == "all" || key == "any") {
      if (!kv.second.IsSequence() || kv.second.size() == 0) {
        Error(kv.second, "\"" + key + "\" takes a non-empty list of conditions");
        ok = false;
        continue;
      }
      c.op = key == "all" ? Condition::Op::kAll : Condition::Op::kAny;
      for (const YAML::Node& child : kv.second) {
        Condition cc;
        ok &= CompileCondition(child, stream, &cc);
        c.children.push_back(std::move(cc));
      }
    } else if (key == "not") {
      c.op = Condition::Op::kNot;
      Condition cc;
      ok &= CompileCondition(kv.second, stream, &cc);
      c.children.push_back(std::move(cc));
    } else {
      ok &= CompileField(kv.first, kv.second, stream, &c);
    }
    out->children.push_back(std::move(c));
  }
  if (out->children.size() == 1) {
    Condition only = std::move(out->children[0]);
    *out = std::move(only);
  }
  return ok;
}

std::shared_ptr<Rule> RuleCompiler::CompileRule(
    const YAML::Node& node, Pack& pack,
    const std::map<std::string, std::shared_ptr<Counter>>& counters) {
  if (!CheckKeys(node, "a rule",
                 {"id", "title", "clause", "description", "effective_from", "stream", "when",
                  "match", "absence", "window", "ladder", "then", "counter"},
                 {"id", "title", "clause"})) {
    return nullptr;
  }
  auto rule = std::make_shared<Rule>();
  rule->pack = pack.id;
  bool ok = Scalar(node["id"], "id", &rule->id) && Scalar(node["title"], "title", &rule->title) &&
            Scalar(node["clause"], "clause", &rule->clause);
  if (!ok) return nullptr;
  if (!ValidId(rule->id)) {
    Error(node["id"], "bad rule id \"" + rule->id + "\" (Hint: lower case letters, digits and -)");
    ok = false;
  }
  rule->qualified = pack.id + "/" + rule->id;
  rule->location = file_ + ":" + std::to_string(node.Mark().line + 1);
  if (node["description"]) Scalar(node["description"], "description", &rule->description);
  if (const YAML::Node from = node["effective_from"]) {
    std::string s = from.IsScalar() ? from.Scalar() : "";
    static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
    std::smatch m;
    if (std::regex_match(s, m, kDate)) {
      CivilDay day{std::stoi(m[1]), static_cast<unsigned>(std::stoi(m[2])),
                   static_cast<unsigned>(std::stoi(m[3]))};
      if (CivilFromDays(DaysFromCivil(day)) == day) {
        rule->effective_from_day = day;
      } else {
        Error(from, "no such date \"" + s + "\"");
        ok = false;
      }
    } else {
      auto at = ParseRfc3339(s);
      if (at.ok()) {
        rule->effective_from_instant = *at;
      } else {
        Error(from, "effective_from must be a date (2026-01-01) or an RFC 3339 time, not \"" +
                        s + "\"");
        ok = false;
      }
    }
  }
  // What the rule matches.
  if (node["match"] && (node["stream"] || node["when"])) {
    Error(node, "a rule takes either stream and when, or match, not both");
    return nullptr;
  }
  auto compile_match = [&](const YAML::Node& stream_node, const YAML::Node& when) {
    Match m;
    std::string s = stream_node.IsScalar() ? stream_node.Scalar() : "";
    if (!StreamFromName(s, &m.stream)) {
      Error(stream_node, "unknown stream \"" + s +
                             "\" (Hint: attendance, calls, visits, callbacks, observations)");
      ok = false;
      return;
    }
    if (!when) {
      Error(stream_node, "a match needs \"when\": the condition on the event");
      ok = false;
      return;
    }
    ok &= CompileCondition(when, m.stream, &m.when);
    rule->matches.push_back(std::move(m));
  };
  if (const YAML::Node match = node["match"]) {
    if (!match.IsSequence() || match.size() == 0) {
      Error(match, "\"match\" takes a non-empty list of {stream, when}");
      return nullptr;
    }
    for (const YAML::Node& m : match) {
      if (CheckKeys(m, "a match", {"stream", "when"}, {"stream", "when"})) {
        compile_match(m["stream"], m["when"]);
      } else {
        ok = false;
      }
    }
  } else if (node["stream"]) {
    compile_match(node["stream"], node["when"]);
  } else {
    Error(node, "rule \"" + rule->id + "\" matches nothing (Hint: stream and when, or match)");
    return nullptr;
  }
  if (const YAML::Node absence = node["absence"]) {
    if (rule->matches.size() != 1) {
      Error(absence, "an absence rule takes one stream (Hint: stream and when)");
      ok = false;
    } else if (CheckKeys(absence, "absence", {"of", "deadline", "grace"}, {"of"})) {
      Absence a;
      ok &= CompileCondition(absence["of"], rule->matches[0].stream, &a.of);
      if (const YAML::Node d = absence["deadline"]) {
        std::string s = d.IsScalar() ? d.Scalar() : "";
        if (s == "shift_end") {
          a.deadline = Absence::Deadline::kShiftEnd;
        } else if (s == "occurred_at") {
          a.deadline = Absence::Deadline::kOccurredAt;
        } else {
          Error(d, "unknown deadline \"" + s + "\" (Hint: shift_end or occurred_at)");
          ok = false;
        }
      }
      if (const YAML::Node g = absence["grace"]) {
        auto grace = ParseDurationSeconds(g.IsScalar() ? g.Scalar() : "");
        if (!grace.ok()) {
          Error(g, grace.status().message());
          ok = false;
        } else if (*grace > 7 * 86'400) {
          Error(g, "grace must be at most 7d");
          ok = false;
        } else {
          a.grace_seconds = *grace;
        }
      }
      rule->absence = std::move(a);
    } else {
      ok = false;
    }
  }
  // Where it counts.
  if (const YAML::Node counter = node["counter"]) {
    if (node["window"] || node["ladder"] || node["then"]) {
      Error(counter, "a rule on a shared counter takes its window and ladder from the counter");
      ok = false;
    }
    std::string id = counter.IsScalar() ? counter.Scalar() : "";
    auto it = counters.find(id);
    if (it == counters.end()) {
      std::vector<std::string> names;
      for (const auto& [name, c] : counters) names.push_back(name);
      Error(counter, "unknown counter \"" + id + "\" (Hint: counters of this pack: " +
                         (names.empty() ? std::string("none") : JoinNames(names)) + ")");
      ok = false;
    } else {
      rule->counter = it->second;
    }
  } else {
    auto own = std::make_shared<Counter>();
    own->id = rule->qualified;
    if (!node["window"]) {
      Error(node, "rule \"" + rule->id + "\" needs a window (or a counter)");
      ok = false;
    } else {
      ok &= CompileWindow(node["window"], &own->window);
    }
    if (!node["ladder"]) {
      Error(node, "rule \"" + rule->id + "\" needs a ladder (or a counter)");
      ok = false;
    } else {
      ok &= CompileLadder(node, &own->ladder);
    }
    rule->counter = own;
  }
  if (!ok) return nullptr;
  // The version: a hash of the canonical content.
  std::ostringstream canon;
  canon << "rule " << rule->qualified << "\nclause " << rule->clause << "\n";
  for (const Match& m : rule->matches) {
    canon << "match " << StreamName(m.stream) << " " << m.when.Canonical(m.stream) << "\n";
  }
  if (rule->absence) {
    canon << "absence " << rule->absence->of.Canonical(rule->matches[0].stream) << " "
          << static_cast<int>(rule->absence->deadline) << " " << rule->absence->grace_seconds
          << "\n";
  }
  if (rule->effective_from_day) canon << "from " << FormatDay(*rule->effective_from_day) << "\n";
  if (rule->effective_from_instant) canon << "from " << *rule->effective_from_instant << "\n";
  const Counter& c = *rule->counter;
  canon << "counter " << c.id << " " << static_cast<int>(c.window.kind) << " "
        << c.window.rolling_days << " " << c.ladder.repeat << "\n";
  for (const Step& s : c.ladder.steps) {
    canon << "step " << s.skip << " " << s.action;
    for (const auto& [cur, v] : s.amounts) canon << " " << cur << "=" << v;
    canon << "\n";
  }
  rule->version = Sha256Hex(canon.str()).substr(0, 12);
  return rule;
}

void RuleCompiler::CompilePack(const SourceFile& source) {
  auto root = Load(source);
  if (!root) return;
  if (!CheckKeys(*root, "a pack", {"pack", "title", "source", "counters", "rules"},
                 {"pack", "title", "rules"})) {
    return;
  }
  Pack pack;
  if (!Scalar((*root)["pack"], "pack", &pack.id) || !Scalar((*root)["title"], "title", &pack.title)) {
    return;
  }
  std::string base = source.path.substr(source.path.find_last_of('/') + 1);
  for (std::string_view ext : {".yaml", ".yml"}) {
    if (base.size() > ext.size() && base.ends_with(ext)) {
      base.resize(base.size() - ext.size());
      break;
    }
  }
  if (base != pack.id) {
    Error((*root)["pack"],
          "pack \"" + pack.id + "\" must be in a file named " + pack.id + ".yaml (or .yml)");
  }
  if (!ValidId(pack.id)) {
    Error((*root)["pack"], "bad pack name (Hint: lower case letters, digits and -)");
  }
  if (set_->packs_.count(pack.id)) {
    Error((*root)["pack"], "pack \"" + pack.id + "\" is defined twice");
    return;
  }
  if ((*root)["source"]) Scalar((*root)["source"], "source", &pack.source);
  std::map<std::string, std::shared_ptr<Counter>> counters;
  if (const YAML::Node list = (*root)["counters"]) {
    if (!list.IsSequence()) Error(list, "\"counters\" must be a list");
    for (const YAML::Node& node : list) {
      if (!CheckKeys(node, "a counter", {"id", "description", "window", "ladder", "then"},
                     {"id", "window", "ladder"})) {
        continue;
      }
      auto counter = std::make_shared<Counter>();
      std::string id;
      if (!Scalar(node["id"], "id", &id)) continue;
      counter->id = pack.id + "/" + id;
      counter->shared = true;
      bool ok = CompileWindow(node["window"], &counter->window);
      ok &= CompileLadder(node, &counter->ladder);
      if (counters.count(id)) Error(node["id"], "counter \"" + id + "\" is defined twice");
      if (ok) {
        counters[id] = counter;
        pack.counters.push_back(counter);
      }
    }
  }
  const YAML::Node rules = (*root)["rules"];
  if (!rules.IsSequence() || rules.size() == 0) {
    Error(rules, "\"rules\" must be a non-empty list of rules");
    return;
  }
  std::map<std::string, std::vector<std::string>> froms;  // id -> effective_from texts
  for (const YAML::Node& node : rules) {
    auto rule = CompileRule(node, pack, counters);
    if (!rule) continue;
    std::string from = rule->effective_from_day ? FormatDay(*rule->effective_from_day)
                       : rule->effective_from_instant
                           ? FormatRfc3339(*rule->effective_from_instant)
                           : "always";
    auto& seen = froms[rule->id];
    if (std::find(seen.begin(), seen.end(), from) != seen.end()) {
      Error(node["id"], "rule \"" + rule->id + "\" is defined twice with the same effective_from" +
                            " (Hint: give each version of a rule its own effective_from)");
      continue;
    }
    seen.push_back(from);
    pack.rules.push_back(std::move(rule));
  }
  set_->packs_[pack.id] = std::move(pack);
}

void RuleCompiler::Link() {
  std::ostringstream canon;
  for (PendingSite& pending : pending_sites_) {
    file_ = pending.file;
    Site& site = pending.site;
    for (const YAML::Node& p : pending.packs_node) {
      std::string name = p.IsScalar() ? p.Scalar() : "";
      auto it = set_->packs_.find(name);
      if (it == set_->packs_.end()) {
        std::vector<std::string> names;
        for (const auto& [n, pack] : set_->packs_) names.push_back(n);
        Error(p, "site \"" + site.id + "\" names unknown pack \"" + name + "\" (Hint: " +
                     (names.empty() ? std::string("no pack compiled") : JoinNames(names)) + ")");
        continue;
      }
      if (std::find(site.packs.begin(), site.packs.end(), name) != site.packs.end()) {
        Error(p, "pack \"" + name + "\" is listed twice");
        continue;
      }
      site.packs.push_back(name);
      for (const auto& rule : it->second.rules) {
        // Every amount must exist in the site's currency.
        for (const Step& step : rule->counter->ladder.steps) {
          if (!step.skip && !step.amounts.empty() && !step.amounts.count(site.currency)) {
            Error(p, "rule " + rule->qualified + " (" + rule->location +
                         ") has no amount in " + site.currency + ", the currency of site \"" +
                         site.id + "\" (Hint: add " + site.currency + " to its amounts)");
            break;
          }
        }
        Nanos from = std::numeric_limits<Nanos>::min();
        if (rule->effective_from_day) {
          from = site.zone.ToInstant(*rule->effective_from_day, 0);
        } else if (rule->effective_from_instant) {
          from = *rule->effective_from_instant;
        }
        RuleVersions& versions = site.rules[rule->qualified];
        versions.qualified = rule->qualified;
        versions.versions.emplace_back(from, rule);
      }
    }
    for (auto& [id, versions] : site.rules) {
      std::sort(versions.versions.begin(), versions.versions.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::set<Stream> streams;
      for (const auto& [from, rule] : versions.versions) {
        for (const Match& m : rule->matches) streams.insert(m.stream);
        if (rule->absence) set_->absence_streams_[static_cast<int>(rule->matches[0].stream)] = true;
      }
      for (Stream s : streams) site.rules_by_stream[static_cast<int>(s)].push_back(&versions);
    }
    canon << "site " << site.id << " " << site.zone.name() << " " << site.currency << " "
          << site.shift_start_seconds << "-" << site.shift_end_seconds << " "
          << site.monthly_deduction_cap.value_or(-1) << " " << site.fines_allowed;
    for (const auto& p : site.packs) canon << " " << p;
    canon << "\n";
    std::string id = site.id;
    set_->sites_.emplace(id, std::move(site));
  }
  for (const auto& [id, pack] : set_->packs_) {
    for (const auto& rule : pack.rules) canon << rule->qualified << " " << rule->version << "\n";
  }
  set_->version_ = Sha256Hex(canon.str()).substr(0, 12);
}

StatusOr<std::shared_ptr<const RuleSet>> RuleCompiler::Compile(
    const SourceFile& sites, const std::vector<SourceFile>& packs) {
  for (const SourceFile& pack : packs) CompilePack(pack);
  CompileSites(sites);
  Link();
  if (!errors_.empty()) {
    std::string message;
    for (const auto& e : errors_) message += e + "\n";
    message.pop_back();
    return Status::Error(message);
  }
  return std::shared_ptr<const RuleSet>(set_);
}

StatusOr<std::shared_ptr<const RuleSet>> CompileRuleSet(const SourceFile& sites,
                                                        const std::vector<SourceFile>& packs) {
  RuleCompiler compiler;
  return compiler.Compile(sites, packs);
}

}  // namespace demerit::core
