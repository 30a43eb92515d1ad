#pragma once

#include <memory>
#include <string>

#include "demerit/core/rule_history.h"
#include "demerit/core/rules.h"

namespace demerit::processor {

// Reads DIR/sites.yaml and DIR/packs/*.yaml (and *.yml) and compiles them.
core::StatusOr<std::shared_ptr<const core::RuleSet>> LoadRuleDirectory(const std::string& dir);

// A fingerprint of the rule files (names, sizes, modification times), to see
// that they changed.
std::string RuleFilesFingerprint(const std::string& dir);

// The file of a state directory that records the rule versions last loaded with it.
constexpr const char* kRuleVersionsFile = "rule-versions.tsv";

// Compares `rules` with the rule versions last loaded with the state directory
// `state_dir` (none the first time) and records `rules` there instead, written
// atomically (a temporary file renamed over the old one). Returns the versions
// in force at `now` edited in place since, or an error when the record cannot
// be written, or could not be read (then it is replaced all the same).
core::StatusOr<std::vector<core::EditInPlace>> RecordRuleVersions(const std::string& state_dir,
                                                                  const core::RuleSet& rules,
                                                                  core::Nanos now);

// Reads a whole file; "-" is standard input.
core::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace demerit::processor
