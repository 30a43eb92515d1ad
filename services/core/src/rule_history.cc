#include "demerit/core/rule_history.h"

#include <algorithm>
#include <map>
#include <regex>
#include <tuple>

namespace demerit::core {
namespace {

constexpr std::string_view kHeader =
    "# demerit rule versions: rule, effective_from, version, location (tab-separated)";

std::string EffectiveFrom(const Rule& rule) {
  if (rule.effective_from_day) return FormatDay(*rule.effective_from_day);
  if (rule.effective_from_instant) return FormatRfc3339(*rule.effective_from_instant);
  return "always";
}

// Whether a version with this effective_from is in force at `now` somewhere.
bool InForce(const std::string& from, Nanos now) {
  if (from == "always") return true;
  static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (std::regex_match(from, m, kDate)) {
    CivilDay day{std::stoi(m[1]), static_cast<unsigned>(std::stoi(m[2])),
                 static_cast<unsigned>(std::stoi(m[3]))};
    // The day begins first at UTC+14.
    return DaysFromCivil(day) * kNanosPerDay - 14 * 3600 * kNanosPerSecond <= now;
  }
  auto at = ParseRfc3339(from);
  return !at.ok() || *at <= now;  // unreadable: assume in force, and report
}

std::string InForceText(const std::string& from) {
  return from == "always" ? "in force always" : "in force from " + from;
}

constexpr const char* kConsequence =
    "; a replay of the past now gives other decisions than those committed (Hint: keep the "
    "version in force and add the new one with its own effective_from)";

}  // namespace

std::vector<LoadedVersion> LoadedVersionsOf(const RuleSet& rules) {
  std::vector<LoadedVersion> out;
  for (const auto& [id, pack] : rules.packs()) {
    for (const auto& rule : pack.rules) {
      out.push_back({rule->qualified, EffectiveFrom(*rule), rule->version, rule->location});
    }
  }
  std::sort(out.begin(), out.end(), [](const LoadedVersion& a, const LoadedVersion& b) {
    return std::tie(a.rule, a.from) < std::tie(b.rule, b.from);
  });
  return out;
}

std::string FormatLoadedVersions(const std::vector<LoadedVersion>& versions) {
  std::string out(kHeader);
  out += '\n';
  for (const LoadedVersion& v : versions) {
    out += v.rule + '\t' + v.from + '\t' + v.version + '\t' + v.location + '\n';
  }
  return out;
}

StatusOr<std::vector<LoadedVersion>> ParseLoadedVersions(std::string_view text) {
  std::vector<LoadedVersion> out;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line[0] == '#') continue;
    // rule, from and version hold no tab; the location is the rest of the line.
    std::string_view fields[4];
    for (int i = 0; i < 3; ++i) {
      size_t tab = line.find('\t');
      if (tab == std::string_view::npos) {
        return Status::Error("line " + std::to_string(line_number) +
                             ": not \"rule<TAB>effective_from<TAB>version<TAB>location\"");
      }
      fields[i] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    fields[3] = line;
    out.push_back({std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                   std::string(fields[3])});
  }
  return out;
}

std::string EditInPlace::Describe() const {
  std::string out = "rule " + before.rule + " (" + InForceText(before.from) + ") ";
  if (after) {
    out += "changed in place: version " + before.version + " (" + before.location + ") is now " +
           after->version + " (" + after->location + ")";
  } else {
    out += "was removed in place: version " + before.version + " (" + before.location +
           ") is gone while the rule stays";
  }
  return out + kConsequence;
}

std::vector<EditInPlace> FindEditsInPlace(const std::vector<LoadedVersion>& before,
                                          const std::vector<LoadedVersion>& after, Nanos now) {
  std::map<std::pair<std::string, std::string>, const LoadedVersion*> now_loaded;
  std::map<std::string, int> rules_now;
  for (const LoadedVersion& v : after) {
    now_loaded[{v.rule, v.from}] = &v;
    ++rules_now[v.rule];
  }
  std::vector<EditInPlace> edits;
  for (const LoadedVersion& old : before) {
    if (!rules_now.count(old.rule) || !InForce(old.from, now)) continue;
    auto it = now_loaded.find({old.rule, old.from});
    if (it == now_loaded.end()) {
      edits.push_back({old, std::nullopt});
    } else if (it->second->version != old.version) {
      edits.push_back({old, *it->second});
    }
  }
  return edits;
}

}  // namespace demerit::core
