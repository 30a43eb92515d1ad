#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/v1/decision.pb.h"

namespace demerit::cli {

// The columns a terminal gives `c`: 2 for East Asian Wide and Fullwidth
// characters (CJK ideographs, kana, Hangul, fullwidth forms, most emoji), 0
// for combining marks and zero-width characters, 1 for the others.
size_t CodePointWidth(char32_t c);

// The columns `text` (UTF-8) takes in a terminal: the sum of CodePointWidth;
// a byte that is not part of a UTF-8 sequence counts one column.
size_t DisplayWidth(std::string_view text);

// Prints rows as columns aligned for people, padded by DisplayWidth, each
// line starting with `indent`; with `header_rule`, a line of
// dashes under the first row.
void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent,
                  bool header_rule, std::ostream& out);

// Prints decisions as an aligned table for people.
void PrintDecisionTable(const std::vector<v1::Decision>& decisions, bool show_kind,
                        std::ostream& out);

}  // namespace demerit::cli
