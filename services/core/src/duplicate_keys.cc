#include "demerit/core/duplicate_keys.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>

namespace demerit::core {
namespace {

// Walks the parser's events with a stack of open collections; in a mapping,
// nodes alternate between key and value.
class DuplicateKeyFinder final : public YAML::EventHandler {
 public:
  DuplicateKeyFinder(const std::string& path, std::vector<std::string>* errors)
      : path_(path), errors_(errors) {}

  void OnDocumentStart(const YAML::Mark&) override { open_.clear(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    Key(mark, "~");
    Ended();
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Key(mark, "*" + std::to_string(anchor));
    Ended();
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    Key(mark, value);
    Ended();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open_.emplace_back(/*mapping=*/false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open_.emplace_back(/*mapping=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Collection {
    explicit Collection(bool is_mapping) : mapping(is_mapping) {}
    bool mapping;
    bool at_key = true;  // in a mapping: the next node is a key
    std::map<std::string, YAML::Mark> keys;
  };

  // A scalar node begins: if it is a key, is it new in its mapping?
  void Key(const YAML::Mark& mark, const std::string& key) {
    if (open_.empty() || !open_.back().mapping || !open_.back().at_key) return;
    auto [it, inserted] = open_.back().keys.emplace(key, mark);
    if (inserted) return;
    std::ostringstream out;
    out << path_ << ':' << (mark.line + 1) << ':' << (mark.column + 1) << ": duplicate key \""
        << key << "\", first at line " << (it->second.line + 1) << " column "
        << (it->second.column + 1)
        << " (Hint: a key appears once in a mapping; merge the two entries or remove one)";
    errors_->push_back(out.str());
  }
  void Close() {
    open_.pop_back();
    Ended();
  }
  // A node has ended: in a mapping, a key is followed by its value.
  void Ended() {
    if (!open_.empty() && open_.back().mapping) open_.back().at_key = !open_.back().at_key;
  }

  const std::string& path_;
  std::vector<std::string>* errors_;
  std::vector<Collection> open_;
};

}  // namespace

std::vector<std::string> FindDuplicateKeys(const std::string& path, const std::string& text) {
  std::vector<std::string> errors;
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    DuplicateKeyFinder finder(path, &errors);
    // The first document, the one YAML::Load reads. (yaml-cpp 0.7 can return
    // "another document" for ever after some malformed ones, such as
    // `,a: 1\ntopics: {"c"}`.)
    parser.HandleNextDocument(finder);
  } catch (const YAML::Exception&) {
    // Not valid YAML: whoever loads the text reports where.
  }
  return errors;
}

std::optional<std::string> UnreadContent(const std::string& path, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::string content = line.substr(first);
    content = content.substr(0, content.find_last_not_of(" \t\r") + 1);
    if (number == 1 && content.starts_with("\xEF\xBB\xBF")) content = content.substr(3);
    if (content == "---" || content == "..." || content == "~" || content == "null" ||
        content.empty()) {
      continue;
    }
    return path + ":" + std::to_string(number) + ":" + std::to_string(first + 1) +
           ": not valid YAML: nothing could be read from here on (Hint: a mapping of keys, "
           "`key: value` one a line)";
  }
  return std::nullopt;
}

}  // namespace demerit::core
