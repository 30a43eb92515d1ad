#include "test_rules.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace demerit::testing {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::shared_ptr<const core::RuleSet> ShippedRules() {
  static std::shared_ptr<const core::RuleSet> rules = [] {
    std::filesystem::path root(DEMERIT_RULES_DIR);
    std::vector<core::SourceFile> packs;
    for (const auto& e : std::filesystem::directory_iterator(root / "packs")) {
      if (e.path().extension() == ".yaml") packs.push_back({e.path().string(), Slurp(e.path())});
    }
    std::sort(packs.begin(), packs.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    auto set = core::CompileRuleSet({(root / "sites.yaml").string(), Slurp(root / "sites.yaml")},
                                    packs);
    if (!set.ok()) throw std::runtime_error(set.status().message());
    return *set;
  }();
  return rules;
}

core::StatusOr<std::shared_ptr<const core::RuleSet>> CompileText(const std::string& sites,
                                                                 const std::string& pack_name,
                                                                 const std::string& pack) {
  return core::CompileRuleSet({"sites.yaml", sites}, {{"packs/" + pack_name + ".yaml", pack}});
}

std::vector<std::pair<std::string, std::string>> StoreContents(core::StateStore& store) {
  std::vector<std::pair<std::string, std::string>> all;
  store.Scan(std::string(1, '\0'), "\xff", [&](std::string_view k, std::string_view v) {
    all.emplace_back(k, v);
    return true;
  });
  return all;
}

}  // namespace demerit::testing
