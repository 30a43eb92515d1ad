#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "demerit/core/rules.h"
#include "demerit/core/time.h"
#include "test_rules.h"

namespace demerit::core {
namespace {

using demerit::testing::CompileText;

// A minimal site and pack. Line numbers below refer to these texts.
const std::string kSites =
    "sites:\n"                        // 1
    "  - id: s1\n"                    // 2
    "    time_zone: Asia/Shanghai\n"  // 3
    "    currency: CNY\n"             // 4
    "    packs: [p]\n";               // 5

const std::string kPack =
    "pack: p\n"                     // 1
    "title: T\n"                    // 2
    "rules:\n"                      // 3
    "  - id: r\n"                   // 4
    "    title: R\n"                // 5
    "    clause: c1\n"              // 6
    "    stream: attendance\n"      // 7
    "    when: {kind: CLOCK_IN}\n"  // 8
    "    window: month\n"           // 9
    "    ladder:\n"                 // 10
    "      - {amount: {CNY: 2000}}\n";  // 11

using Edits = std::vector<std::pair<std::string, std::string>>;

// Applies each (from, to) replacement once; from must occur.
std::string Edit(std::string text, const Edits& edits) {
  for (const auto& [from, to] : edits) {
    size_t at = text.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "edit \"" << from << "\" does not apply to:\n" << text;
      continue;
    }
    text.replace(at, from.size(), to);
  }
  return text;
}

const RuleSet& MustCompile(const StatusOr<std::shared_ptr<const RuleSet>>& set) {
  static const RuleSet kEmpty;
  if (!set.ok()) {
    ADD_FAILURE() << set.status().message();
    return kEmpty;
  }
  return *set.value();
}

TEST(RulesCompilerTest, MinimalSiteAndPackCompile) {
  auto set = CompileText(kSites, "p", kPack);
  ASSERT_TRUE(set.ok()) << set.status().message();
  const RuleSet& rules = **set;
  EXPECT_EQ(rules.RuleCount(), 1);
  ASSERT_EQ(rules.packs().count("p"), 1u);
  const Pack& pack = rules.packs().at("p");
  EXPECT_EQ(pack.title, "T");
  ASSERT_EQ(pack.rules.size(), 1u);
  const Rule& rule = *pack.rules[0];
  EXPECT_EQ(rule.qualified, "p/r");
  EXPECT_EQ(rule.title, "R");
  EXPECT_EQ(rule.clause, "c1");
  EXPECT_EQ(rule.location, "packs/p.yaml:4");
  EXPECT_EQ(rule.version.size(), 12u);
  EXPECT_EQ(rule.version.find_first_not_of("0123456789abcdef"), std::string::npos);
  ASSERT_EQ(rule.matches.size(), 1u);
  EXPECT_EQ(rule.matches[0].stream, Stream::kAttendance);
  EXPECT_EQ(rule.matches[0].when.op, Condition::Op::kEq);
  EXPECT_EQ(rule.matches[0].when.value, 1);  // CLOCK_IN
  ASSERT_NE(rule.counter, nullptr);
  EXPECT_EQ(rule.counter->id, "p/r");
  EXPECT_FALSE(rule.counter->shared);
  EXPECT_EQ(rule.counter->window.kind, Window::Kind::kMonth);
  ASSERT_EQ(rule.counter->ladder.steps.size(), 1u);
  EXPECT_EQ(rule.counter->ladder.steps[0].amounts.at("CNY"), 2000);
  EXPECT_EQ(rule.counter->ladder.steps[0].action, v1::NONE);
  EXPECT_TRUE(rule.counter->ladder.repeat);

  const Site* site = rules.FindSite("s1");
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(rules.FindSite("s2"), nullptr);
  EXPECT_EQ(site->zone.name(), "Asia/Shanghai");
  EXPECT_EQ(site->currency, "CNY");
  EXPECT_EQ(site->packs, std::vector<std::string>{"p"});
  EXPECT_EQ(site->shift_start_seconds, 9 * 3600);  // the default shift
  EXPECT_EQ(site->shift_end_seconds, 18 * 3600);
  ASSERT_EQ(site->rules.count("p/r"), 1u);
  ASSERT_EQ(site->rules_by_stream[static_cast<int>(Stream::kAttendance)].size(), 1u);
  EXPECT_TRUE(site->rules_by_stream[static_cast<int>(Stream::kCalls)].empty());
  EXPECT_EQ(rules.version().size(), 12u);
}

// ---------------------------------------------------------------------------
// Errors: each names file:line:column and what is wrong or allowed.

struct ErrorCase {
  const char* name;
  Edits pack_edits;
  Edits site_edits;
  const char* location;  // file:line:column
  std::vector<std::string> phrases;  // all on the line of that location; the first right after it
  const char* pack_file = "p";
};

const std::string kCountersHead =
    "counters:\n"                      // 3
    "  - id: strikes\n"                // 4
    "    window: year\n"               // 5
    "    ladder: [{action: WARNING}]\n"  // 6
    "rules:\n";                        // 7
const std::string kOwnCounter = "    window: month\n    ladder:\n      - {amount: {CNY: 2000}}\n";

const std::vector<ErrorCase>& ErrorCases() {
  static const std::vector<ErrorCase> cases = {
      // ---- Rules.
      {"unknown_key_in_rule",
       {{"    window: month\n", "    window: month\n    colour: red\n"}},
       {},
       "packs/p.yaml:10:5",
       {"unknown key \"colour\" in a rule",
        "Hint: allowed keys are id, title, clause, description, effective_from, stream, when, "
        "match, absence, window, ladder, then, counter"}},
      {"unknown_stream",
       {{"stream: attendance", "stream: attendence"}},
       {},
       "packs/p.yaml:7:13",
       {"unknown stream \"attendence\"",
        "Hint: attendance, calls, visits, callbacks, observations"}},
      {"unknown_field",
       {{"when: {kind: CLOCK_IN}", "when: {kind: CLOCK_IN, lateness: 5}"}},
       {},
       "packs/p.yaml:8:28",
       {"unknown field \"lateness\" for stream attendance",
        "Hint: kind, late_seconds, early_seconds, minutes_late, minutes_early, scheduled, or all, "
        "any, not"}},
      {"field_of_another_stream",
       {{"when: {kind: CLOCK_IN}", "when: {answered: true}"}},
       {},
       "packs/p.yaml:8:12",
       {"unknown field \"answered\" for stream attendance"}},
      {"unknown_enum_value",
       {{"when: {kind: CLOCK_IN}", "when: {kind: CLOCK_SIDEWAYS}"}},
       {},
       "packs/p.yaml:8:18",
       {"unknown value \"CLOCK_SIDEWAYS\" for kind", "Hint: CLOCK_IN, CLOCK_OUT"}},
      {"unspecified_enum_value",
       {{"when: {kind: CLOCK_IN}", "when: {kind: KIND_UNSPECIFIED}"}},
       {},
       "packs/p.yaml:8:18",
       {"unknown value \"KIND_UNSPECIFIED\" for kind", "Hint: CLOCK_IN, CLOCK_OUT"}},
      {"unknown_enum_value_in_list",
       {{"when: {kind: CLOCK_IN}", "when: {kind: {in: [CLOCK_IN, LUNCH]}}"}},
       {},
       "packs/p.yaml:8:34",
       {"unknown value \"LUNCH\" for kind"}},
      {"gt_on_bool",
       {{"stream: attendance\n    when: {kind: CLOCK_IN}",
         "stream: calls\n    when: {answered: {gt: 0}}"}},
       {},
       "packs/p.yaml:8:23",
       {"\"gt\" compares integers; answered is not one"}},
      {"lt_on_enum",
       {{"when: {kind: CLOCK_IN}", "when: {kind: {lt: 2}}"}},
       {},
       "packs/p.yaml:8:19",
       {"\"lt\" compares integers; kind is not one"}},
      {"has_on_non_list",
       {{"when: {kind: CLOCK_IN}", "when: {kind: {has: CLOCK_IN}}"}},
       {},
       "packs/p.yaml:8:19",
       {"\"has\" tests list fields; kind is not one", "Hint: eq or in"}},
      {"eq_on_list",
       {{"stream: attendance\n    when: {kind: CLOCK_IN}",
         "stream: callbacks\n    when: {complaint_reasons: RUDE_STAFF}"}},
       {},
       "packs/p.yaml:8:31",
       {"complaint_reasons is a list: test it with {has: VALUE}"}},
      {"unknown_comparison",
       {{"when: {kind: CLOCK_IN}", "when: {kind: {like: CLOCK_IN}}"}},
       {},
       "packs/p.yaml:8:19",
       {"unknown comparison \"like\"", "Hint: eq, ne, gt, ge, lt, le, in, has, present"}},
      {"bad_bool_literal",
       {{"stream: attendance\n    when: {kind: CLOCK_IN}",
         "stream: calls\n    when: {answered: yes}"}},
       {},
       "packs/p.yaml:8:22",
       {"answered is true or false, not \"yes\""}},
      {"bad_int_literal",
       {{"when: {kind: CLOCK_IN}", "when: {late_seconds: {gt: soon}}"}},
       {},
       "packs/p.yaml:8:31",
       {"late_seconds compares with an integer or a duration (90s, 10m, 1h, 2d), not \"soon\""}},
      {"empty_in_list",
       {{"when: {kind: CLOCK_IN}", "when: {kind: {in: []}}"}},
       {},
       "packs/p.yaml:8:23",
       {"\"in\" takes a non-empty list of values"}},
      {"empty_when",
       {{"when: {kind: CLOCK_IN}", "when: {}"}},
       {},
       "packs/p.yaml:8:11",
       {"a condition must be a non-empty mapping of fields to values",
        "Hint: fields of attendance: kind, late_seconds"}},
      {"bad_window_name",
       {{"window: month", "window: fortnight"}},
       {},
       "packs/p.yaml:9:13",
       {"unknown window \"fortnight\"",
        "Hint: none, day, week, month, year, or {rolling_days: N}"}},
      {"rolling_days_zero",
       {{"window: month", "window: {rolling_days: 0}"}},
       {},
       "packs/p.yaml:9:28",
       {"rolling_days must be between 1 and 3660"}},
      {"rolling_days_too_many",
       {{"window: month", "window: {rolling_days: 3661}"}},
       {},
       "packs/p.yaml:9:28",
       {"rolling_days must be between 1 and 3660"}},
      {"rolling_days_not_integer",
       {{"window: month", "window: {rolling_days: a week}"}},
       {},
       "packs/p.yaml:9:28",
       {"rolling_days: \"a week\" is not an integer"}},
      {"unknown_window_key",
       {{"window: month", "window: {days: 3}"}},
       {},
       "packs/p.yaml:9:14",
       {"unknown key \"days\" in window", "Hint: allowed keys are rolling_days"}},
      {"negative_amount",
       {{"{CNY: 2000}", "{CNY: -5}"}},
       {},
       "packs/p.yaml:11:24",
       {"amount must not be negative"}},
      {"fractional_amount",
       {{"{CNY: 2000}", "{CNY: 20.5}"}},
       {},
       "packs/p.yaml:11:24",
       {"amount: \"20.5\" is not an integer"}},
      {"lower_case_currency_in_amount",
       {{"{CNY: 2000}", "{cny: 2000}"}},
       {},
       "packs/p.yaml:11:19",
       {"currency \"cny\": codes are upper case", "Hint: did you mean CNY?"}},
      {"unknown_currency_in_amount",
       {{"{CNY: 2000}", "{CNY: 2000, ABC: 1}"}},
       {},
       "packs/p.yaml:11:30",
       {"currency \"ABC\" is not an active ISO 4217 code", "Hint: e.g. CNY, EUR, USD"}},
      {"amount_too_large",
       {{"{CNY: 2000}", "{CNY: 9223372036854775807}"}},
       {},
       "packs/p.yaml:11:24",
       {"amount 9223372036854775807 is more than the largest, 10000000000",
        "Hint: minor units, from 0 to 10000000000"}},
      {"amount_does_not_fit",
       {{"{CNY: 2000}", "{CNY: 99999999999999999999}"}},
       {},
       "packs/p.yaml:11:24",
       {"amount: \"99999999999999999999\" is not an integer"}},
      {"duration_overflows",
       {{"when: {kind: CLOCK_IN}", "when: {kind: CLOCK_IN, late_seconds: {gt: 106751991167301d}}"}},
       {},
       "packs/p.yaml:8:47",
       {"late_seconds compares with an integer or a duration",
        "Hint: at most 3660d, 316224000 seconds"}},
      {"duration_too_long",
       {{"when: {kind: CLOCK_IN}", "when: {kind: CLOCK_IN, late_seconds: {lt: -3661d}}"}},
       {},
       "packs/p.yaml:8:47",
       {"late_seconds compares with an integer or a duration"}},
      {"all_skip_ladder",
       {{"      - {amount: {CNY: 2000}}\n", "      - skip\n      - skip\n"}},
       {},
       "packs/p.yaml:11:7",
       {"a ladder of only skip steps never fires",
        "Hint: give at least one step an amount or an action"}},
      {"amount_without_site_currency",
       {{"{CNY: 2000}", "{EUR: 650}"}},
       {},
       "sites.yaml:5:13",
       {"rule p/r (packs/p.yaml:4) has no amount in CNY, the currency of site \"s1\"",
        "Hint: add CNY to its amounts"}},
      {"unknown_action",
       {{"{amount: {CNY: 2000}}", "{action: SCOLD}"}},
       {},
       "packs/p.yaml:11:18",
       {"unknown action \"SCOLD\"", "Hint: WARNING, NOTICE, DISMISSAL_REVIEW, DISMISSAL, NONE"}},
      {"unknown_key_in_step",
       {{"{amount: {CNY: 2000}}", "{amount: {CNY: 2000}, fine: 1}"}},
       {},
       "packs/p.yaml:11:31",
       {"unknown key \"fine\" in a ladder step", "Hint: allowed keys are amount, action"}},
      {"empty_ladder",
       {{"    ladder:\n      - {amount: {CNY: 2000}}\n", "    ladder: []\n"}},
       {},
       "packs/p.yaml:10:13",
       {"\"ladder\" must be a non-empty list of steps"}},
      {"then_not_repeat_or_stop",
       {{"{amount: {CNY: 2000}}\n", "{amount: {CNY: 2000}}\n    then: again\n"}},
       {},
       "packs/p.yaml:12:11",
       {"\"then\" must be repeat or stop, not \"again\""}},
      {"unknown_counter",
       {{kOwnCounter, "    counter: strikes\n"}},
       {},
       "packs/p.yaml:9:14",
       {"unknown counter \"strikes\"", "Hint: counters of this pack: none"}},
      {"unknown_counter_lists_counters",
       {{"rules:\n", kCountersHead}, {kOwnCounter, "    counter: strike\n"}},
       {},
       "packs/p.yaml:13:14",
       {"unknown counter \"strike\"", "Hint: counters of this pack: strikes"}},
      {"counter_and_window",
       {{"rules:\n", kCountersHead}, {kOwnCounter, "    counter: strikes\n    window: month\n"}},
       {},
       "packs/p.yaml:13:14",
       {"a rule on a shared counter takes its window and ladder from the counter"}},
      {"missing_clause",
       {{"    clause: c1\n", ""}},
       {},
       "packs/p.yaml:4:5",
       {"a rule is missing required key \"clause\""}},
      {"missing_window",
       {{"    window: month\n", ""}},
       {},
       "packs/p.yaml:4:5",
       {"rule \"r\" needs a window (or a counter)"}},
      {"missing_ladder",
       {{"    ladder:\n      - {amount: {CNY: 2000}}\n", ""}},
       {},
       "packs/p.yaml:4:5",
       {"rule \"r\" needs a ladder (or a counter)"}},
      {"matches_nothing",
       {{"    stream: attendance\n    when: {kind: CLOCK_IN}\n", ""}},
       {},
       "packs/p.yaml:4:5",
       {"rule \"r\" matches nothing", "Hint: stream and when, or match"}},
      {"stream_without_when",
       {{"    when: {kind: CLOCK_IN}\n", ""}},
       {},
       "packs/p.yaml:7:13",
       {"a match needs \"when\""}},
      {"match_and_stream",
       {{"    window: month\n",
         "    match: [{stream: calls, when: {answered: true}}]\n    window: month\n"}},
       {},
       "packs/p.yaml:4:5",
       {"a rule takes either stream and when, or match, not both"}},
      {"bad_rule_id",
       {{"  - id: r\n", "  - id: Late_Arrival\n"}},
       {},
       "packs/p.yaml:4:9",
       {"bad rule id \"Late_Arrival\"", "Hint: lower case letters, digits and -"}},
      {"pack_name_not_file_name",
       {{"pack: p\n", "pack: q\n"}},
       {},
       "packs/p.yaml:1:7",
       {"pack \"q\" must be in a file named q.yaml"}},
      {"bad_pack_name",
       {{"pack: p\n", "pack: P_1\n"}},
       {{"packs: [p]", "packs: [P_1]"}},
       "packs/P_1.yaml:1:7",
       {"bad pack name", "Hint: lower case letters, digits and -"},
       "P_1"},
      {"duplicate_rule_same_effective_from",
       {{"title: R\n", "title: R\n    effective_from: 2026-01-01\n"},
        {"{CNY: 2000}}\n",
         "{CNY: 2000}}\n"
         "  - id: r\n"                             // 13
         "    title: R again\n"
         "    clause: c1\n"
         "    effective_from: 2026-01-01\n"
         "    stream: attendance\n"
         "    when: {kind: CLOCK_OUT}\n"
         "    window: day\n"
         "    ladder: [{action: NOTICE}]\n"}},
       {},
       "packs/p.yaml:13:9",
       {"rule \"r\" is defined twice with the same effective_from",
        "Hint: give each version of a rule its own effective_from"}},
      {"duplicate_rule_without_effective_from",
       {{"{CNY: 2000}}\n",
         "{CNY: 2000}}\n"
         "  - id: r\n"  // 12
         "    title: R\n"
         "    clause: c1\n"
         "    stream: attendance\n"
         "    when: {kind: CLOCK_IN}\n"
         "    window: month\n"
         "    ladder: [{amount: {CNY: 2000}}]\n"}},
       {},
       "packs/p.yaml:12:9",
       {"rule \"r\" is defined twice with the same effective_from"}},
      {"effective_from_no_such_date",
       {{"    clause: c1\n", "    clause: c1\n    effective_from: 2026-02-30\n"}},
       {},
       "packs/p.yaml:7:21",
       {"no such date \"2026-02-30\""}},
      {"effective_from_not_a_date",
       {{"    clause: c1\n", "    clause: c1\n    effective_from: soon\n"}},
       {},
       "packs/p.yaml:7:21",
       {"effective_from must be a date (2026-01-01) or an RFC 3339 time, not \"soon\""}},
      {"effective_from_time_without_zone",
       {{"    clause: c1\n", "    clause: c1\n    effective_from: \"2026-01-01T00:00:00\"\n"}},
       {},
       "packs/p.yaml:7:21",
       {"effective_from must be a date (2026-01-01) or an RFC 3339 time"}},
      {"absence_grace_too_long",
       {{"    when: {kind: CLOCK_IN}\n",
         "    when: {kind: CLOCK_IN}\n    absence: {of: {kind: CLOCK_OUT}, grace: 8d}\n"}},
       {},
       "packs/p.yaml:9:45",
       {"grace must be at most 7d"}},
      {"absence_bad_grace",
       {{"    when: {kind: CLOCK_IN}\n",
         "    when: {kind: CLOCK_IN}\n    absence: {of: {kind: CLOCK_OUT}, grace: 4 hours}\n"}},
       {},
       "packs/p.yaml:9:45",
       {"bad duration \"4 hours\""}},
      {"absence_unknown_deadline",
       {{"    when: {kind: CLOCK_IN}\n",
         "    when: {kind: CLOCK_IN}\n    absence: {of: {kind: CLOCK_OUT}, deadline: noon}\n"}},
       {},
       "packs/p.yaml:9:48",
       {"unknown deadline \"noon\"", "Hint: shift_end or occurred_at"}},
      {"unknown_pack_key",
       {{"title: T\n", "title: T\nauthor: me\n"}},
       {},
       "packs/p.yaml:3:1",
       {"unknown key \"author\" in a pack",
        "Hint: allowed keys are pack, title, source, counters, rules"}},
      {"invalid_yaml_pack",
       {{"    title: R\n", "   title: R\n"}},
       {},
       "packs/p.yaml:5:4",
       {"not valid YAML"}},
      {"invalid_yaml_unclosed_flow",
       {{"when: {kind: CLOCK_IN}", "when: {kind: CLOCK_IN"}},
       {},
       "packs/p.yaml:9:11",
       {"not valid YAML", "end of map flow not found"}},

      // ---- Sites.
      {"unknown_time_zone",
       {},
       {{"time_zone: Asia/Shanghai", "time_zone: Mars/Base"}},
       "sites.yaml:3:16",
       {"unknown time zone \"Mars/Base\"", "Hint: an IANA name"}},
      {"bad_currency_code",
       {},
       {{"currency: CNY", "currency: Yuan"}},
       "sites.yaml:4:15",
       {"currency \"Yuan\" is not an active ISO 4217 code", "Hint: e.g. CNY, EUR, USD"}},
      {"lower_case_site_currency",
       {},
       {{"currency: CNY", "currency: cny"}},
       "sites.yaml:4:15",
       {"currency \"cny\": codes are upper case", "Hint: did you mean CNY?"}},
      {"unknown_site_currency",
       {},
       {{"currency: CNY", "currency: XYZ"}},
       "sites.yaml:4:15",
       {"currency \"XYZ\" is not an active ISO 4217 code"}},
      {"cap_too_large",
       {},
       {{"    packs: [p]\n",
         "    packs: [p]\n    guardrails: {monthly_deduction_cap: 9223372036854775807}\n"}},
       "sites.yaml:6:41",
       {"monthly_deduction_cap 9223372036854775807 is more than the largest, 10000000000",
        "Hint: minor units, from 0 to 10000000000"}},
      {"bad_default_shift_start",
       {},
       {{"    packs: [p]\n",
         "    packs: [p]\n    default_shift: {start: \"9am\", end: \"18:00\"}\n"}},
       "sites.yaml:6:28",
       {"bad local time \"9am\"", "Hint: HH:MM or HH:MM:SS, 24-hour"}},
      {"bad_default_shift_end",
       {},
       {{"    packs: [p]\n",
         "    packs: [p]\n    default_shift: {start: \"09:00\", end: \"24:00\"}\n"}},
       "sites.yaml:6:42",
       {"bad local time \"24:00\""}},
      {"default_shift_missing_end",
       {},
       {{"    packs: [p]\n", "    packs: [p]\n    default_shift: {start: \"09:00\"}\n"}},
       "sites.yaml:6:20",
       {"default_shift is missing required key \"end\""}},
      {"unknown_pack_listed",
       {},
       {{"packs: [p]", "packs: [p, nosuch]"}},
       "sites.yaml:5:16",
       {"site \"s1\" names unknown pack \"nosuch\"", "Hint: p"}},
      {"pack_listed_twice",
       {},
       {{"packs: [p]", "packs: [p, p]"}},
       "sites.yaml:5:16",
       {"pack \"p\" is listed twice"}},
      {"unknown_key_in_site",
       {},
       {{"    packs: [p]\n", "    packs: [p]\n    region: north\n"}},
       "sites.yaml:6:5",
       {"unknown key \"region\" in a site",
        "Hint: allowed keys are id, name, time_zone, currency, packs, default_shift, guardrails"}},
      {"missing_time_zone",
       {},
       {{"    time_zone: Asia/Shanghai\n", ""}},
       "sites.yaml:2:5",
       {"a site is missing required key \"time_zone\""}},
      {"negative_cap",
       {},
       {{"    packs: [p]\n", "    packs: [p]\n    guardrails: {monthly_deduction_cap: -1}\n"}},
       "sites.yaml:6:41",
       {"monthly_deduction_cap must not be negative"}},
      {"fines_allowed_not_bool",
       {},
       {{"    packs: [p]\n", "    packs: [p]\n    guardrails: {fines_allowed: maybe}\n"}},
       "sites.yaml:6:33",
       {"fines_allowed must be true or false, not \"maybe\""}},
      {"duplicate_site",
       {},
       {{"    packs: [p]\n",
         "    packs: [p]\n  - id: s1\n    time_zone: UTC\n    currency: CNY\n    packs: [p]\n"}},
       "sites.yaml:6:9",
       {"site \"s1\" is defined twice"}},
      {"invalid_yaml_sites",
       {},
       {{"    currency: CNY\n", "   currency: CNY\n"}},
       "sites.yaml:4:4",
       {"not valid YAML"}},

      // ---- Duplicate keys: yaml-cpp keeps the first; each repeat is an error.
      {"duplicate_rules_block",
       {{"      - {amount: {CNY: 2000}}\n", "      - {amount: {CNY: 2000}}\nrules:\n  - id: r2\n"}},
       {},
       "packs/p.yaml:12:1",
       {"duplicate key \"rules\", first at line 3 column 1",
        "Hint: a key appears once in a mapping"}},
      {"duplicate_ladder_in_rule",
       {{"    window: month\n", "    window: month\n    ladder: [{action: WARNING}]\n"}},
       {},
       "packs/p.yaml:11:5",
       {"duplicate key \"ladder\", first at line 10 column 5"}},
      {"duplicate_currency_in_amount",
       {{"{CNY: 2000}", "{CNY: 2000, CNY: 1}"}},
       {},
       "packs/p.yaml:11:30",
       {"duplicate key \"CNY\", first at line 11 column 19"}},
      {"duplicate_field_in_condition",
       {{"{kind: CLOCK_IN}", "{kind: CLOCK_IN, \"kind\": CLOCK_OUT}"}},
       {},
       "packs/p.yaml:8:28",
       {"duplicate key \"kind\", first at line 8 column 12"}},
      {"duplicate_packs_in_site",
       {},
       {{"    packs: [p]\n", "    packs: [p]\n    packs: [q]\n"}},
       "sites.yaml:6:5",
       {"duplicate key \"packs\", first at line 5 column 5"}},
      {"duplicate_fines_allowed",
       {},
       {{"    packs: [p]\n",
         "    packs: [p]\n    guardrails: {fines_allowed: false, fines_allowed: true}\n"}},
       "sites.yaml:6:40",
       {"duplicate key \"fines_allowed\", first at line 6 column 18"}},
  };
  return cases;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// An effective_from date past the range of instants (about 1678..2262) puts
// the rule in force never (a later date) or always (an earlier one).
TEST(RulesCompilerTest, EffectiveFromPastTheRangeOfInstants) {
  const Nanos now = 1'793'581'500 * kNanosPerSecond;  // 2026-11-02T01:05:00Z
  auto in_force = [&](const std::string& from) -> const Rule* {
    auto set = CompileText(
        kSites, "p",
        Edit(kPack, {{"    clause: c1\n", "    clause: c1\n    effective_from: " + from + "\n"}}));
    const RuleSet& rules = MustCompile(set);
    const Site* site = rules.FindSite("s1");
    if (site == nullptr || !site->rules.count("p/r")) {
      ADD_FAILURE() << "no rule p/r at s1";
      return nullptr;
    }
    return site->rules.at("p/r").At(now);
  };
  EXPECT_EQ(in_force("4040-01-01"), nullptr);
  EXPECT_EQ(in_force("2300-01-01"), nullptr);
  EXPECT_NE(in_force("1000-01-01"), nullptr);
  EXPECT_NE(in_force("2020-01-01"), nullptr);
}

TEST(RulesCompilerTest, ErrorsNameTheirPlaceAndWhatIsAllowed) {
  std::set<std::string> names;
  auto check = [&](const ErrorCase& c) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(names.insert(c.name).second) << "duplicate case name";
    std::string sites = Edit(kSites, c.site_edits);
    std::string pack = Edit(kPack, c.pack_edits);
    auto set = CompileText(sites, c.pack_file, pack);
    ASSERT_FALSE(set.ok()) << "compiled:\n" << sites << "---\n" << pack;
    const std::string& message = set.status().message();
    // The error of this case is on a line of its own: "location: phrase...".
    const std::string prefix = std::string(c.location) + ": ";
    const std::string* found = nullptr;
    std::vector<std::string> lines = Lines(message);
    for (const std::string& line : lines) {
      if (line.rfind(prefix + c.phrases[0], 0) == 0) found = &line;
    }
    ASSERT_NE(found, nullptr) << "want " << prefix << c.phrases[0] << "\ngot:\n" << message;
    for (const std::string& p : c.phrases) {
      EXPECT_NE(found->find(p), std::string::npos) << p << "\nin: " << *found;
    }
    // Every line of the message has the file:line:column: form.
    for (const std::string& line : lines) {
      EXPECT_TRUE(line.rfind("sites.yaml:", 0) == 0 || line.rfind("packs/", 0) == 0) << line;
    }
  };
  for (const ErrorCase& c : ErrorCases()) check(c);
}

TEST(RulesCompilerTest, TextThatLoadsAsNothingIsAnError) {
  // yaml-cpp loads this as an empty document (and its event parser never
  // ends on it): it must be refused, at its first line.
  auto set = CompileText(kSites, "p", "# a pack\n,pack: p\ntitle: {\"c\"}\n");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("packs/p.yaml:2:1: not valid YAML"), std::string::npos)
      << set.status().message();
}

TEST(RulesCompilerTest, EveryErrorIsReported) {
  // Three independent mistakes in one pack and one in the sites: all four are
  // listed, one per line.
  std::string pack = Edit(kPack, {{"stream: attendance", "stream: attendence"},
                                  {"window: month", "window: fortnight"},
                                  {"{CNY: 2000}", "{CNY: -1}"}});
  std::string sites = Edit(kSites, {{"currency: CNY", "currency: cny"}});
  auto set = CompileText(sites, "p", pack);
  ASSERT_FALSE(set.ok());
  std::vector<std::string> lines = Lines(set.status().message());
  std::vector<std::string> locations;
  for (const auto& line : lines) locations.push_back(line.substr(0, line.find(": ")));
  EXPECT_EQ(locations, (std::vector<std::string>{"packs/p.yaml:7:13", "packs/p.yaml:9:13",
                                                 "packs/p.yaml:11:24", "sites.yaml:4:15"}))
      << set.status().message();
}

// ---------------------------------------------------------------------------
// Versions: a hash of the canonical content (rules.cc: the qualified id,
// clause, each match's stream and condition, absence, effective_from, and the
// counter's id, window, repeat and steps with their actions and amounts).
// Title and description are not part of it.

std::string VersionOf(const std::string& pack) {
  auto set = CompileText(kSites, "p", pack);
  if (!set.ok()) {
    ADD_FAILURE() << set.status().message() << "\n" << pack;
    return "";
  }
  return (*set)->packs().at("p").rules.at(0)->version;
}

TEST(RuleVersionTest, WhatChangesTheVersion) {
  const std::string base = VersionOf(kPack);
  ASSERT_EQ(base.size(), 12u);
  struct Case {
    const char* name;
    Edits edits;
    bool changes;
  };
  const Case cases[] = {
      // Not part of the version.
      {"title", {{"title: R\n", "title: Late arrival, reworded\n"}}, false},
      {"description", {{"title: R\n", "title: R\n    description: why this rule exists\n"}}, false},
      {"pack_title", {{"title: T\n", "title: Another title\n"}}, false},
      {"comments_and_layout",
       {{"    ladder:\n      - {amount: {CNY: 2000}}\n",
         "    ladder: [ {amount: {CNY: 2000}} ]   # one step\n"}},
       false},
      {"explicit_repeat", {{"{CNY: 2000}}\n", "{CNY: 2000}}\n    then: repeat\n"}}, false},
      {"block_style_when", {{"    when: {kind: CLOCK_IN}\n", "    when:\n      kind: CLOCK_IN\n"}},
       false},
      // Part of the version.
      {"amount", {{"{CNY: 2000}", "{CNY: 3000}"}}, true},
      {"extra_currency", {{"{CNY: 2000}", "{CNY: 2000, EUR: 260}"}}, true},
      {"action", {{"{amount: {CNY: 2000}}", "{amount: {CNY: 2000}, action: NOTICE}"}}, true},
      {"extra_step", {{"{CNY: 2000}}\n", "{CNY: 2000}}\n      - {amount: {CNY: 5000}}\n"}}, true},
      {"skip_step", {{"      - {amount", "      - skip\n      - {amount"}}, true},
      {"then_stop", {{"{CNY: 2000}}\n", "{CNY: 2000}}\n    then: stop\n"}}, true},
      {"window", {{"window: month", "window: week"}}, true},
      {"rolling_window", {{"window: month", "window: {rolling_days: 30}"}}, true},
      {"clause", {{"clause: c1", "clause: c2"}}, true},
      {"condition_value", {{"kind: CLOCK_IN", "kind: CLOCK_OUT"}}, true},
      {"condition_added", {{"{kind: CLOCK_IN}", "{kind: CLOCK_IN, late_seconds: {gt: 0}}"}}, true},
      {"stream",
       {{"stream: attendance\n    when: {kind: CLOCK_IN}",
         "stream: observations\n    when: {code: SLIPPERS}"}},
       true},
      {"effective_from", {{"clause: c1\n", "clause: c1\n    effective_from: 2026-01-01\n"}}, true},
      {"rule_id", {{"id: r\n", "id: r2\n"}}, true},
      {"absence",
       {{"    when: {kind: CLOCK_IN}\n",
         "    when: {kind: CLOCK_IN}\n    absence: {of: {kind: CLOCK_OUT}}\n"}},
       true},
  };
  std::set<std::string> changed_versions;
  auto check = [&](const Case& c) {
    SCOPED_TRACE(c.name);
    std::string v = VersionOf(Edit(kPack, c.edits));
    ASSERT_EQ(v.size(), 12u);
    if (c.changes) {
      EXPECT_NE(v, base);
      EXPECT_TRUE(changed_versions.insert(v).second) << "two different edits share " << v;
    } else {
      EXPECT_EQ(v, base);
    }
  };
  for (const Case& c : cases) check(c);
  // Equivalent literals give the same version: a duration is its seconds.
  auto late_by = [](const char* limit) {
    return VersionOf(
        Edit(kPack, {{"{kind: CLOCK_IN}", std::string("{late_seconds: {gt: ") + limit + "}}"}}));
  };
  EXPECT_EQ(late_by("600"), late_by("10m"));
  EXPECT_NE(late_by("600"), late_by("11m"));
}

TEST(RuleVersionTest, RuleSetVersionCoversSiteSettings) {
  auto version = [](const std::string& sites) {
    auto set = CompileText(sites, "p", kPack);
    if (!set.ok()) {
      ADD_FAILURE() << set.status().message();
      return std::string();
    }
    return (*set)->version();
  };
  const std::string base = version(kSites);
  ASSERT_EQ(base.size(), 12u);
  const struct {
    const char* name;
    Edits edits;
    bool changes;
  } cases[] = {
      {"name", {{"    packs: [p]\n", "    packs: [p]\n    name: Head office\n"}}, false},
      {"zone", {{"Asia/Shanghai", "Europe/Berlin"}}, true},
      {"cap",
       {{"    packs: [p]\n", "    packs: [p]\n    guardrails: {monthly_deduction_cap: 100}\n"}},
       true},
      {"fines", {{"    packs: [p]\n", "    packs: [p]\n    guardrails: {fines_allowed: false}\n"}},
       true},
      {"shift",
       {{"    packs: [p]\n",
         "    packs: [p]\n    default_shift: {start: \"08:00\", end: \"17:00\"}\n"}},
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string v = version(Edit(kSites, c.edits));
    if (c.changes) {
      EXPECT_NE(v, base);
    } else {
      EXPECT_EQ(v, base);
    }
  }
}

// ---------------------------------------------------------------------------
// effective_from and RuleVersions::At.

const std::string kTwoSites =
    "sites:\n"
    "  - id: sha\n"
    "    time_zone: Asia/Shanghai\n"
    "    currency: CNY\n"
    "    packs: [p]\n"
    "  - id: ber\n"
    "    time_zone: Europe/Berlin\n"
    "    currency: CNY\n"
    "    packs: [p]\n";

// Listed out of order on purpose: the compiler sorts versions by start.
const std::string kVersionedPack =
    "pack: p\n"
    "title: T\n"
    "rules:\n"
    "  - id: r\n"
    "    title: v2\n"
    "    clause: c1\n"
    "    effective_from: 2026-07-01\n"
    "    stream: attendance\n"
    "    when: {kind: CLOCK_IN}\n"
    "    window: month\n"
    "    ladder: [{amount: {CNY: 2000}}]\n"
    "  - id: r\n"
    "    title: v1\n"
    "    clause: c1\n"
    "    effective_from: 2026-01-01\n"
    "    stream: attendance\n"
    "    when: {kind: CLOCK_IN}\n"
    "    window: month\n"
    "    ladder: [{amount: {CNY: 1000}}]\n"
    "  - id: r\n"
    "    title: v3\n"
    "    clause: c1\n"
    "    effective_from: \"2026-09-01T12:00:00Z\"\n"
    "    stream: attendance\n"
    "    when: {kind: CLOCK_IN}\n"
    "    window: month\n"
    "    ladder: [{amount: {CNY: 3000}}]\n"
    "  - id: always\n"
    "    title: always\n"
    "    clause: c2\n"
    "    stream: attendance\n"
    "    when: {kind: CLOCK_OUT}\n"
    "    window: none\n"
    "    ladder: [{}]\n";

Nanos At(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : 0;
}

TEST(RuleVersionsTest, EffectiveFromPicksTheVersionInForce) {
  auto set = CompileText(kTwoSites, "p", kVersionedPack);
  const RuleSet& rules = MustCompile(set);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(rules.RuleCount(), 4);
  const Site* sha = rules.FindSite("sha");
  const Site* ber = rules.FindSite("ber");
  ASSERT_NE(sha, nullptr);
  ASSERT_NE(ber, nullptr);
  const RuleVersions& at_sha = sha->rules.at("p/r");
  const RuleVersions& at_ber = ber->rules.at("p/r");
  EXPECT_EQ(at_sha.qualified, "p/r");
  ASSERT_EQ(at_sha.versions.size(), 3u);
  ASSERT_EQ(at_ber.versions.size(), 3u);
  // Sorted by start; a date starts at local midnight of the site.
  EXPECT_EQ(FormatRfc3339(at_sha.versions[0].first), "2025-12-31T16:00:00Z");
  EXPECT_EQ(FormatRfc3339(at_sha.versions[1].first), "2026-06-30T16:00:00Z");
  EXPECT_EQ(FormatRfc3339(at_sha.versions[2].first), "2026-09-01T12:00:00Z");
  EXPECT_EQ(FormatRfc3339(at_ber.versions[0].first), "2025-12-31T23:00:00Z");
  EXPECT_EQ(FormatRfc3339(at_ber.versions[1].first), "2026-06-30T22:00:00Z");
  EXPECT_EQ(FormatRfc3339(at_ber.versions[2].first), "2026-09-01T12:00:00Z");
  // Each version is its own.
  std::set<std::string> versions;
  for (const auto& [from, rule] : at_sha.versions) versions.insert(rule->version);
  EXPECT_EQ(versions.size(), 3u);

  struct Case {
    const char* at;
    const char* sha;  // title of the version in force, or "" for none
    const char* ber;
  };
  const Case cases[] = {
      {"2025-06-01T00:00:00Z", "", ""},
      {"2025-12-31T15:59:59Z", "", ""},
      {"2025-12-31T16:00:00Z", "v1", ""},
      {"2025-12-31T22:59:59Z", "v1", ""},
      {"2025-12-31T23:00:00Z", "v1", "v1"},
      {"2026-06-30T15:59:59.999999999Z", "v1", "v1"},
      {"2026-06-30T16:00:00Z", "v2", "v1"},
      {"2026-06-30T20:00:00Z", "v2", "v1"},
      {"2026-06-30T22:00:00Z", "v2", "v2"},
      {"2026-09-01T11:59:59Z", "v2", "v2"},
      {"2026-09-01T12:00:00Z", "v3", "v3"},
      {"2037-12-31T00:00:00Z", "v3", "v3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.at);
    const Rule* s = at_sha.At(At(c.at));
    const Rule* b = at_ber.At(At(c.at));
    EXPECT_EQ(s ? s->title : "", c.sha);
    EXPECT_EQ(b ? b->title : "", c.ber);
  }
  // The amounts follow the versions.
  auto amount_at = [&](const char* at) {
    return at_sha.At(At(at))->counter->ladder.steps[0].amounts.at("CNY");
  };
  EXPECT_EQ(amount_at("2026-03-01T00:00:00Z"), 1000);
  EXPECT_EQ(amount_at("2026-08-01T00:00:00Z"), 2000);
  EXPECT_EQ(amount_at("2026-10-01T00:00:00Z"), 3000);

  // A rule without effective_from is always in force.
  const RuleVersions& always = sha->rules.at("p/always");
  ASSERT_EQ(always.versions.size(), 1u);
  ASSERT_NE(always.At(At("2000-01-01T00:00:00Z")), nullptr);
  EXPECT_EQ(always.At(At("2000-01-01T00:00:00Z"))->title, "always");
  EXPECT_EQ(always.At(0)->title, "always");
  // An empty RuleVersions has nothing in force.
  EXPECT_EQ(RuleVersions{}.At(0), nullptr);
}

TEST(RuleVersionsTest, EffectiveFromInstantAfter2038) {
  // An RFC 3339 effective_from past 2038-01-19T03:14:07Z must keep its instant.
  std::string pack = Edit(
      kPack, {{"clause: c1\n", "clause: c1\n    effective_from: \"2040-01-01T00:00:00Z\"\n"}});
  auto set = CompileText(kSites, "p", pack);
  const RuleSet& rules = MustCompile(set);
  ASSERT_TRUE(set.ok());
  const RuleVersions& versions = rules.FindSite("s1")->rules.at("p/r");
  ASSERT_EQ(versions.versions.size(), 1u);
  EXPECT_EQ(FormatRfc3339(versions.versions[0].first), "2040-01-01T00:00:00Z");
  EXPECT_EQ(versions.At(At("2030-01-01T00:00:00Z")), nullptr);
}

// ---------------------------------------------------------------------------
// Ladders.

Step Amount(int64_t cny) {
  Step s;
  s.amounts["CNY"] = cny;
  return s;
}
Step Skip() {
  Step s;
  s.skip = true;
  return s;
}

TEST(LadderTest, AtByRank) {
  // Ladder [100, skip, 300] with repeat or stop, and [100, skip] with repeat.
  Ladder repeat;
  repeat.steps = {Amount(100), Skip(), Amount(300)};
  repeat.repeat = true;
  Ladder stop = repeat;
  stop.repeat = false;
  Ladder trailing_skip;
  trailing_skip.steps = {Amount(100), Skip()};
  Ladder empty;

  struct Case {
    const Ladder* ladder;
    const char* name;
    int rank;
    int64_t want;  // CNY amount of the step, -1 for none
  };
  const Case cases[] = {
      {&repeat, "repeat", -1, -1}, {&repeat, "repeat", 0, -1},   {&repeat, "repeat", 1, 100},
      {&repeat, "repeat", 2, -1},  {&repeat, "repeat", 3, 300},  {&repeat, "repeat", 4, 300},
      {&repeat, "repeat", 100, 300},
      {&stop, "stop", 1, 100},     {&stop, "stop", 2, -1},       {&stop, "stop", 3, 300},
      {&stop, "stop", 4, -1},      {&stop, "stop", 100, -1},
      {&trailing_skip, "trailing_skip", 1, 100}, {&trailing_skip, "trailing_skip", 2, -1},
      {&trailing_skip, "trailing_skip", 5, -1},
      {&empty, "empty", 1, -1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " rank " + std::to_string(c.rank));
    const Step* step = c.ladder->At(c.rank);
    if (c.want < 0) {
      EXPECT_EQ(step, nullptr);
    } else {
      ASSERT_NE(step, nullptr);
      EXPECT_EQ(step->amounts.at("CNY"), c.want);
    }
  }
}

TEST(LadderTest, CompiledSteps) {
  struct Case {
    const char* name;
    const char* ladder;  // the text after "ladder: "
    const char* then;    // "" for none
    // Per rank 1..5: the CNY amount and action of the step, or -1 for none.
    std::vector<std::pair<int64_t, v1::Action>> ranks;
  };
  const auto kNone = std::make_pair(int64_t{-1}, v1::NONE);
  const Case cases[] = {
      {"third_in_a_day_once",
       "[skip, skip, {amount: {CNY: 5000}}]",
       "stop",
       {kNone, kNone, {5000, v1::NONE}, kNone, kNone}},
      {"third_and_later",
       "[skip, skip, {amount: {CNY: 5000}}]",
       "repeat",
       {kNone, kNone, {5000, v1::NONE}, {5000, v1::NONE}, {5000, v1::NONE}}},
      {"default_then_is_repeat",
       "[{amount: {CNY: 100}}, {amount: {CNY: 200}, action: NOTICE}]",
       "",
       {{100, v1::NONE}, {200, v1::NOTICE}, {200, v1::NOTICE}, {200, v1::NOTICE},
        {200, v1::NOTICE}}},
      // A step with neither amount nor action is a WARNING with amount 0;
      // so is a step whose amounts are all 0.
      {"bare_steps_warn",
       "[{}, {amount: {CNY: 0}}, {action: DISMISSAL_REVIEW}, {action: DISMISSAL}]",
       "stop",
       {{0, v1::WARNING}, {0, v1::WARNING}, {0, v1::DISMISSAL_REVIEW}, {0, v1::DISMISSAL},
        kNone}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string ladder = std::string("    ladder: ") + c.ladder + "\n";
    if (*c.then) ladder += std::string("    then: ") + c.then + "\n";
    std::string pack = Edit(kPack, {{"    ladder:\n      - {amount: {CNY: 2000}}\n", ladder}});
    auto set = CompileText(kSites, "p", pack);
    const RuleSet& rules = MustCompile(set);
    if (!set.ok()) continue;
    const Ladder& l = rules.packs().at("p").rules[0]->counter->ladder;
    ASSERT_EQ(c.ranks.size(), 5u);
    for (int rank = 1; rank <= 5; ++rank) {
      SCOPED_TRACE(rank);
      const Step* step = l.At(rank);
      auto [amount, action] = c.ranks[rank - 1];
      if (amount < 0) {
        EXPECT_EQ(step, nullptr);
        continue;
      }
      ASSERT_NE(step, nullptr);
      auto it = step->amounts.find("CNY");
      EXPECT_EQ(it == step->amounts.end() ? 0 : it->second, amount);
      EXPECT_EQ(v1::Action_Name(step->action), v1::Action_Name(action));
    }
  }
}

TEST(CounterTest, SharedCounterIsSharedByItsRules) {
  std::string pack =
      "pack: p\n"
      "title: T\n"
      "counters:\n"
      "  - id: strikes\n"
      "    window: {rolling_days: 30}\n"
      "    ladder: [{action: WARNING}, {amount: {CNY: 500}}]\n"
      "    then: stop\n"
      "rules:\n"
      "  - id: a\n"
      "    title: A\n"
      "    clause: c\n"
      "    stream: observations\n"
      "    when: {code: SLIPPERS}\n"
      "    counter: strikes\n"
      "  - id: b\n"
      "    title: B\n"
      "    clause: c\n"
      "    match:\n"
      "      - {stream: calls, when: {greeting_ok: false}}\n"
      "      - {stream: observations, when: {code: IMPOLITE_LANGUAGE}}\n"
      "    counter: strikes\n";
  auto set = CompileText(kSites, "p", pack);
  const RuleSet& rules = MustCompile(set);
  ASSERT_TRUE(set.ok());
  const Pack& p = rules.packs().at("p");
  ASSERT_EQ(p.rules.size(), 2u);
  ASSERT_EQ(p.counters.size(), 1u);
  EXPECT_EQ(p.rules[0]->counter, p.rules[1]->counter);
  EXPECT_EQ(p.rules[0]->counter->id, "p/strikes");
  EXPECT_TRUE(p.rules[0]->counter->shared);
  EXPECT_EQ(p.rules[0]->counter->window.kind, Window::Kind::kRolling);
  EXPECT_EQ(p.rules[0]->counter->window.rolling_days, 30);
  EXPECT_FALSE(p.rules[0]->counter->ladder.repeat);
  ASSERT_EQ(p.rules[1]->matches.size(), 2u);
  EXPECT_EQ(p.rules[1]->matches[0].stream, Stream::kCalls);
  EXPECT_EQ(p.rules[1]->matches[1].stream, Stream::kObservations);
  const Site* site = rules.FindSite("s1");
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->rules_by_stream[static_cast<int>(Stream::kObservations)].size(), 2u);
  EXPECT_EQ(site->rules_by_stream[static_cast<int>(Stream::kCalls)].size(), 1u);
  EXPECT_TRUE(site->rules_by_stream[static_cast<int>(Stream::kAttendance)].empty());
}

TEST(RulesCompilerTest, ShippedRulesCompile) {
  auto rules = demerit::testing::ShippedRules();
  ASSERT_NE(rules, nullptr);
  EXPECT_GT(rules->RuleCount(), 0);
  for (const char* site : {"jiarun-xinyang", "huawei-shenzhen", "huawei-dusseldorf", "huawei-lyon",
                           "service-dallas", "hall-xinyang"}) {
    EXPECT_NE(rules->FindSite(site), nullptr) << site;
  }
  EXPECT_EQ(rules->FindSite("service-dallas")->zone.name(), "America/Chicago");
  EXPECT_EQ(rules->FindSite("huawei-dusseldorf")->currency, "EUR");
  EXPECT_FALSE(rules->FindSite("huawei-lyon")->fines_allowed);
  EXPECT_EQ(rules->FindSite("jiarun-xinyang")->monthly_deduction_cap,
            std::optional<int64_t>(20000));
}

}  // namespace

// The default shift under way at an instant: day shifts, an overnight shift,
// and the days daylight saving starts and ends.
TEST(SiteShiftTest, APunchBelongsToTheShiftWithTheNearestStartOrEnd) {
  struct Case {
    const char* zone;
    int64_t start_hour, end_hour;
    const char* at;
    bool clock_in;
    const char* start;  // of the shift the punch belongs to
    const char* end;
  };
  const Case cases[] = {
      // 22:00-06:00 in Shanghai (UTC+8): 14:00Z-22:00Z.
      {"Asia/Shanghai", 22, 6, "2026-11-02T13:55:00Z", true, "2026-11-02T14:00:00Z",
       "2026-11-02T22:00:00Z"},  // in at 21:55: tonight's shift
      {"Asia/Shanghai", 22, 6, "2026-11-02T16:10:00Z", true, "2026-11-02T14:00:00Z",
       "2026-11-02T22:00:00Z"},  // in at 00:10: the shift begun at 22:00 the day before
      {"Asia/Shanghai", 22, 6, "2026-11-02T22:05:00Z", false, "2026-11-02T14:00:00Z",
       "2026-11-02T22:00:00Z"},  // out at 06:05: the shift that ended at 06:00
      {"Asia/Shanghai", 22, 6, "2026-11-02T21:00:00Z", false, "2026-11-02T14:00:00Z",
       "2026-11-02T22:00:00Z"},  // out at 05:00: early, same shift
      // 09:00-18:00: out at 00:30 belongs to the shift that ended at 18:00.
      {"Asia/Shanghai", 9, 18, "2026-11-02T16:30:00Z", false, "2026-11-02T01:00:00Z",
       "2026-11-02T10:00:00Z"},
      // in at 01:05 local belongs to the morning's shift (early), not yesterday's.
      {"Asia/Shanghai", 9, 18, "2026-11-02T17:05:00Z", true, "2026-11-03T01:00:00Z",
       "2026-11-03T10:00:00Z"},
      // Around the clock (00:00-00:00): a clock-in at midnight starts the new day's
      // shift, a clock-out at midnight ends the old one.
      {"Asia/Shanghai", 0, 0, "2026-11-02T16:00:00Z", true, "2026-11-02T16:00:00Z",
       "2026-11-03T16:00:00Z"},
      {"Asia/Shanghai", 0, 0, "2026-11-02T16:00:00Z", false, "2026-11-01T16:00:00Z",
       "2026-11-02T16:00:00Z"},
      // Berlin, 22:00-06:00 over the night the clocks go forward: 21:00Z-04:00Z.
      {"Europe/Berlin", 22, 6, "2026-03-29T03:55:00Z", false, "2026-03-28T21:00:00Z",
       "2026-03-29T04:00:00Z"},
      {"Europe/Berlin", 22, 6, "2026-03-28T23:30:00Z", true, "2026-03-28T21:00:00Z",
       "2026-03-29T04:00:00Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + std::to_string(c.start_hour) + "-" +
                 std::to_string(c.end_hour) + (c.clock_in ? " in at " : " out at ") + c.at);
    auto zone = Zone::Find(c.zone);
    ASSERT_TRUE(zone.ok());
    Site site("s", *zone);
    site.shift_start_seconds = c.start_hour * 3600;
    site.shift_end_seconds = c.end_hour * 3600;
    Shift shift = site.ShiftOf(*ParseRfc3339(c.at), c.clock_in);
    EXPECT_EQ(FormatRfc3339(shift.start), c.start);
    EXPECT_EQ(FormatRfc3339(shift.end), c.end);
  }
}

TEST(SiteShiftTest, ShiftUnderWay) {
  struct Case {
    const char* zone;
    int64_t start_hour, end_hour;
    const char* at;
    const char* want;  // the shift's start, or "" between shifts
  };
  const Case cases[] = {
      // 09:00-18:00 in Shanghai (UTC+8): 01:00Z-10:00Z.
      {"Asia/Shanghai", 9, 18, "2026-11-02T00:59:59Z", ""},
      {"Asia/Shanghai", 9, 18, "2026-11-02T01:00:00Z", "2026-11-02T01:00:00Z"},
      {"Asia/Shanghai", 9, 18, "2026-11-02T09:59:59Z", "2026-11-02T01:00:00Z"},
      {"Asia/Shanghai", 9, 18, "2026-11-02T10:00:00Z", ""},
      {"Asia/Shanghai", 9, 18, "2026-11-02T17:00:00Z", ""},  // 01:00 local, the next day
      // 22:00-06:00 in Shanghai: open across local midnight, since the day before.
      {"Asia/Shanghai", 22, 6, "2026-11-02T13:59:59Z", ""},
      {"Asia/Shanghai", 22, 6, "2026-11-02T14:00:00Z", "2026-11-02T14:00:00Z"},
      {"Asia/Shanghai", 22, 6, "2026-11-02T17:00:00Z", "2026-11-02T14:00:00Z"},
      {"Asia/Shanghai", 22, 6, "2026-11-02T21:59:59Z", "2026-11-02T14:00:00Z"},
      {"Asia/Shanghai", 22, 6, "2026-11-02T22:00:00Z", ""},
      // Around the clock (start = end): always under way, since the local midnight.
      {"Asia/Shanghai", 0, 0, "2026-11-02T15:59:59Z", "2026-11-01T16:00:00Z"},
      {"Asia/Shanghai", 0, 0, "2026-11-02T16:00:00Z", "2026-11-02T16:00:00Z"},
      // Berlin, 09:00-18:00: 08:00Z-17:00Z in winter, 07:00Z-16:00Z in summer.
      {"Europe/Berlin", 9, 18, "2026-03-29T07:00:00Z", "2026-03-29T07:00:00Z"},  // first CEST day
      {"Europe/Berlin", 9, 18, "2026-03-28T07:30:00Z", ""},
      {"Europe/Berlin", 9, 18, "2026-10-25T08:00:00Z", "2026-10-25T08:00:00Z"},  // first CET day
      {"Europe/Berlin", 9, 18, "2026-10-25T16:59:59Z", "2026-10-25T08:00:00Z"},
      // Berlin, 22:00-06:00 over the night clocks go forward (a 7-hour night) and back
      // (a 9-hour night).
      {"Europe/Berlin", 22, 6, "2026-03-29T03:59:59Z", "2026-03-28T21:00:00Z"},
      {"Europe/Berlin", 22, 6, "2026-03-29T04:00:00Z", ""},
      {"Europe/Berlin", 22, 6, "2026-10-25T04:59:59Z", "2026-10-24T20:00:00Z"},
      {"Europe/Berlin", 22, 6, "2026-10-25T05:00:00Z", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + std::to_string(c.start_hour) + "-" +
                 std::to_string(c.end_hour) + " at " + c.at);
    auto zone = Zone::Find(c.zone);
    ASSERT_TRUE(zone.ok());
    Site site("s", *zone);
    site.shift_start_seconds = c.start_hour * 3600;
    site.shift_end_seconds = c.end_hour * 3600;
    auto at = ParseRfc3339(c.at);
    ASSERT_TRUE(at.ok());
    std::optional<Nanos> got = site.ShiftUnderWay(*at);
    EXPECT_EQ(got ? FormatRfc3339(*got) : "", c.want);
  }
}

}  // namespace demerit::core
