#include "demerit/processor/rule_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
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

namespace {

// Writes `text` to `path` atomically: a temporary file, synced, renamed over
// `path`, and the directory synced.
core::Status WriteFileAtomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  auto failed = [&](const char* what) {
    return core::Status::Error("cannot " + std::string(what) + " " + temporary.string() + ": " +
                               std::strerror(errno));
  };
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed("create");
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      core::Status s = failed("write");
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    core::Status s = failed("sync");
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return failed("close");
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return failed("rename");
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return core::Status::Ok();
}

}  // namespace

core::StatusOr<std::vector<core::EditInPlace>> RecordRuleVersions(const std::string& state_dir,
                                                                  const core::RuleSet& rules,
                                                                  core::Nanos now) {
  const fs::path path = fs::path(state_dir) / kRuleVersionsFile;
  const std::vector<core::LoadedVersion> loaded = core::LoadedVersionsOf(rules);
  std::vector<core::EditInPlace> edits;
  std::string unreadable;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto text = ReadFile(path.string());
    auto before = text.ok() ? core::ParseLoadedVersions(*text)
                            : core::StatusOr<std::vector<core::LoadedVersion>>(text.status());
    if (before.ok()) {
      edits = core::FindEditsInPlace(*before, loaded, now);
    } else {
      unreadable = path.string() + ": " + before.status().message() +
                   "; rule versions not compared, the record is replaced";
    }
  }
  if (auto s = WriteFileAtomically(path, core::FormatLoadedVersions(loaded)); !s.ok()) return s;
  if (!unreadable.empty()) return core::Status::Error(unreadable);
  return edits;
}

}  // namespace demerit::processor
