#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "commands.h"
#include "demerit/core/duplicate_keys.h"
#include "demerit/core/engine.h"
#include "demerit/core/rule_history.h"
#include "demerit/processor/rule_files.h"

namespace demerit::cli {

using processor::LoadRuleDirectory;
using processor::ReadFile;

namespace fs = std::filesystem;

int RunRulesCheck(const std::string& dir, const std::string& previous) {
  auto rules = LoadRuleDirectory(dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  const auto& set = **rules;
  std::cout << "ok: " << set.sites().size() << " sites, " << set.packs().size() << " packs, "
            << set.RuleCount() << " rules; rules version " << set.version() << "\n";
  for (const auto& [id, pack] : set.packs()) {
    std::cout << "  pack " << id << ": " << pack.rules.size() << " rules\n";
  }
  if (previous.empty()) return kExitOk;
  auto before = LoadRuleDirectory(previous);
  if (!before.ok()) {
    std::cerr << "--previous " << previous << ": the rules do not compile:\n"
              << before.status().message() << "\n";
    return kExitRules;
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto edits =
      core::FindEditsInPlace(core::LoadedVersionsOf(**before), core::LoadedVersionsOf(set), now);
  for (const auto& edit : edits) std::cerr << edit.Describe() << "\n";
  if (edits.empty()) return kExitOk;
  std::cerr << edits.size() << " rule version(s) in force in " << previous << " changed in place\n";
  return kExitRuleEdited;
}

namespace {

// YAML written in a test case, as the JSON the event reader takes.
nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& child : node) out.push_back(ToJson(child));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: always a string
      if (s == "true") return true;
      if (s == "false") return false;
      static const std::regex kInt("-?[0-9]+");
      if (std::regex_match(s, kInt)) return std::stoll(s);
      return s;
    }
    default:
      return nullptr;
  }
}

std::string Where(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(node.Mark().line + 1);
}

// Runs the events in one order; returns the standing decisions or an error.
core::StatusOr<std::vector<v1::Decision>> Run(std::shared_ptr<const core::RuleSet> rules,
                                              const std::vector<v1::Envelope>& events) {
  core::MemoryStateStore state;
  core::Engine engine(rules, &state);
  core::Ledger ledger;
  std::vector<v1::Decision> out;
  for (const auto& e : events) {
    out.clear();
    auto r = engine.Apply(e, &out);
    if (r.outcome == core::ApplyResult::Outcome::kRejected) {
      return core::Status::Error("event rejected: " + r.rejection.detail);
    }
    for (const auto& d : out) ledger.Add(d);
  }
  return ledger.Standing();
}

std::string Describe(const v1::Decision& d) {
  return d.pack() + "/" + d.rule_id() + " employee " + d.employee_id() + " trigger " +
         d.evidence_event_ids(0) + " window " + d.window() + " #" +
         std::to_string(d.occurrence()) + " " + v1::Action_Name(d.action()) + " " +
         std::to_string(d.amount_minor()) + " " + d.currency() +
         (d.capped() ? " capped " + std::to_string(d.capped_minor()) + " " + d.guardrail() : "");
}

// Does decision d match the expectation map? Sets *why to the first mismatch.
bool Matches(const YAML::Node& expect, const v1::Decision& d, std::string* why) {
  for (const auto& kv : expect) {
    const std::string key = kv.first.Scalar();
    std::string want = kv.second.IsScalar() ? kv.second.Scalar() : "";
    std::string got;
    if (key == "rule") got = d.pack() + "/" + d.rule_id();
    else if (key == "employee") got = d.employee_id();
    else if (key == "site") got = d.site_id();
    else if (key == "amount") got = std::to_string(d.amount_minor());
    else if (key == "currency") got = d.currency();
    else if (key == "action") got = v1::Action_Name(d.action());
    else if (key == "window") got = d.window();
    else if (key == "occurrence") got = std::to_string(d.occurrence());
    else if (key == "step") got = std::to_string(d.step());
    else if (key == "capped") got = d.capped() ? "true" : "false";
    else if (key == "capped_minor") got = std::to_string(d.capped_minor());
    else if (key == "guardrail") got = d.guardrail();
    else if (key == "trigger") got = d.evidence_event_ids(0);
    else if (key == "evidence") {
      want.clear();
      for (const auto& e : kv.second) want += e.Scalar() + ",";
      for (const auto& e : d.evidence_event_ids()) got += e + ",";
    } else {
      *why = "unknown expectation key \"" + key + "\"";
      return false;
    }
    if (got != want) {
      *why = key + " is " + got + ", expected " + want;
      return false;
    }
  }
  return true;
}

}  // namespace

int RunRulesTest(const std::string& dir, bool verbose) {
  auto rules = LoadRuleDirectory(dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "tests", ec)) {
    const fs::path ext = entry.path().extension();
    if (ext == ".yaml" || ext == ".yml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << dir << "/tests: no rule tests found\n";
    return kExitRules;
  }
  int passed = 0, failed = 0;
  for (const auto& file : files) {
    auto text = ReadFile(file);
    if (!text.ok()) {
      std::cerr << file << ": cannot read\n";
      ++failed;
      continue;
    }
    // The node API keeps the first of two equal keys: a repeated "expect" would
    // drop expectations unseen.
    std::vector<std::string> duplicates = core::FindDuplicateKeys(file, *text);
    for (const auto& d : duplicates) std::cerr << d << "\n";
    if (!duplicates.empty()) {
      ++failed;
      continue;
    }
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      std::cerr << file << ":" << e.mark.line + 1 << ": not valid YAML: " << e.msg << "\n";
      ++failed;
      continue;
    }
    if (!root.IsMap() || !root["cases"] || !root["cases"].IsSequence()) {
      std::cerr << file << ": expected a mapping with a list \"cases\"\n";
      ++failed;
      continue;
    }
    for (const auto& c : root["cases"]) {
      std::string name = c["name"] ? c["name"].Scalar() : "(unnamed)";
      std::string where = Where(file, c);
      std::vector<std::string> problems;
      for (const auto& kv : c) {
        std::string key = kv.first.Scalar();
        if (key != "name" && key != "events" && key != "expect") {
          problems.push_back("unknown key \"" + key + "\" (Hint: name, events, expect)");
        }
      }
      std::vector<v1::Envelope> events;
      if (!c["events"] || !c["events"].IsSequence()) {
        problems.push_back("\"events\" must be a list");
      } else {
        for (const auto& e : c["events"]) {
          v1::Envelope env;
          std::string line = ToJson(e).dump();
          if (auto bad = core::ParseEventJson(line, &env)) {
            problems.push_back(Where(file, e) + ": " + bad->detail);
          } else {
            events.push_back(std::move(env));
          }
        }
      }
      if (!c["expect"] || !c["expect"].IsSequence()) {
        problems.push_back("\"expect\" must be a list (empty: nothing fires)");
      }
      std::vector<v1::Decision> standing;
      if (problems.empty()) {
        // The same standing decisions in every order tried.
        std::vector<std::vector<v1::Envelope>> orders = {events};
        orders.push_back(std::vector<v1::Envelope>(events.rbegin(), events.rend()));
        if (events.size() > 2) {
          auto rotated = events;
          std::rotate(rotated.begin(), rotated.begin() + rotated.size() / 2, rotated.end());
          orders.push_back(rotated);
          auto doubled = events;
          doubled.insert(doubled.end(), events.begin(), events.end());
          orders.push_back(doubled);
        }
        std::string first;
        for (size_t o = 0; o < orders.size(); ++o) {
          auto result = Run(*rules, orders[o]);
          if (!result.ok()) {
            problems.push_back(result.status().message());
            break;
          }
          std::string net;
          for (const auto& d : *result) net += d.SerializeAsString();
          if (o == 0) {
            standing = *result;
            first = net;
          } else if (net != first) {
            problems.push_back("order " + std::to_string(o) +
                               " gives different standing decisions than the listed order");
          }
        }
      }
      if (problems.empty()) {
        // Match expectations one to one.
        std::vector<bool> used(standing.size());
        for (const auto& expect : c["expect"]) {
          bool found = false;
          std::string closest;
          for (size_t i = 0; i < standing.size() && !found; ++i) {
            if (used[i]) continue;
            std::string why;
            if (Matches(expect, standing[i], &why)) {
              used[i] = found = true;
            } else if (closest.empty()) {
              closest = why;
            }
          }
          if (!found) {
            problems.push_back(Where(file, expect) + ": no standing decision matches" +
                               (closest.empty() ? "" : " (first mismatch: " + closest + ")"));
          }
        }
        for (size_t i = 0; i < standing.size(); ++i) {
          if (!used[i]) problems.push_back("unexpected decision: " + Describe(standing[i]));
        }
      }
      if (problems.empty()) {
        ++passed;
        if (verbose) std::cout << "PASS " << where << " " << name << "\n";
      } else {
        ++failed;
        std::cout << "FAIL " << where << " " << name << "\n";
        for (const auto& p : problems) std::cout << "     " << p << "\n";
        if (!standing.empty()) {
          std::cout << "     standing decisions:\n";
          for (const auto& d : standing) std::cout << "       " << Describe(d) << "\n";
        }
      }
    }
  }
  std::cout << "rule tests: " << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? kExitOk : kExitRules;
}

}  // namespace demerit::cli
