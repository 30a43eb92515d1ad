#pragma once

// The compiled, immutable rule set: sites, packs, rules, counters and ladders.
// Start here to read how policy files become something the engine runs.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "demerit/core/facts.h"
#include "demerit/core/status.h"
#include "demerit/core/time.h"
#include "demerit/v1/decision.pb.h"

namespace demerit::core {

// A compiled condition over the facts of one event.
struct Condition {
  enum class Op { kAll, kAny, kNot, kEq, kNe, kGt, kGe, kLt, kLe, kIn, kHas, kPresent, kAbsent };
  Op op = Op::kAll;
  int fact = -1;
  int64_t value = 0;
  std::vector<int64_t> values;
  std::vector<Condition> children;

  bool Eval(const FactValues& facts) const;
  // A stable text form, used for rule versions.
  std::string Canonical(Stream stream) const;
};

struct Window {
  enum class Kind { kNone, kDay, kWeek, kMonth, kYear, kRolling };
  Kind kind = Kind::kNone;
  int rolling_days = 0;
};

struct Step {
  bool skip = false;
  std::map<std::string, int64_t> amounts;  // by currency
  v1::Action action = v1::NONE;
};

constexpr size_t kMaxLadderSteps = 16;

struct Ladder {
  std::vector<Step> steps;
  bool repeat = true;  // the last step applies to every later occurrence

  // The step for the rank-th occurrence (1-based), or nullptr for none.
  const Step* At(int rank) const;
};

// Occurrences are counted on a counter: a rule's own, or one shared by the
// rules of a pack.
struct Counter {
  std::string id;  // "pack/counter" or "pack/rule"
  Window window;
  Ladder ladder;
  bool shared = false;
};

struct Absence {
  Condition of;
  enum class Deadline { kShiftEnd, kOccurredAt };
  Deadline deadline = Deadline::kShiftEnd;
  int64_t grace_seconds = 0;
};

struct Match {
  Stream stream;
  Condition when;
};

struct Rule {
  std::string pack;
  std::string id;         // unique within the pack
  std::string qualified;  // pack/id
  std::string title;
  std::string clause;
  std::string description;
  std::string version;  // hash of the canonical content
  std::string location;  // file:line of its definition
  // effective_from: a local date (applies at each site in its own zone) or an instant.
  std::optional<CivilDay> effective_from_day;
  std::optional<Nanos> effective_from_instant;
  std::vector<Match> matches;
  std::optional<Absence> absence;
  std::shared_ptr<const Counter> counter;
};

struct Pack {
  std::string id;
  std::string title;
  std::string source;
  std::vector<std::shared_ptr<const Rule>> rules;
  std::vector<std::shared_ptr<const Counter>> counters;
};

// The versions of one rule at one site, oldest first.
struct RuleVersions {
  std::string qualified;
  std::vector<std::pair<Nanos, std::shared_ptr<const Rule>>> versions;  // (in force from, rule)

  // The version in force at `at`, or nullptr.
  const Rule* At(Nanos at) const;
};

struct Site final : ShiftClock {
  Site(std::string site_id, Zone site_zone) : id(std::move(site_id)), zone(std::move(site_zone)) {}
  std::string id;
  std::string name;
  Zone zone;
  std::string currency;
  std::vector<std::string> packs;
  int64_t shift_start_seconds = 9 * 3600;
  int64_t shift_end_seconds = 18 * 3600;
  std::optional<int64_t> monthly_deduction_cap;
  bool fines_allowed = true;
  // Rules in force at this site by the stream they match, and by name.
  std::array<std::vector<const RuleVersions*>, kStreamCount> rules_by_stream;
  std::map<std::string, RuleVersions> rules;  // by qualified id

  // The default shift a punch at `at` belongs to: of the shifts that start
  // on the local day of `at`, the day before and the day after, the one whose
  // start (for a clock-in) or end (for a clock-out) is nearest to `at`
  // (rules/README.md, "Shifts").
  Shift ShiftOf(Nanos at, bool clock_in) const override;
  // The start of the default shift under way at `at` (one begun the local
  // day before, for an overnight shift), or nullopt between shifts.
  std::optional<Nanos> ShiftUnderWay(Nanos at) const;
};

// One rule file as read from disk.
struct SourceFile {
  std::string path;     // as shown in error messages
  std::string content;  // UTF-8 YAML
};

class RuleSet {
 public:
  const Site* FindSite(std::string_view id) const;
  const std::map<std::string, Site, std::less<>>& sites() const { return sites_; }
  const std::map<std::string, Pack>& packs() const { return packs_; }
  // Hash of every rule version and site setting.
  const std::string& version() const { return version_; }
  // Whether any rule waits for the absence of an event on `stream`.
  bool HasAbsenceRules(Stream stream) const { return absence_streams_[static_cast<int>(stream)]; }
  int RuleCount() const;

 private:
  friend class RuleCompiler;
  std::map<std::string, Site, std::less<>> sites_;
  std::map<std::string, Pack> packs_;
  std::string version_;
  std::array<bool, kStreamCount> absence_streams_{};
};

// Compiles sites.yaml (`sites`) and the pack files (`packs`, one per pack)
// into a rule set. On failure, the message lists every error found, one per
// line, as "file:line:column: what was wrong (Hint: what is allowed)".
StatusOr<std::shared_ptr<const RuleSet>> CompileRuleSet(const SourceFile& sites,
                                                        const std::vector<SourceFile>& packs);

}  // namespace demerit::core
