#include "demerit/processor/rule_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace demerit::processor {
namespace {

namespace fs = std::filesystem;

// A temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/demerit-rule-files-XXXXXX";
    path_ = mkdtemp(path);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A rules directory under `root` whose one rule fines `amount`.
std::string WriteRules(const fs::path& root, int amount) {
  fs::create_directories(root / "packs");
  std::ofstream(root / "sites.yaml") << "sites:\n  - id: s1\n    time_zone: UTC\n"
                                        "    currency: CNY\n    packs: [p]\n";
  std::ofstream(root / "packs" / "p.yml")
      << "pack: p\ntitle: T\nrules:\n  - id: r\n    title: R\n    clause: c\n"
         "    stream: attendance\n    when: {kind: CLOCK_IN}\n    window: month\n"
         "    ladder: [{amount: {CNY: "
      << amount << "}}]\n";
  return root.string();
}

const core::Nanos kNow = *core::ParseRfc3339("2026-12-04T12:00:00Z");

TEST(RecordRuleVersionsTest, ReportsARuleEditedInPlaceSinceTheLastLoad) {
  TempDir dir;
  const fs::path state = fs::path(dir.path()) / "state";
  fs::create_directories(state);
  auto first = LoadRuleDirectory(WriteRules(fs::path(dir.path()) / "a", 2000));
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto edits = RecordRuleVersions(state.string(), **first, kNow);
  ASSERT_TRUE(edits.ok()) << edits.status().message();
  EXPECT_TRUE(edits->empty()) << "the first load has nothing to compare with";
  ASSERT_TRUE(fs::exists(state / kRuleVersionsFile));
  EXPECT_FALSE(fs::exists(state / (std::string(kRuleVersionsFile) + ".tmp")));

  // The same rules again: nothing changed.
  edits = RecordRuleVersions(state.string(), **first, kNow);
  ASSERT_TRUE(edits.ok());
  EXPECT_TRUE(edits->empty());

  // Rule p/r fines 3000 instead, with no new effective_from.
  auto second = LoadRuleDirectory(WriteRules(fs::path(dir.path()) / "b", 3000));
  ASSERT_TRUE(second.ok()) << second.status().message();
  edits = RecordRuleVersions(state.string(), **second, kNow);
  ASSERT_TRUE(edits.ok());
  ASSERT_EQ(edits->size(), 1u);
  const core::EditInPlace& edit = (*edits)[0];
  EXPECT_EQ(edit.before.rule, "p/r");
  EXPECT_EQ(edit.before.version, (*first)->packs().at("p").rules[0]->version);
  ASSERT_TRUE(edit.after);
  EXPECT_EQ(edit.after->version, (*second)->packs().at("p").rules[0]->version);
  EXPECT_NE(edit.Describe().find("/a/packs/p.yml:4) is now "), std::string::npos)
      << edit.Describe();

  // Recorded: the next load compares with the edited rules.
  edits = RecordRuleVersions(state.string(), **second, kNow);
  ASSERT_TRUE(edits.ok());
  EXPECT_TRUE(edits->empty());
}

TEST(RecordRuleVersionsTest, AnUnreadableRecordIsReportedAndReplaced) {
  TempDir dir;
  std::ofstream(fs::path(dir.path()) / kRuleVersionsFile) << "garbage\n";
  auto rules = LoadRuleDirectory(WriteRules(fs::path(dir.path()) / "a", 2000));
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  auto edits = RecordRuleVersions(dir.path(), **rules, kNow);
  ASSERT_FALSE(edits.ok());
  EXPECT_NE(edits.status().message().find("rule versions not compared, the record is replaced"),
            std::string::npos)
      << edits.status().message();
  edits = RecordRuleVersions(dir.path(), **rules, kNow);
  EXPECT_TRUE(edits.ok()) << edits.status().message();
}

TEST(RecordRuleVersionsTest, AStateDirectoryThatCannotBeWrittenIsAnError) {
  TempDir dir;
  auto rules = LoadRuleDirectory(WriteRules(fs::path(dir.path()) / "a", 2000));
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  auto edits = RecordRuleVersions(dir.path() + "/no/such/dir", **rules, kNow);
  ASSERT_FALSE(edits.ok());
  EXPECT_NE(edits.status().message().find("cannot create"), std::string::npos)
      << edits.status().message();
}

}  // namespace
}  // namespace demerit::processor
