#include "decision_table.h"

#include <algorithm>

#include "demerit/core/engine.h"
#include "demerit/core/facts.h"
#include "demerit/core/time.h"

namespace demerit::cli {
namespace {

struct CodePointRange {
  char32_t first, last;
};

// East Asian Wide and Fullwidth (Unicode's EastAsianWidth.txt, W and F), by
// block: Hangul Jamo, CJK symbols, kana, ideographs, Yi, Hangul syllables,
// compatibility and fullwidth forms, emoji, and the ideographic planes.
constexpr CodePointRange kWide[] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},
    {0x23f0, 0x23f0},   {0x23f3, 0x23f3},   {0x25fd, 0x25fe},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267f, 0x267f},   {0x2693, 0x2693},   {0x26a1, 0x26a1},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},   {0x26ce, 0x26ce},
    {0x26d4, 0x26d4},   {0x26ea, 0x26ea},   {0x26f2, 0x26f3},   {0x26f5, 0x26f5},
    {0x26fa, 0x26fa},   {0x26fd, 0x26fd},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x2728, 0x2728},   {0x274c, 0x274c},   {0x274e, 0x274e},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27b0, 0x27b0},   {0x27bf, 0x27bf},
    {0x2b1b, 0x2b1c},   {0x2b50, 0x2b50},   {0x2b55, 0x2b55},   {0x2e80, 0x303e},
    {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
    {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x16fe0, 0x16fe4},
    {0x17000, 0x18cd5}, {0x1b000, 0x1b2fb}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
    {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f202}, {0x1f210, 0x1f23b},
    {0x1f240, 0x1f248}, {0x1f250, 0x1f251}, {0x1f260, 0x1f265}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff}, {0x1fa70, 0x1faff},
    {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

// Characters that take no column of their own: combining marks, zero-width
// spaces and joiners, variation selectors.
constexpr CodePointRange kZeroWidth[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},   {0x064b, 0x065f},
    {0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1ab0, 0x1aff},   {0x1dc0, 0x1dff},
    {0x200b, 0x200f}, {0x2060, 0x2064}, {0x20d0, 0x20ff}, {0x302a, 0x302d},   {0x3099, 0x309a},
    {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

template <size_t N>
bool In(const CodePointRange (&ranges)[N], char32_t c) {
  const CodePointRange* it = std::upper_bound(
      ranges, ranges + N, c, [](char32_t v, const CodePointRange& r) { return v < r.first; });
  return it != ranges && c <= (it - 1)->last;
}

}  // namespace

size_t CodePointWidth(char32_t c) {
  if (In(kZeroWidth, c)) return 0;
  return In(kWide, c) ? 2 : 1;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = text[i];
    const size_t length = lead < 0x80    ? 1
                          : lead >= 0xf0 ? 4
                          : lead >= 0xe0 ? 3
                          : lead >= 0xc0 ? 2
                                         : 0;
    char32_t c = length == 4 ? lead & 0x07 : length == 3 ? lead & 0x0f : lead & 0x1f;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const unsigned char next = text[i + k];
      valid = (next & 0xc0) == 0x80;
      c = c << 6 | (next & 0x3f);
    }
    if (!valid) {  // a byte that is not UTF-8: one column, as a terminal shows a stand-in
      width += 1;
      i += 1;
      continue;
    }
    width += length == 1 ? 1 : CodePointWidth(c);
    i += length;
  }
  return width;
}

void PrintAligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent,
                  bool header_rule, std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
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
