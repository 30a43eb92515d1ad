#pragma once

#include <ostream>
#include <vector>

#include "demerit/v1/decision.pb.h"

namespace demerit::cli {

// Prints decisions as an aligned table for people.
void PrintDecisionTable(const std::vector<v1::Decision>& decisions, bool show_kind,
                        std::ostream& out);

}  // namespace demerit::cli
