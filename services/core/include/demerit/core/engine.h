#pragma once

// The engine: applies events to state under a rule set and returns the
// decisions that change. Pure: no I/O, no clock, no threads; everything it
// remembers lives in the StateStore it is given.
//
// The standing decisions (issues not reversed) are a function of the set of
// events applied, whatever their order or duplication:
//  - an event is effective unless it is void or another event supersedes it;
//  - every rule match of an effective event is an occurrence on a counter,
//    in a window local to the site, ranked by (occurred_at, event_id, rule);
//  - a counter's ladder turns ranks into raw decisions; the site's guardrails
//    turn one employee-month of raw decisions into issued decisions;
//  - what changes is emitted: reversals of issues no longer standing, then
//    new issues. Ids derive from content, so the same set gives the same ids.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/core/codec.h"
#include "demerit/core/rules.h"
#include "demerit/core/state.h"
#include "demerit/v1/decision.pb.h"
#include "demerit/v1/events.pb.h"

namespace demerit::core {

// A record applied earlier whose effect a later one withdrew: the first record
// of an event_id that came again with other content (CONFLICTING_DUPLICATE),
// a correction that a correction with a greater event_id displaced
// (CONFLICTING_CORRECTION), or a correction whose target turned out to be of
// another stream or site (INVALID_CORRECTION). It is dead-lettered late.
struct Withdrawn {
  Rejection rejection;
  v1::Envelope event;
};

struct ApplyResult {
  enum class Outcome { kApplied, kDuplicate, kRejected };
  Outcome outcome = Outcome::kApplied;
  // When rejected. A record rejected as CONFLICTING_DUPLICATE or
  // CONFLICTING_CORRECTION may still change decisions: what the conflict
  // withdrew is reversed, and those reversals are in Apply()'s output.
  Rejection rejection;
  std::vector<Withdrawn> withdrawn;
  // The rules this event matched (occurrences it added), for metrics.
  std::vector<std::pair<const Site*, const Rule*>> occurrences;
};

// The tables of the engine's state that it reads only with Get() (and
// ForEachStandingDecision with a scan): its event records, one per event ever
// applied, and its issued decisions. An EmployeeStateCache in front of the
// state can keep them as point tables (EmployeeStateCache::Options).
inline constexpr std::string_view kEnginePointTables = "ei";

class Engine {
 public:
  // `rules` and `state` must outlive the engine.
  Engine(std::shared_ptr<const RuleSet> rules, StateStore* state);

  // Validates `event`, applies it and appends the decisions that change to
  // *out: reversals first, then issues.
  ApplyResult Apply(const v1::Envelope& event, std::vector<v1::Decision>* out);

  // As Apply(), for an event that has passed ValidateEvent() against rules()
  // (it is not checked again). `wire`, when not empty, is the binary
  // demerit.v1.Envelope the event was parsed from: the engine keeps those
  // bytes instead of serialising the event again.
  ApplyResult ApplyValidated(const v1::Envelope& event, std::string_view wire,
                             std::vector<v1::Decision>* out);

  const RuleSet& rules() const { return *rules_; }

 private:
  class Transition;
  std::shared_ptr<const RuleSet> rules_;
  StateStore* state_;
};

// The standing issues of a decision log: issues minus the ones reversed. The
// one fold of a log, used by every reader (replay, audit, export, explain).
class Ledger {
 public:
  // What one decision did to the standing set.
  enum class Change {
    kIssued,    // an issue, now standing
    kReversed,  // a reversal of a standing issue, no longer standing
    // A malformed log: these change nothing (the first issue of an id stays).
    kIssuedAgain,        // an issue of an id that stands already
    kReversalOfNothing,  // a reversal of an id that does not stand
    kNeither,            // neither ISSUE nor REVERSAL
  };
  Change Add(const v1::Decision& decision);
  // Sorted by employee, occurred_at, pack, rule, penalty_id.
  std::vector<v1::Decision> Standing() const;
  // By penalty_id.
  const std::map<std::string, v1::Decision>& standing() const { return standing_; }
  // Whether the issue `penalty_id` stands.
  bool Stands(const std::string& penalty_id) const { return standing_.count(penalty_id) > 0; }
  // Every ISSUE and REVERSAL record added, well-formed or not.
  size_t issued() const { return issued_; }
  size_t reversed() const { return reversed_; }

 private:
  std::map<std::string, v1::Decision> standing_;  // by penalty_id
  size_t issued_ = 0;
  size_t reversed_ = 0;
};

// Visits the standing decisions held in `state` (every employee's, in the
// order of Ledger::Standing()). Reads the whole store; for the end of a run.
// With `cache` (in front of `state`, flushed), the employees it holds are
// read from memory.
void ForEachStandingDecision(StateStore& state,
                             const std::function<void(const v1::Decision&)>& visit,
                             EmployeeStateCache* cache = nullptr);

// The penalty_id of an issue: "pen-" and a hash of everything the decision
// decides (subject, rule and version, window, occurrence, step, amount,
// action, guardrail, time, evidence), so the same decision always has the
// same id, and an issue whose content was altered no longer matches its id.
// A reversal carries the fields of the issue it reverses: for it, this is
// that id. Not hashed: kind, reason, clause, the reversal's links.
std::string DecisionId(const v1::Decision& d);

// Formats minor units for people: 2000 CNY -> "20.00 CNY".
std::string FormatMoney(int64_t minor, const std::string& currency);

}  // namespace demerit::core
