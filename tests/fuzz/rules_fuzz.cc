// The rules and sites loader (CompileRuleSet: YAML rule files to a rule set).
// Input: a rules directory as one text: sites.yaml, then each pack file after
// a line "#file NAME" (packs/NAME, so "#file call-centre.yaml").
// Properties: loading the same files twice gives the same outcome: the same
// error text, or the same rule set version with the same rule versions at
// every site; a failure says where (its first line starts with the name of
// one of the files).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/core/rules.h"
#include "property.h"

namespace demerit::fuzz {
namespace {

struct Directory {
  core::SourceFile sites{"sites.yaml", ""};
  std::vector<core::SourceFile> packs;
};

Directory Split(std::string_view text) {
  static constexpr std::string_view kMarker = "#file ";
  Directory dir;
  std::string* content = &dir.sites.content;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at + 1);
    at += line.size();
    if (line.starts_with(kMarker)) {
      std::string_view name = line.substr(kMarker.size());
      if (name.ends_with('\n')) name.remove_suffix(1);
      dir.packs.push_back({"packs/" + std::string(name), ""});
      content = &dir.packs.back().content;
    } else {
      content->append(line);
    }
  }
  return dir;
}

// The rule versions at every site, one line each.
std::string Versions(const core::RuleSet& set) {
  std::string out = "rule set " + set.version() + "\n";
  for (const auto& [id, site] : set.sites()) {
    for (const auto& [qualified, versions] : site.rules) {
      for (const auto& [from, rule] : versions.versions) {
        out += id + " " + qualified + " from " + std::to_string(from) + ": " + rule->version + " " +
               rule->location + "\n";
      }
    }
  }
  return out;
}

std::string Outcome(const core::StatusOr<std::shared_ptr<const core::RuleSet>>& set) {
  return set.ok() ? Versions(*set.value()) : "error: " + set.status().message();
}

void Check(std::string_view text) {
  const Directory dir = Split(text);
  auto first = core::CompileRuleSet(dir.sites, dir.packs);
  auto second = core::CompileRuleSet(dir.sites, dir.packs);
  const std::string a = Outcome(first), b = Outcome(second);
  DEMERIT_PROPERTY(a == b, "first load:\n" + a + "\nsecond load:\n" + b);
  if (first.ok()) return;
  const std::string& message = first.status().message();
  bool located = message.starts_with(dir.sites.path + ":");
  for (const auto& pack : dir.packs) located = located || message.starts_with(pack.path + ":");
  DEMERIT_PROPERTY(located, "error without a file name: " + message);
}

}  // namespace
}  // namespace demerit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  demerit::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
