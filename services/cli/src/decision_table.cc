#include "decision_table.h"

#include <algorithm>

#include "demerit/core/engine.h"
#include "demerit/core/facts.h"
#include "demerit/core/time.h"

namespace demerit::cli {
namespace {

// Display width: CJK characters take two columns.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    w += len >= 3 ? 2 : 1;
    i += len;
  }
  return w;
}

}  // namespace

void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent,
                  bool header_rule, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - Width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    print(rows[r]);
    if (r == 0 && header_rule) {
      std::vector<std::string> rule;
      for (size_t w : widths) rule.push_back(std::string(w, '-'));
      print(rule);
    }
  }
}

void PrintDecisionTable(const std::vector<v1::Decision>& decisions, bool show_kind,
                        std::ostream& out) {
  std::vector<std::string> header = {"employee", "site",   "occurred_at (UTC)", "rule",
                                     "window",   "#",      "action",            "amount",
                                     "note"};
  if (show_kind) header.insert(header.begin(), "kind");
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : decisions) {
    std::string note;
    if (d.capped()) {
      note = d.guardrail() + ": " + core::FormatMoney(d.capped_minor(), d.currency()) +
             " not deducted";
    }
    if (d.kind() == v1::REVERSAL) note = "reverses " + d.reverses_penalty_id();
    std::vector<std::string> row = {
        d.employee_id(),
        d.site_id(),
        core::FormatRfc3339(core::ToNanos(d.occurred_at())),
        d.pack() + "/" + d.rule_id(),
        d.window(),
        std::to_string(d.occurrence()),
        v1::Action_Name(d.action()),
        core::FormatMoney(d.amount_minor(), d.currency()),
        note};
    if (show_kind) row.insert(row.begin(), v1::DecisionKind_Name(d.kind()));
    rows.push_back(std::move(row));
  }
  rows.insert(rows.begin(), header);
  PrintAligned(rows, "", true, out);
  rows.erase(rows.begin());
  out << "(" << rows.size() << " decisions)\n";
}

}  // namespace demerit::cli
