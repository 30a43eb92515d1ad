#pragma once

// The rule versions a rule set holds, kept from one load to the next, to see a
// rule in force edited in place: same id and effective_from, new content. A
// replay of the past then gives other decisions than those committed, so each
// such edit is reported, naming the rule and both versions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/core/rules.h"
#include "demerit/core/status.h"
#include "demerit/core/time.h"

namespace demerit::core {

// One version of one rule.
struct LoadedVersion {
  std::string rule;      // pack/id
  std::string from;      // effective_from: "always", a date (2026-01-01) or an RFC 3339 time
  std::string version;   // Rule::version
  std::string location;  // file:line of its definition
};

// Every rule version of `rules`, sorted by rule and effective_from.
std::vector<LoadedVersion> LoadedVersionsOf(const RuleSet& rules);

// A text form, a line per version, and its parser (errors name the line).
std::string FormatLoadedVersions(const std::vector<LoadedVersion>& versions);
StatusOr<std::vector<LoadedVersion>> ParseLoadedVersions(std::string_view text);

// A version that was in force and changed without a new effective_from.
struct EditInPlace {
  LoadedVersion before;
  std::optional<LoadedVersion> after;  // none: the rule is still there, this version is not

  // "rule p/r (in force from ...) changed in place: version ... (file:line) is
  // now ... (file:line); ..." with a hint.
  std::string Describe() const;
};

// The versions of `before` in force at `now` (a date counts from its start in
// the earliest time zone) that `after` changed or dropped while keeping their
// rule. A rule dropped whole, and versions not yet in force, are not edits.
std::vector<EditInPlace> FindEditsInPlace(const std::vector<LoadedVersion>& before,
                                          const std::vector<LoadedVersion>& after, Nanos now);

}  // namespace demerit::core
