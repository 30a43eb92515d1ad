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
    while (parser.HandleNextDocument(finder)) {
    }
  } catch (const YAML::Exception&) {
    // Not valid YAML: whoever loads the text reports where.
  }
  return errors;
}

}  // namespace demerit::core
