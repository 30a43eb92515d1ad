#include "decision_table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace demerit::cli {
namespace {

// The column at which the second cell of each printed line starts, counted in
// display columns of the first cell given.
TEST(PrintAligned, PadsByDisplayWidth) {
  // 张伟 and Ｆｕｌｌ are wide (two columns a character); € is one column in
  // three bytes, é one in two, e with a combining acute one in three, 𝐀
  // (U+1D400) one in four, 😀 two in four.
  const std::vector<std::string> names = {
      "li.wei", "张伟", "Ｆｕｌｌ", "€100", "Zoé", "Zoe\xcc\x81", "\xf0\x9d\x90\x80", "😀", "한국"};
  const std::vector<size_t> widths = {6, 4, 8, 4, 3, 3, 1, 2, 4};
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : names) rows.push_back({name, "|"});
  std::ostringstream out;
  PrintAligned(rows, "", false, out);
  std::istringstream lines(out.str());
  std::string line;
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(std::getline(lines, line));
    SCOPED_TRACE(line);
    ASSERT_TRUE(line.starts_with(names[i]));
    // The widest first cell is 8 columns, then two spaces.
    EXPECT_EQ(line.substr(names[i].size()), std::string(8 - widths[i] + 2, ' ') + "|");
  }
}

TEST(DisplayWidth, CountsColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("li.wei"), 6u);
  EXPECT_EQ(DisplayWidth("张伟"), 4u);
  EXPECT_EQ(DisplayWidth("§2 迟到 20元/次"), 15u);
  EXPECT_EQ(DisplayWidth("ｱ"), 1u);  // halfwidth katakana
  EXPECT_EQ(DisplayWidth("アイ"), 4u);
  EXPECT_EQ(DisplayWidth("\u3000"), 2u);  // ideographic space
  EXPECT_EQ(DisplayWidth("€–…"), 3u);
  EXPECT_EQ(DisplayWidth("e\u0301"), 1u);
  EXPECT_EQ(DisplayWidth("a\u200bb"), 2u);
  EXPECT_EQ(DisplayWidth("\U00020000"), 2u);  // CJK extension B
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u);    // not UTF-8
  EXPECT_EQ(DisplayWidth("\xe4\xb8"), 2u);    // cut short: a column a byte
  EXPECT_EQ(CodePointWidth(U'A'), 1u);
  EXPECT_EQ(CodePointWidth(0x1100), 2u);
  EXPECT_EQ(CodePointWidth(0x115f), 2u);
  EXPECT_EQ(CodePointWidth(0x1160), 1u);
  EXPECT_EQ(CodePointWidth(0xff01), 2u);
  EXPECT_EQ(CodePointWidth(0xff61), 1u);
  EXPECT_EQ(CodePointWidth(0x3fffd), 2u);
  EXPECT_EQ(CodePointWidth(0x40000), 1u);
}

}  // namespace
}  // namespace demerit::cli
