#include "demerit/core/engine.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "demerit/core/facts.h"
#include "demerit/core/hash.h"
#include "demerit/v1/state.pb.h"

namespace demerit::core {
namespace {

namespace state = v1::state;

// State keys: the employee, a one-letter table, then parts, separated by
// kSep. Ids never contain control characters (ValidateEvent), so kSep cannot
// occur in them. Every key of an employee shares the prefix employee + kSep.
constexpr char kSep = kKeySeparator;
constexpr Nanos kMaxTimerSpan = 7 * kNanosPerDay;

// Key(table, {employee, rest...}) = employee kSep table kSep rest...
std::string Key(char table, std::initializer_list<std::string_view> parts) {
  std::string key;
  size_t i = 0;
  for (std::string_view p : parts) {
    key += p;
    if (i == 0) {
      key += kSep;
      key += table;
    }
    if (++i < parts.size()) key += kSep;
  }
  return key;
}

// The key of the decision issued for the occurrence under `occurrence_key`.
std::string IssuedKey(const std::string& occurrence_key) {
  std::string key = occurrence_key;
  key[key.find(kSep) + 1] = 'i';
  return key;
}

// A time as 16 hex digits that sort like the signed value.
std::string SortableTime(Nanos t) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t u = static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, u >>= 4) out[i] = kHex[u & 0xf];
  return out;
}

Nanos ParseSortableTime(std::string_view hex) {
  uint64_t u = 0;
  for (char c : hex) u = (u << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return static_cast<Nanos>(u ^ (uint64_t{1} << 63));
}

void SetTimestamp(Nanos t, google::protobuf::Timestamp* ts) {
  int64_t seconds = t / kNanosPerSecond;
  int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    seconds -= 1;
    nanos += kNanosPerSecond;
  }
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(nanos));
}

// Appends the decimal form of `n`.
void AppendInt(std::string* out, int64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out->append(buf, end);
}

void AppendOrdinal(std::string* out, int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    switch (n % 10) {
      case 1: suffix = "st"; break;
      case 2: suffix = "nd"; break;
      case 3: suffix = "rd"; break;
      default: break;
    }
  }
  AppendInt(out, n);
  *out += suffix;
}

void AppendMoney(std::string* out, int64_t minor, std::string_view currency) {
  static constexpr std::string_view kNoMinorUnits[] = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF"};
  if (std::find(std::begin(kNoMinorUnits), std::end(kNoMinorUnits), currency) !=
      std::end(kNoMinorUnits)) {
    AppendInt(out, minor);
  } else {
    // |INT64_MIN| does not fit an int64_t: work with the unsigned magnitude.
    uint64_t abs = minor < 0 ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
    if (minor < 0) *out += '-';
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, abs / 100);
    out->append(buf, end);
    *out += '.';
    *out += static_cast<char>('0' + abs % 100 / 10);
    *out += static_cast<char>('0' + abs % 10);
  }
  *out += ' ';
  *out += currency;
}

// The calendar window key of an instant, or "" for none and rolling windows.
std::string CalendarWindow(const Window& window, const Zone& zone, Nanos at) {
  switch (window.kind) {
    case Window::Kind::kDay: return FormatDay(zone.ToCivil(at).day);
    case Window::Kind::kWeek: return FormatIsoWeek(zone.ToCivil(at).day);
    case Window::Kind::kMonth: return FormatMonth(zone.ToCivil(at).day);
    case Window::Kind::kYear: return FormatYear(zone.ToCivil(at).day);
    case Window::Kind::kNone:
    case Window::Kind::kRolling: return "";
  }
  return "";
}

// Whether an event record's event counts (state.proto, EventRecord). `is_void`
// is the event's own flag.
bool Effective(const state::EventRecord& record, bool is_void) {
  return record.present() && !record.superseded() && !record.conflicted() && !record.displaced() &&
         !is_void;
}

bool Effective(const state::EventRecord& record) {
  return record.present() && Effective(record, HeaderOf(record.event()).is_void);
}

// What differs between two records of one event_id, on one line.
std::string ContentDifference(const v1::Envelope& before, const v1::Envelope& now) {
  std::string report;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&report);
  differ.Compare(before, now);
  std::string out;
  for (char c : report) {
    if (c != '\n') {
      out += c;
    } else if (out.size() < 400) {
      out += "; ";
    } else {
      break;
    }
  }
  while (out.ends_with("; ")) out.resize(out.size() - 2);
  if (out.size() > 400) out = out.substr(0, 400) + "...";
  return out.empty() ? "unknown fields differ" : out;
}

std::string StreamAndSite(const v1::Envelope& event) {
  Stream stream;
  std::string out = StreamOf(event, &stream) ? std::string(StreamName(stream)) : "unknown";
  return out + " at site " + *HeaderOf(event).site_id;
}

}  // namespace

// Every decision is made once and re-made whenever a late event moves it, so
// its id and reason are built in one buffer each rather than from temporaries.
std::string DecisionId(const v1::Decision& d) {
  std::string canon;
  canon.reserve(256);
  for (const std::string* part : {&d.site_id(), &d.employee_id(), &d.pack(), &d.rule_id(),
                                  &d.rule_version(), &d.counter(), &d.window()}) {
    canon += *part;
    canon += '\n';
  }
  for (int64_t n : {int64_t{d.occurrence()}, int64_t{d.step()}}) {
    AppendInt(&canon, n);
    canon += '\n';
  }
  AppendInt(&canon, d.amount_minor());
  canon += ' ';
  canon += d.currency();
  canon += '\n';
  AppendInt(&canon, d.action());
  canon += '\n';
  AppendInt(&canon, d.capped_minor());
  canon += ' ';
  canon += d.guardrail();
  canon += '\n';
  AppendInt(&canon, d.occurred_at().seconds());
  canon += '.';
  AppendInt(&canon, d.occurred_at().nanos());
  canon += '\n';
  for (const auto& id : d.evidence_event_ids()) {
    canon += id;
    canon += '\n';
  }
  std::string id = "pen-";
  id.append(Sha256Hex(canon), 0, 32);
  return id;
}

namespace {

std::string Reason(const v1::Decision& d, const std::string& title) {
  std::string out;
  out.reserve(title.size() + d.clause().size() + 96);
  out += title;
  out += ": ";
  AppendOrdinal(&out, d.occurrence());
  out += " occurrence";
  if (d.window() != "none") {
    out += " in ";
    out += d.window();
  }
  if (d.amount_minor() > 0 || d.capped_minor() > 0) {
    out += ", fine ";
    AppendMoney(&out, d.amount_minor(), d.currency());
  }
  if (d.action() != v1::NONE) {
    out += ", ";
    out += v1::Action_Name(d.action());
  }
  if (d.capped()) {
    out += " (";
    AppendMoney(&out, d.capped_minor(), d.currency());
    out += " not deducted: ";
    out += d.guardrail();
    out += ')';
  }
  out += " [";
  out += d.clause();
  out += ']';
  return out;
}

}  // namespace

std::string FormatMoney(int64_t minor, const std::string& currency) {
  std::string out;
  AppendMoney(&out, minor, currency);
  return out;
}

// One Apply(): the changes one event makes, gathered and then settled.
class Engine::Transition {
 public:
  // `wire`: the binary form of `event`, or empty.
  Transition(const RuleSet& rules, StateStore* state, const v1::Envelope& event,
             std::string_view wire)
      : rules_(rules), state_(state), event_(event), wire_(wire), header_(HeaderOf(event)) {}

  // `validated`: the event has passed ValidateEvent already.
  ApplyResult Run(std::vector<v1::Decision>* out, bool validated);
  std::vector<std::pair<const Site*, const Rule*>> occurrences_;

 private:
  template <typename M>
  bool Load(const std::string& key, M* message) {
    if (!state_->Get(key, &buffer_)) return false;
    return message->ParseFromString(buffer_);
  }
  template <typename M>
  void Store(const std::string& key, const M& message) {
    message.SerializeToString(&buffer_);
    state_->Put(key, buffer_);
  }

  // The event records that this event reads and changes when it is, or is
  // named by, a correction, or repeats an event_id with other content: as
  // loaded and as they are to be stored. The arriving event's own record
  // (`self`) holds no event: event_ and wire_ stand for it.
  struct Tracked {
    std::string id;
    state::EventRecord before;
    state::EventRecord after;
    bool self = false;
  };
  // The record of the employee's event `event_id`, loaded on first use.
  Tracked& Track(const std::string& event_id);
  const v1::Envelope& EventOf(const Tracked& t) const { return t.self ? event_ : t.after.event(); }
  // Applies an event that corrects another or was named by a correction.
  void ApplyTracked(const std::string& key, state::EventRecord record, ApplyResult* result);
  // The first record of an event_id meets another with other content.
  void Conflict(const std::string& key, state::EventRecord record, ApplyResult* result);
  // Decides which correction of `target` wins and marks the others displaced.
  void Resolve(Tracked& target);
  // Stores the tracked records and toggles the events whose effect changed.
  void FinishTracked();
  // Stores EventRecord{event_, flags...} without copying event_ into one;
  // `flags` has no event.
  void StoreEventRecord(const std::string& key, const state::EventRecord& flags);
  void Toggle(const v1::Envelope& event, bool on);
  void SetOccurrence(const Site& site, const Rule& rule, const EventHeader& h, bool on);
  Nanos Deadline(const Site& site, const Rule& rule, const v1::Envelope& origin) const;
  void EvaluateAbsence(const Site& site, const Rule& rule, const v1::Envelope& origin);
  void RecheckOrigins(Stream stream, Nanos closing_at);
  void FireTimers();
  std::optional<v1::Decision> Raw(const Site& site, const Counter& counter,
                                  const std::string& label, const state::OccurrenceRecord& occ,
                                  const std::deque<std::string>& earlier) const;
  void Place(const Site& site, const std::string& key, state::OccurrenceRecord& record,
             std::optional<v1::Decision> raw, bool keep);
  void Settle(std::vector<v1::Decision>* out);
  std::vector<v1::Decision> Guard(const Site& site, state::Scope& scope) const;

  const RuleSet& rules_;
  StateStore* state_;
  const v1::Envelope& event_;
  std::string_view wire_;
  EventHeader header_;
  Nanos stream_time_ = 0;
  state::EmployeeClock clock_;
  std::string buffer_;
  // Occurrence key -> the decision standing for it before this event.
  std::map<std::string, std::optional<v1::Decision>> originals_;
  // Occurrence key -> the decision issued for it now (what its issued record holds).
  std::map<std::string, std::optional<v1::Decision>> placed_;
  // Scope key -> occurrence key -> its raw fine now (nullopt: none).
  std::map<std::string, std::map<std::string, std::optional<v1::Decision>>> scope_changes_;
  std::map<std::string, const Site*> scope_sites_;
  std::map<std::string, Tracked> tracked_;
  std::vector<Withdrawn>* withdrawn_ = nullptr;
};

ApplyResult Engine::Transition::Run(std::vector<v1::Decision>* out, bool validated) {
  ApplyResult result;
  if (!validated) {
    if (auto rejection = ValidateEvent(event_, rules_)) {
      result.outcome = ApplyResult::Outcome::kRejected;
      result.rejection = std::move(*rejection);
      return result;
    }
  }
  const std::string& employee = *header_.employee_id;
  const std::string record_key = Key('e', {employee, *header_.event_id});
  state::EventRecord record;
  bool known = Load(record_key, &record);
  const bool repeated = known && record.present();
  if (repeated && !record.conflicted() &&
      google::protobuf::util::MessageDifferencer::Equals(record.event(), event_)) {
    result.outcome = ApplyResult::Outcome::kDuplicate;
    return result;
  }
  withdrawn_ = &result.withdrawn;

  // Stream time moves first: the toggles below see it. Every record that is
  // not a copy of one seen moves it, those of conflicting ids too, so that it
  // is the same in every order of arrival.
  const std::string clock_key = Key('m', {employee});
  bool has_clock = Load(clock_key, &clock_);
  stream_time_ = has_clock ? std::max(clock_.stream_time_ns(), header_.occurred_at)
                           : header_.occurred_at;
  clock_.set_stream_time_ns(stream_time_);
  const std::string clock_before = has_clock ? buffer_ : std::string("\xff");

  if (repeated && record.conflicted()) {
    result.outcome = ApplyResult::Outcome::kRejected;
    result.rejection = {v1::CONFLICTING_DUPLICATE,
                        "event_id " + *header_.event_id + " of employee " + employee +
                            " came before with other content: no record of this id counts "
                            "(Hint: give each event its own event_id; to change an event, send a "
                            "correction with supersedes_event_id)"};
  } else if (repeated) {
    Conflict(record_key, std::move(record), &result);
  } else if (!known && header_.supersedes_event_id->empty()) {
    // The common case: a new event that no correction names and that corrects nothing.
    state::EventRecord flags;
    flags.set_present(true);
    StoreEventRecord(record_key, flags);
    if (!header_.is_void) Toggle(event_, true);
  } else {
    ApplyTracked(record_key, std::move(record), &result);
  }
  FinishTracked();
  FireTimers();
  result.occurrences = std::move(occurrences_);
  clock_.SerializeToString(&buffer_);
  if (buffer_ != clock_before) state_->Put(clock_key, buffer_);
  Settle(out);
  return result;
}

Engine::Transition::Tracked& Engine::Transition::Track(const std::string& event_id) {
  auto [it, added] = tracked_.try_emplace(Key('e', {*header_.employee_id, event_id}));
  if (added) {
    it->second.id = event_id;
    Load(it->first, &it->second.before);
    it->second.after = it->second.before;
  }
  return it->second;
}

void Engine::Transition::ApplyTracked(const std::string& key, state::EventRecord record,
                                      ApplyResult* result) {
  Tracked& self = tracked_[key];
  self.id = *header_.event_id;
  self.self = true;
  self.before = std::move(record);
  self.after = self.before;
  self.after.set_present(true);
  const std::string& target_id = *header_.supersedes_event_id;
  if (target_id.empty()) {
    // Named by corrections that came first: they are judged now.
    Resolve(self);
    return;
  }
  Tracked& target = Track(target_id);
  Stream stream;
  StreamOf(event_, &stream);
  if (target.after.present() && !target.after.conflicted()) {
    Stream target_stream;
    StreamOf(target.after.event(), &target_stream);
    if (target_stream != stream || *HeaderOf(target.after.event()).site_id != *header_.site_id) {
      result->outcome = ApplyResult::Outcome::kRejected;
      result->rejection = {v1::INVALID_CORRECTION,
                           "correction " + *header_.event_id + " names " + target_id + ", " +
                               StreamAndSite(target.after.event()) + ", but is " +
                               StreamAndSite(event_) +
                               " (Hint: a correction is of the stream and site of the event it "
                               "corrects)"};
      tracked_.clear();
      return;
    }
  }
  bool listed = false;
  for (const auto& c : target.after.corrections()) listed |= c.event_id() == *header_.event_id;
  if (!listed) {
    state::Correction* c = target.after.add_corrections();
    c->set_event_id(*header_.event_id);
    c->set_stream(static_cast<int32_t>(stream));
    c->set_site_id(*header_.site_id);
  }
  self.after.set_displaced(true);  // until it wins
  Resolve(self);
  Resolve(target);
  if (self.after.displaced()) {
    result->outcome = ApplyResult::Outcome::kRejected;
    result->rejection = {v1::CONFLICTING_CORRECTION,
                         "correction " + *header_.event_id + " of " + target_id + ": " + target_id +
                             " is corrected by " + target.after.superseded_by() +
                             ", and of the corrections of one event the greatest event_id wins "
                             "(Hint: to correct a correction, supersede the correction's "
                             "event_id)"};
  }
}

void Engine::Transition::Conflict(const std::string& key, state::EventRecord record,
                                  ApplyResult* result) {
  Tracked& first = tracked_[key];
  first.id = *header_.event_id;
  first.before = std::move(record);
  first.after = first.before;
  first.after.set_conflicted(true);
  const v1::Envelope& seen = first.before.event();
  const std::string difference = ContentDifference(seen, event_);
  const std::string& target_id = *HeaderOf(seen).supersedes_event_id;
  if (!target_id.empty()) {
    // What it corrected no longer counts as corrected by it.
    first.after.set_displaced(true);
    Tracked& target = Track(target_id);
    auto* list = target.after.mutable_corrections();
    list->erase(std::remove_if(
                    list->begin(), list->end(),
                    [&](const state::Correction& c) { return c.event_id() == *header_.event_id; }),
                list->end());
    Resolve(target);
  }
  // Corrections of a conflicting id are judged as if it had not come.
  Resolve(first);
  const std::string& employee = *header_.employee_id;
  result->outcome = ApplyResult::Outcome::kRejected;
  result->rejection = {v1::CONFLICTING_DUPLICATE,
                       "event_id " + *header_.event_id + " of employee " + employee +
                           " came before with other content (" + difference +
                           "): neither record counts (Hint: give each event its own event_id; "
                           "to change an event, send a correction with supersedes_event_id)"};
  withdrawn_->push_back({{v1::CONFLICTING_DUPLICATE,
                          "event_id " + *header_.event_id + " of employee " + employee +
                              ": withdrawn, a record with the same id and other content came "
                              "later (" +
                              difference + ")"},
                         seen});
}

void Engine::Transition::Resolve(Tracked& target) {
  // Once the event itself is here, a correction of another stream or site does not count.
  const bool judged = target.after.present() && !target.after.conflicted();
  Stream stream = Stream::kAttendance;
  const std::string* site = nullptr;
  if (judged) {
    StreamOf(EventOf(target), &stream);
    site = HeaderOf(EventOf(target)).site_id;
  }
  std::string winner;
  for (const auto& c : target.after.corrections()) {
    if (judged && (c.stream() != static_cast<int32_t>(stream) || c.site_id() != *site)) continue;
    if (c.event_id() > winner) winner = c.event_id();
  }
  const std::string old = target.after.superseded_by();
  if (winner != old) {
    if (!old.empty()) {
      Tracked& loser = Track(old);
      if (!loser.after.displaced()) {
        // It is still listed (a conflicting id is displaced before it leaves
        // the list): it lost to a greater id, or is of another stream or site.
        loser.after.set_displaced(true);
        const std::string& target_id = target.id;
        if (winner.empty() || winner < old) {
          withdrawn_->push_back(
              {{v1::INVALID_CORRECTION, "correction " + old + " of " + target_id + ": withdrawn, " +
                                            target_id + " is " + StreamAndSite(EventOf(target)) +
                                            " and the correction is " +
                                            StreamAndSite(loser.after.event())},
               loser.after.event()});
        } else {
          withdrawn_->push_back({{v1::CONFLICTING_CORRECTION,
                                  "correction " + old + " of " + target_id + ": withdrawn, " +
                                      target_id + " is now corrected by " + winner +
                                      " (of the corrections of one event the greatest "
                                      "event_id wins)"},
                                 loser.after.event()});
        }
      }
    }
    if (!winner.empty()) Track(winner).after.set_displaced(false);
    target.after.set_superseded_by(winner);
  }
  // A record written before corrections were listed keeps its superseded flag.
  const bool unlisted = target.before.superseded() && target.before.superseded_by().empty();
  target.after.set_superseded(unlisted || !winner.empty());
}

void Engine::Transition::FinishTracked() {
  if (tracked_.empty()) return;
  std::vector<const v1::Envelope*> off, on;
  for (auto& [key, t] : tracked_) {
    const bool was = Effective(t.before);
    const bool now = t.self ? Effective(t.after, header_.is_void) : Effective(t.after);
    if (t.self) {
      StoreEventRecord(key, t.after);
    } else if (t.after.SerializeAsString() != t.before.SerializeAsString()) {
      Store(key, t.after);
    }
    if (was && !now) off.push_back(&t.before.event());
    if (!was && now) on.push_back(&EventOf(t));
  }
  for (const v1::Envelope* e : off) Toggle(*e, false);
  for (const v1::Envelope* e : on) Toggle(*e, true);
}

void Engine::Transition::StoreEventRecord(const std::string& key, const state::EventRecord& flags) {
  // The wire form of state::EventRecord: fields in number order, as
  // SerializeToString writes them.
  const size_t size = wire_.empty() ? event_.ByteSizeLong() : wire_.size();
  buffer_.clear();
  buffer_ += '\x0a';  // 1: event, length-delimited
  for (size_t n = size; true; n >>= 7) {
    if (n < 0x80) {
      buffer_ += static_cast<char>(n);
      break;
    }
    buffer_ += static_cast<char>((n & 0x7f) | 0x80);
  }
  const size_t at = buffer_.size();
  buffer_.resize(at + size);
  if (wire_.empty()) {
    event_.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(buffer_.data() + at));
  } else {
    wire_.copy(buffer_.data() + at, size);
  }
  // 2: present, 3: superseded, and the rest, as the message writes them.
  flags.AppendToString(&buffer_);
  state_->Put(key, buffer_);
}

void Engine::Transition::Toggle(const v1::Envelope& event, bool on) {
  EventHeader h = HeaderOf(event);
  const Site* site = rules_.FindSite(*h.site_id);
  if (site == nullptr) return;  // a site removed by a rules change
  Stream stream;
  StreamOf(event, &stream);
  const std::string& employee = *h.employee_id;
  if (rules_.HasAbsenceRules(stream)) {
    std::string key = Key('x', {employee, StreamName(stream), SortableTime(h.occurred_at),
                                *h.event_id});
    if (on && &event == &event_ && !wire_.empty()) {
      state_->Put(key, wire_);
    } else if (on) {
      Store(key, event);
    } else {
      state_->Delete(key);
    }
  }
  FactValues facts = ComputeFacts(event, *site);
  bool closes = false;
  for (const RuleVersions* versions : site->rules_by_stream[static_cast<int>(stream)]) {
    const Rule* rule = versions->At(h.occurred_at);
    if (rule == nullptr) continue;
    bool matched = false;
    for (const Match& m : rule->matches) {
      if (m.stream == stream && m.when.Eval(facts)) matched = true;
    }
    if (rule->absence) {
      if (rule->absence->of.Eval(facts)) closes = true;
      if (!matched) continue;
      Nanos deadline = Deadline(*site, *rule, event);
      std::string timer = Key('t', {employee, SortableTime(deadline), rule->qualified,
                                    *h.event_id});
      if (!on) {
        state_->Delete(timer);
        SetOccurrence(*site, *rule, h, false);
      } else if (stream_time_ > deadline) {
        EvaluateAbsence(*site, *rule, event);
      } else {
        state_->Put(timer, "");
        if (!clock_.has_next_deadline_ns() || deadline < clock_.next_deadline_ns()) {
          clock_.set_next_deadline_ns(deadline);
        }
      }
      continue;
    }
    if (matched) SetOccurrence(*site, *rule, h, on);
  }
  if (closes) RecheckOrigins(stream, h.occurred_at);
}

Nanos Engine::Transition::Deadline(const Site& site, const Rule& rule,
                             const v1::Envelope& origin) const {
  Nanos at = HeaderOf(origin).occurred_at;
  Nanos base = at;
  if (rule.absence->deadline == Absence::Deadline::kShiftEnd) {
    if (origin.has_attendance() && origin.attendance().has_scheduled_at() &&
        origin.attendance().kind() == v1::AttendancePunch::CLOCK_IN) {
      int64_t length = site.shift_end_seconds - site.shift_start_seconds;
      if (length <= 0) length += 86'400;
      base = ToNanos(origin.attendance().scheduled_at()) + length * kNanosPerSecond;
    } else if (origin.has_attendance() && origin.attendance().has_scheduled_at()) {
      base = ToNanos(origin.attendance().scheduled_at());
    } else {
      const bool clock_in =
          origin.has_attendance() && origin.attendance().kind() == v1::AttendancePunch::CLOCK_IN;
      base = site.ShiftOf(at, clock_in).end;
    }
  }
  Nanos deadline = base + rule.absence->grace_seconds * kNanosPerSecond;
  return std::clamp(deadline, at, at + kMaxTimerSpan);
}

void Engine::Transition::EvaluateAbsence(const Site& site, const Rule& rule,
                                   const v1::Envelope& origin) {
  EventHeader h = HeaderOf(origin);
  Nanos deadline = Deadline(site, rule, origin);
  if (stream_time_ <= deadline) return;  // still waiting
  Stream stream = rule.matches[0].stream;
  std::string prefix = Key('x', {*h.employee_id, StreamName(stream)});
  bool closed = false;
  v1::Envelope candidate;
  state_->Scan(prefix + kSep + SortableTime(h.occurred_at + 1),
               prefix + kSep + SortableTime(deadline + 1),
               [&](std::string_view, std::string_view value) {
                 if (!candidate.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                   return true;
                 }
                 const Site* csite = rules_.FindSite(*HeaderOf(candidate).site_id);
                 if (csite != nullptr && rule.absence->of.Eval(ComputeFacts(candidate, *csite))) {
                   closed = true;
                   return false;
                 }
                 return true;
               });
  SetOccurrence(site, rule, h, !closed);
}

void Engine::Transition::RecheckOrigins(Stream stream, Nanos closing_at) {
  const std::string& employee = *header_.employee_id;
  std::string prefix = Key('x', {employee, StreamName(stream)});
  std::vector<v1::Envelope> origins;
  state_->Scan(prefix + kSep + SortableTime(closing_at - kMaxTimerSpan),
               prefix + kSep + SortableTime(closing_at),
               [&](std::string_view, std::string_view value) {
                 v1::Envelope e;
                 if (e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                   origins.push_back(std::move(e));
                 }
                 return true;
               });
  for (const v1::Envelope& origin : origins) {
    EventHeader h = HeaderOf(origin);
    const Site* site = rules_.FindSite(*h.site_id);
    if (site == nullptr) continue;
    FactValues facts = ComputeFacts(origin, *site);
    for (const RuleVersions* versions : site->rules_by_stream[static_cast<int>(stream)]) {
      const Rule* rule = versions->At(h.occurred_at);
      if (rule == nullptr || !rule->absence || !rule->matches[0].when.Eval(facts)) continue;
      Nanos deadline = Deadline(*site, *rule, origin);
      if (closing_at <= deadline && stream_time_ > deadline) EvaluateAbsence(*site, *rule, origin);
    }
  }
}

void Engine::Transition::FireTimers() {
  if (!clock_.has_next_deadline_ns() || clock_.next_deadline_ns() >= stream_time_) return;
  const std::string& employee = *header_.employee_id;
  std::string prefix = Key('t', {employee});
  std::vector<std::string> due;
  clock_.clear_next_deadline_ns();
  state_->Scan(prefix + kSep, prefix + static_cast<char>(kSep + 1),
               [&](std::string_view key, std::string_view) {
                 if (key.substr(prefix.size() + 1, 16) >= SortableTime(stream_time_)) {
                   // The first timer not yet due.
                   clock_.set_next_deadline_ns(
                       ParseSortableTime(key.substr(prefix.size() + 1, 16)));
                   return false;
                 }
                 due.emplace_back(key);
                 return true;
               });
  for (const std::string& key : due) {
    state_->Delete(key);
    // t <sep> employee <sep> deadline <sep> rule <sep> event_id
    size_t rule_at = prefix.size() + 1 + 16 + 1;
    size_t rule_end = key.find(kSep, rule_at);
    std::string rule_id = key.substr(rule_at, rule_end - rule_at);
    std::string event_id = key.substr(rule_end + 1);
    state::EventRecord origin;
    if (!Load(Key('e', {employee, event_id}), &origin) || !Effective(origin)) continue;
    EventHeader h = HeaderOf(origin.event());
    const Site* site = rules_.FindSite(*h.site_id);
    if (site == nullptr) continue;
    auto it = site->rules.find(rule_id);
    if (it == site->rules.end()) continue;
    const Rule* rule = it->second.At(h.occurred_at);
    if (rule == nullptr || !rule->absence) continue;
    EvaluateAbsence(*site, *rule, origin.event());
  }
}

void Engine::Transition::SetOccurrence(const Site& site, const Rule& rule, const EventHeader& h,
                                       bool on) {
  const Counter& counter = *rule.counter;
  std::string label;
  switch (counter.window.kind) {
    case Window::Kind::kNone: label = "ev:" + *h.event_id; break;
    case Window::Kind::kRolling: label = "rolling"; break;
    default: label = CalendarWindow(counter.window, site.zone, h.occurred_at); break;
  }
  const std::string prefix = Key('o', {*h.employee_id, site.id, counter.id, label}) + kSep;
  const std::string key = prefix + SortableTime(h.occurred_at) + kSep + *h.event_id + kSep +
                          rule.qualified;
  const std::string prefix_end = prefix.substr(0, prefix.size() - 1) + static_cast<char>(kSep + 1);
  state::OccurrenceRecord record;
  bool exists = Load(key, &record);
  if (exists == on) return;

  auto remember = [&](const std::string& k, bool is_new) {
    if (originals_.count(k)) return;
    v1::Decision d;
    if (!is_new && Load(IssuedKey(k), &d)) {
      originals_[k] = std::move(d);
    } else {
      originals_[k] = std::nullopt;
    }
  };
  std::deque<std::string> earlier;
  auto push = [&](const std::string& id) {
    earlier.push_back(id);
    if (earlier.size() > kMaxLadderSteps) earlier.pop_front();
  };
  auto add = [&](int rank) {
    occurrences_.emplace_back(&site, &rule);
    record.set_occurred_at_ns(h.occurred_at);
    record.set_event_id(*h.event_id);
    record.set_rule_id(rule.qualified);
    record.set_rank(rank);
    remember(key, true);
    Place(site, key, record, Raw(site, counter, label, record, earlier), true);
    push(record.event_id());
  };
  const Window::Kind kind = counter.window.kind;
  if (kind == Window::Kind::kNone) {
    // Every occurrence is alone in its window.
    if (on) {
      add(1);
    } else {
      remember(key, false);
      state_->Delete(key);
      Place(site, key, record, std::nullopt, false);
    }
    return;
  }
  const bool rolling = kind == Window::Kind::kRolling;
  const std::string tail_key = Key('b', {*h.employee_id, site.id, counter.id, label});
  state::BucketTail tail;
  bool has_tail = !rolling && Load(tail_key, &tail);
  if (!rolling && on && (!has_tail || key > tail.last_key())) {
    // Arrived in order: ranked after the last one, nothing moves.
    earlier.assign(tail.recent_event_ids().begin(), tail.recent_event_ids().end());
    add(has_tail ? tail.last_rank() + 1 : 1);
    tail.set_last_key(key);
    tail.set_last_rank(record.rank());
    tail.clear_recent_event_ids();
    for (const auto& id : earlier) tail.add_recent_event_ids(id);
    Store(tail_key, tail);
    return;
  }

  // A rolling window of N days holds the N local calendar days that end with
  // the occurrence's own: it counts the occurrences from local day D-N+1 on,
  // and is counted by those up to local day D+N-1.
  const int64_t day = rolling ? DaysFromCivil(site.zone.ToCivil(h.occurred_at).day) : 0;
  const int64_t span_days = counter.window.rolling_days;
  auto local_day = [&](Nanos at) { return DaysFromCivil(site.zone.ToCivil(at).day); };
  // The occurrences before this one: the rank of the nearest (or, for a
  // rolling window, how many lie within it) and the ids for evidence.
  int base_rank = 0;
  std::string nearest_key;
  state::OccurrenceRecord other;
  state_->ScanReverse(prefix, key, [&](std::string_view k, std::string_view value) {
    if (!other.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
    if (rolling) {
      if (local_day(other.occurred_at_ns()) <= day - span_days) return false;
      ++base_rank;
    } else if (nearest_key.empty()) {
      base_rank = other.rank();
    }
    if (nearest_key.empty()) nearest_key = std::string(k);
    if (earlier.size() < kMaxLadderSteps) earlier.push_front(other.event_id());
    return rolling || earlier.size() < kMaxLadderSteps;
  });
  // The occurrences after it whose rank moves.
  std::vector<std::pair<std::string, state::OccurrenceRecord>> later;
  state_->Scan(key + '\0', prefix_end, [&](std::string_view k, std::string_view value) {
    state::OccurrenceRecord r;
    if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) return true;
    if (rolling && local_day(r.occurred_at_ns()) >= day + span_days) return false;
    later.emplace_back(std::string(k), std::move(r));
    return true;
  });
  if (on) {
    add(base_rank + 1);
  } else {
    remember(key, false);
    state_->Delete(key);
    Place(site, key, record, std::nullopt, false);
  }
  for (auto& [k, r] : later) {
    remember(k, false);
    r.set_rank(r.rank() + (on ? 1 : -1));
    Place(site, k, r, Raw(site, counter, label, r, earlier), true);
    push(r.event_id());
  }
  if (rolling) return;
  // The tail: the last occurrence now, if any.
  if (!later.empty()) {
    tail.set_last_key(later.back().first);
    tail.set_last_rank(later.back().second.rank());
  } else if (on) {
    tail.set_last_key(key);
    tail.set_last_rank(record.rank());
  } else if (!nearest_key.empty()) {
    tail.set_last_key(nearest_key);
    tail.set_last_rank(base_rank);
  } else {
    state_->Delete(tail_key);
    return;
  }
  tail.clear_recent_event_ids();
  for (const auto& id : earlier) tail.add_recent_event_ids(id);
  Store(tail_key, tail);
}

// Stores an occurrence's new raw decision: in the occurrence record, or, for
// a fine under a monthly cap, in the scope of its month.
void Engine::Transition::Place(const Site& site, const std::string& key,
                               state::OccurrenceRecord& record, std::optional<v1::Decision> raw,
                               bool keep) {
  std::string scope_key;
  if (site.monthly_deduction_cap) {
    scope_key = Key('d', {*header_.employee_id, site.id,
                          FormatMonth(site.zone.ToCivil(record.occurred_at_ns()).day)});
  }
  bool to_scope = raw && raw->amount_minor() > 0 && site.monthly_deduction_cap;
  const std::string issued_key = IssuedKey(key);
  if (raw && !to_scope) {
    v1::Decision d = std::move(*raw);
    const std::string title = d.reason();
    int64_t amount = d.amount_minor();
    if (amount > 0 && !site.fines_allowed) {
      d.set_amount_minor(0);
      d.set_capped(true);
      d.set_capped_minor(amount);
      d.set_guardrail("fines_allowed");
      if (d.action() == v1::NONE) d.set_action(v1::WARNING);
    }
    d.set_penalty_id(DecisionId(d));
    d.set_reason(Reason(d, title));
    Store(issued_key, d);
    placed_[key] = std::move(d);
  } else {
    state_->Delete(issued_key);
    placed_[key] = std::nullopt;
  }
  if (!scope_key.empty()) {
    scope_sites_[scope_key] = &site;
    auto& changes = scope_changes_[scope_key];
    if (to_scope) {
      changes[key] = std::move(*raw);
    } else {
      changes[key] = std::nullopt;
    }
  }
  if (keep) Store(key, record);
}

std::optional<v1::Decision> Engine::Transition::Raw(const Site& site, const Counter& counter,
                                                    const std::string& label,
                                                    const state::OccurrenceRecord& occ,
                                                    const std::deque<std::string>& earlier) const {
  auto versions = site.rules.find(occ.rule_id());
  if (versions == site.rules.end()) return std::nullopt;
  const Rule* rule = versions->second.At(occ.occurred_at_ns());
  if (rule == nullptr) return std::nullopt;
  const int rank = occ.rank();
  const Ladder& ladder = rule->counter->ladder;
  const core::Step* step = ladder.At(rank);
  if (step == nullptr) return std::nullopt;
  v1::Decision d;
  d.set_kind(v1::ISSUE);
  d.set_employee_id(*header_.employee_id);
  d.set_site_id(site.id);
  d.set_rule_id(rule->id);
  d.set_rule_version(rule->version);
  d.set_pack(rule->pack);
  d.set_counter(counter.id);
  d.set_clause(rule->clause);
  switch (counter.window.kind) {
    case Window::Kind::kNone: d.set_window("none"); break;
    case Window::Kind::kRolling: {
      CivilDay last = site.zone.ToCivil(occ.occurred_at_ns()).day;
      CivilDay first = CivilFromDays(DaysFromCivil(last) - counter.window.rolling_days + 1);
      d.set_window(FormatDay(first) + ".." + FormatDay(last));
      break;
    }
    default: d.set_window(label); break;
  }
  d.set_occurrence(rank);
  d.set_step(std::min(rank, static_cast<int>(ladder.steps.size())));
  auto amount = step->amounts.find(site.currency);
  d.set_amount_minor(amount == step->amounts.end() ? 0 : amount->second);
  d.set_currency(site.currency);
  d.set_action(step->action);
  SetTimestamp(occ.occurred_at_ns(), d.mutable_occurred_at());
  d.add_evidence_event_ids(occ.event_id());
  // The earlier occurrences that brought the ladder to this step.
  size_t n = std::min<size_t>({static_cast<size_t>(rank - 1), ladder.steps.size() - 1,
                               earlier.size()});
  for (size_t j = earlier.size() - n; j < earlier.size(); ++j) {
    d.add_evidence_event_ids(earlier[j]);
  }
  d.set_reason(rule->title);  // completed when the decision is issued
  return d;
}

std::vector<v1::Decision> Engine::Transition::Guard(const Site& site, state::Scope& scope) const {
  std::vector<const v1::Decision*> raw;
  for (const auto& r : scope.raw()) raw.push_back(&r.decision());
  std::sort(raw.begin(), raw.end(), [](const v1::Decision* a, const v1::Decision* b) {
    auto ka = std::make_tuple(a->occurred_at().seconds(), a->occurred_at().nanos(),
                              std::cref(a->evidence_event_ids(0)), std::cref(a->pack()),
                              std::cref(a->rule_id()), std::cref(a->counter()));
    auto kb = std::make_tuple(b->occurred_at().seconds(), b->occurred_at().nanos(),
                              std::cref(b->evidence_event_ids(0)), std::cref(b->pack()),
                              std::cref(b->rule_id()), std::cref(b->counter()));
    return ka < kb;
  });
  std::vector<v1::Decision> out;
  int64_t deducted = 0;
  for (const v1::Decision* r : raw) {
    v1::Decision d = *r;
    const std::string title = d.reason();
    int64_t amount = d.amount_minor();
    int64_t remaining = std::max<int64_t>(0, *site.monthly_deduction_cap - deducted);
    if (amount > remaining) {
      d.set_amount_minor(remaining);
      d.set_capped(true);
      d.set_capped_minor(amount - remaining);
      d.set_guardrail("monthly_deduction_cap");
    }
    deducted += d.amount_minor();
    d.set_penalty_id(DecisionId(d));
    d.set_reason(Reason(d, title));
    out.push_back(std::move(d));
  }
  return out;
}

void Engine::Transition::Settle(std::vector<v1::Decision>* out) {
  std::vector<v1::Decision> issues;
  auto reverse = [&](const v1::Decision& d) {
    v1::Decision reversal = d;
    reversal.set_kind(v1::REVERSAL);
    reversal.set_reverses_penalty_id(d.penalty_id());
    reversal.set_cause_event_id(*header_.event_id);
    reversal.set_penalty_id("rev-" +
                            Sha256Hex(d.penalty_id() + "\n" + *header_.event_id).substr(0, 32));
    reversal.set_reason("Reverses " + d.penalty_id() + " after event " + *header_.event_id +
                        " changed its evidence: " + d.reason());
    out->push_back(std::move(reversal));
  };
  for (const auto& [key, before] : originals_) {
    std::optional<v1::Decision> after;
    if (auto placed = placed_.find(key); placed != placed_.end()) {
      after = std::move(placed->second);
    } else if (v1::Decision issued; Load(IssuedKey(key), &issued)) {
      after = std::move(issued);
    }
    std::string before_id = before ? before->penalty_id() : "";
    std::string after_id = after ? after->penalty_id() : "";
    if (before_id == after_id) continue;
    if (before) reverse(*before);
    if (after) issues.push_back(std::move(*after));
  }
  for (auto& [key, changes] : scope_changes_) {
    const Site& site = *scope_sites_[key];
    state::Scope scope;
    Load(key, &scope);
    auto* raws = scope.mutable_raw();
    raws->erase(std::remove_if(raws->begin(), raws->end(),
                               [&](const state::RawDecision& r) {
                                 return changes.count(r.occurrence()) > 0;
                               }),
                raws->end());
    for (auto& [occ, raw] : changes) {
      if (!raw) continue;
      state::RawDecision* r = scope.add_raw();
      r->set_occurrence(occ);
      *r->mutable_decision() = std::move(*raw);
    }
    std::vector<v1::Decision> next = Guard(site, scope);
    std::set<std::string> next_ids, old_ids;
    for (const auto& d : next) next_ids.insert(d.penalty_id());
    for (const auto& d : scope.standing()) {
      old_ids.insert(d.penalty_id());
      if (!next_ids.count(d.penalty_id())) reverse(d);
    }
    for (const auto& d : next) {
      if (!old_ids.count(d.penalty_id())) issues.push_back(d);
    }
    scope.clear_standing();
    for (auto& d : next) *scope.add_standing() = std::move(d);
    if (scope.raw().empty()) {
      state_->Delete(key);
    } else {
      Store(key, scope);
    }
  }
  for (auto& d : issues) out->push_back(std::move(d));
}

Engine::Engine(std::shared_ptr<const RuleSet> rules, StateStore* state)
    : rules_(std::move(rules)), state_(state) {}

ApplyResult Engine::Apply(const v1::Envelope& event, std::vector<v1::Decision>* out) {
  Transition transition(*rules_, state_, event, {});
  return transition.Run(out, /*validated=*/false);
}

ApplyResult Engine::ApplyValidated(const v1::Envelope& event, std::string_view wire,
                                   std::vector<v1::Decision>* out) {
  Transition transition(*rules_, state_, event, wire);
  return transition.Run(out, /*validated=*/true);
}

namespace {

bool StandingLess(const v1::Decision& a, const v1::Decision& b) {
  return std::make_tuple(std::cref(a.employee_id()), a.occurred_at().seconds(),
                         a.occurred_at().nanos(), std::cref(a.pack()), std::cref(a.rule_id()),
                         std::cref(a.penalty_id())) <
         std::make_tuple(std::cref(b.employee_id()), b.occurred_at().seconds(),
                         b.occurred_at().nanos(), std::cref(b.pack()), std::cref(b.rule_id()),
                         std::cref(b.penalty_id()));
}

}  // namespace

void ForEachStandingDecision(StateStore& state,
                             const std::function<void(const v1::Decision&)>& visit,
                             EmployeeStateCache* cache) {
  // Unflushed changes would be in neither the base store nor this walk's view of it.
  assert(cache == nullptr || !cache->has_changes());
  // Employee by employee, reading only their issued ('i') and month scope
  // ('d') records: every key of an employee lies in [name kSep, name kSep+1).
  std::string from(1, '\0');
  // One employee's decisions, parsed into an arena that is reset for the next.
  google::protobuf::Arena arena;
  std::vector<const v1::Decision*> employee;
  auto read_table = [&](const std::string& name, char table, auto&& add) {
    const std::string begin = name + kSep + table;
    const std::string end = name + kSep + static_cast<char>(table + 1);
    auto each = [&](std::string_view, std::string_view value) {
      add(value);
      return true;
    };
    if (cache == nullptr || !cache->ScanCached(begin, end, each)) state.Scan(begin, end, each);
  };
  while (true) {
    std::string name;
    bool found = false;
    state.Scan(from, "\xff", [&](std::string_view key, std::string_view) {
      name = std::string(key.substr(0, key.find(kSep)));
      found = true;
      return false;
    });
    if (!found) break;
    read_table(name, 'i', [&](std::string_view value) {
      auto* d = google::protobuf::Arena::CreateMessage<v1::Decision>(&arena);
      if (d->ParseFromArray(value.data(), static_cast<int>(value.size()))) employee.push_back(d);
    });
    read_table(name, 'd', [&](std::string_view value) {
      auto* scope = google::protobuf::Arena::CreateMessage<state::Scope>(&arena);
      if (scope->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        for (const auto& d : scope->standing()) employee.push_back(&d);
      }
    });
    std::sort(employee.begin(), employee.end(),
              [](const v1::Decision* a, const v1::Decision* b) { return StandingLess(*a, *b); });
    for (const v1::Decision* d : employee) visit(*d);
    employee.clear();
    arena.Reset();
    from = name + static_cast<char>(kSep + 1);
  }
}

Ledger::Change Ledger::Add(const v1::Decision& decision) {
  switch (decision.kind()) {
    case v1::ISSUE:
      ++issued_;
      return standing_.emplace(decision.penalty_id(), decision).second ? Change::kIssued
                                                                       : Change::kIssuedAgain;
    case v1::REVERSAL:
      ++reversed_;
      return standing_.erase(decision.reverses_penalty_id()) > 0 ? Change::kReversed
                                                                 : Change::kReversalOfNothing;
    default:
      return Change::kNeither;
  }
}

std::vector<v1::Decision> Ledger::Standing() const {
  std::vector<v1::Decision> out;
  out.reserve(standing_.size());
  for (const auto& [id, d] : standing_) out.push_back(d);
  std::sort(out.begin(), out.end(), StandingLess);
  return out;
}

}  // namespace demerit::core
