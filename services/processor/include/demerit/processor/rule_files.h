#pragma once

#include <memory>
#include <string>

#include "demerit/core/rules.h"

namespace demerit::processor {

// Reads DIR/sites.yaml and DIR/packs/*.yaml (and *.yml) and compiles them.
core::StatusOr<std::shared_ptr<const core::RuleSet>> LoadRuleDirectory(const std::string& dir);

// A fingerprint of the rule files (names, sizes, modification times), to see
// that they changed.
std::string RuleFilesFingerprint(const std::string& dir);

// Reads a whole file; "-" is standard input.
core::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace demerit::processor
