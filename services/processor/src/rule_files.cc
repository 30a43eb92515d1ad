#include "demerit/processor/rule_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace demerit::processor {

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

std::string RuleFilesFingerprint(const std::string& dir) {
  std::string out;
  std::error_code ec;
  std::vector<fs::path> files = {fs::path(dir) / "sites.yaml"};
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "packs", ec)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto size = fs::file_size(f, ec);
    auto time = fs::last_write_time(f, ec);
    out += f.string() + ":" + std::to_string(ec ? 0 : size) + ":" +
           std::to_string(time.time_since_epoch().count()) + "\n";
  }
  return out;
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
      const fs::path ext = entry.path().extension();
      if (ext == ".yaml" || ext == ".yml") names.push_back(entry.path().string());
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

}  // namespace demerit::processor
