#include "rule_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace demerit::cli {

namespace fs = std::filesystem;

core::StatusOr<std::string> ReadFile(const std::string& path) {
  if (path == "-") {
    std::ostringstream out;
    out << std::cin.rdbuf();
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Status::Error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

core::StatusOr<std::shared_ptr<const core::RuleSet>> LoadRuleDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::Status::Error(dir + ": not a directory (Hint: the rules directory holds " +
                               "sites.yaml and packs/)");
  }
  fs::path root(dir);
  auto sites = ReadFile((root / "sites.yaml").string());
  if (!sites.ok()) {
    return core::Status::Error((root / "sites.yaml").string() +
                               ": cannot read (Hint: every rules directory has sites.yaml)");
  }
  std::vector<std::string> names;
  if (fs::is_directory(root / "packs", ec)) {
    for (const auto& entry : fs::directory_iterator(root / "packs", ec)) {
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<core::SourceFile> packs;
  for (const auto& name : names) {
    auto content = ReadFile(name);
    if (!content.ok()) return content.status();
    packs.push_back({name, std::move(*content)});
  }
  return core::CompileRuleSet({(root / "sites.yaml").string(), std::move(*sites)}, packs);
}

}  // namespace demerit::cli
