#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "demerit/core/rules.h"
#include "demerit/core/state.h"

namespace demerit::testing {

// The shipped rule set (rules/ of the source tree), compiled once.
std::shared_ptr<const core::RuleSet> ShippedRules();

// Compiles a rule set from text: sites.yaml and one pack file named
// packs/<pack>.yaml. Returns the error text on failure.
core::StatusOr<std::shared_ptr<const core::RuleSet>> CompileText(const std::string& sites,
                                                                 const std::string& pack_name,
                                                                 const std::string& pack);

// Every key and value of a store, in key order.
std::vector<std::pair<std::string, std::string>> StoreContents(core::StateStore& store);

}  // namespace demerit::testing
