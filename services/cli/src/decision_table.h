#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "demerit/v1/decision.pb.h"

namespace demerit::cli {

// Prints rows as columns aligned for people (CJK characters take two
// columns), each line starting with `indent`; with `header_rule`, a line of
// dashes under the first row.
void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent,
                  bool header_rule, std::ostream& out);

// Prints decisions as an aligned table for people.
void PrintDecisionTable(const std::vector<v1::Decision>& decisions, bool show_kind,
                        std::ostream& out);

}  // namespace demerit::cli
