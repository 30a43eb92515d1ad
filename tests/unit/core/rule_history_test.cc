#include "demerit/core/rule_history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_rules.h"

namespace demerit::core {
namespace {

using demerit::testing::CompileText;

const std::string kSites =
    "sites:\n"
    "  - id: s1\n"
    "    time_zone: Asia/Shanghai\n"
    "    currency: CNY\n"
    "    packs: [p]\n";

// Pack p with rule r: `from` is an effective_from line or empty, `amount` its fine.
std::string Rule(const std::string& from, int amount) {
  return "  - id: r\n"
         "    title: R\n"
         "    clause: c1\n" +
         (from.empty() ? "" : "    effective_from: " + from + "\n") +
         "    stream: attendance\n"
         "    when: {kind: CLOCK_IN}\n"
         "    window: month\n"
         "    ladder: [{amount: {CNY: " +
         std::to_string(amount) + "}}]\n";
}

std::vector<LoadedVersion> Versions(const std::string& rules) {
  auto set = CompileText(kSites, "p", "pack: p\ntitle: T\nrules:\n" + rules);
  if (!set.ok()) {
    ADD_FAILURE() << set.status().message();
    return {};
  }
  return LoadedVersionsOf(**set);
}

const Nanos kNow = *ParseRfc3339("2026-12-04T12:00:00Z");

TEST(RuleHistoryTest, AnEditInPlaceNamesTheRuleAndBothVersions) {
  auto before = Versions(Rule("", 2000));
  auto after = Versions(Rule("", 3000));
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(before[0].rule, "p/r");
  EXPECT_EQ(before[0].from, "always");
  EXPECT_EQ(before[0].location, "packs/p.yaml:4");
  auto edits = FindEditsInPlace(before, after, kNow);
  ASSERT_EQ(edits.size(), 1u);
  EXPECT_EQ(edits[0].before.version, before[0].version);
  ASSERT_TRUE(edits[0].after);
  EXPECT_EQ(edits[0].after->version, after[0].version);
  EXPECT_EQ(edits[0].Describe(),
            "rule p/r (in force always) changed in place: version " + before[0].version +
                " (packs/p.yaml:4) is now " + after[0].version +
                " (packs/p.yaml:4); a replay of the past now gives other decisions than those "
                "committed (Hint: keep the version in force and add the new one with its own "
                "effective_from)");
}

TEST(RuleHistoryTest, WhatIsAndIsNotAnEditInPlace) {
  const std::string v1 = Rule("", 2000);
  struct Case {
    const char* name;
    std::string before, after;
    size_t edits;
  } cases[] = {
      {"unchanged", v1, v1, 0},
      {"title only (the version stays)", v1,
       "  - id: r\n    title: Other\n" + v1.substr(v1.find("    clause")), 0},
      {"a new version with its own effective_from", v1, v1 + Rule("2027-01-01", 3000), 0},
      {"amount changed", v1, Rule("", 3000), 1},
      {"a dated version in force changed", Rule("2026-01-01", 2000), Rule("2026-01-01", 3000), 1},
      {"a dated version not yet in force changed", v1 + Rule("2027-01-01", 3000),
       v1 + Rule("2027-01-01", 4000), 0},
      {"a version in force gone, the rule stays", v1 + Rule("2026-06-01", 3000),
       Rule("2026-06-01", 3000), 1},
      {"an instant in force changed", Rule("2026-11-01T00:00:00Z", 1),
       Rule("2026-11-01T00:00:00Z", 2), 1},
      {"a date that begins today east of UTC changed", Rule("2026-12-05", 1), Rule("2026-12-05", 2),
       1},
      {"a date that begins tomorrow everywhere changed", Rule("2026-12-06", 1),
       Rule("2026-12-06", 2), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FindEditsInPlace(Versions(c.before), Versions(c.after), kNow).size(), c.edits);
  }
  // A rule removed whole is not an edit in place.
  auto other = Versions("  - id: q\n" + v1.substr(v1.find("    title")));
  EXPECT_TRUE(FindEditsInPlace(Versions(v1), other, kNow).empty());
}

TEST(RuleHistoryTest, TheTextFormRoundTrips) {
  auto versions = Versions(Rule("", 2000) + Rule("2027-01-01", 3000));
  ASSERT_EQ(versions.size(), 2u);
  std::string text = FormatLoadedVersions(versions);
  auto parsed = ParseLoadedVersions(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 2u);
  for (size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ((*parsed)[i].rule, versions[i].rule);
    EXPECT_EQ((*parsed)[i].from, versions[i].from);
    EXPECT_EQ((*parsed)[i].version, versions[i].version);
    EXPECT_EQ((*parsed)[i].location, versions[i].location);
  }
  auto bad = ParseLoadedVersions("# header\np/r\talways\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2: not \"rule<TAB>"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace demerit::core
