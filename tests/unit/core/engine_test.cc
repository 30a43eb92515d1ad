// Table-driven tests of the engine's invariants on small inline rule sets.

#include "demerit/core/engine.h"

#include <gtest/gtest.h>

#include "demerit/core/codec.h"
#include "demerit/v1/state.pb.h"
#include "test_rules.h"

namespace demerit::core {
namespace {

using testing::CompileText;

constexpr const char* kSites = R"(
sites:
  - id: sh
    time_zone: Asia/Shanghai
    currency: CNY
    packs: [p]
  - id: capped
    time_zone: Asia/Shanghai
    currency: CNY
    packs: [p]
    guardrails: {monthly_deduction_cap: 2500}
  - id: nofines
    time_zone: Europe/Paris
    currency: CNY
    packs: [p]
    guardrails: {fines_allowed: false}
  - id: chicago
    time_zone: America/Chicago
    currency: CNY
    packs: [p]
  - id: night
    time_zone: Asia/Shanghai
    currency: CNY
    packs: [p]
    default_shift: {start: "22:00", end: "06:00"}
)";

constexpr const char* kPack = R"(
pack: p
title: test pack
rules:
  - id: late
    title: Late
    clause: "c1"
    stream: attendance
    when: {kind: CLOCK_IN, late_seconds: {gt: 0}}
    window: month
    ladder:
      - {amount: {CNY: 1000}}
      - {amount: {CNY: 2000}}
      - {amount: {CNY: 3000}, action: NOTICE}
  - id: missing
    title: Missing clock-out
    clause: "c2"
    stream: attendance
    when: {kind: CLOCK_IN, scheduled: true}
    absence: {of: {kind: CLOCK_OUT}, deadline: shift_end, grace: 4h}
    window: none
    ladder: [{action: WARNING}]
  - id: gaming
    title: Gaming
    clause: "c3"
    effective_from: 2020-01-01
    stream: observations
    when: {code: ONLINE_GAMING}
    window: {rolling_days: 7}
    ladder: [skip, {amount: {CNY: 500}}]
  - id: gaming
    title: Gaming
    clause: "c3"
    effective_from: 2026-11-15
    stream: observations
    when: {code: ONLINE_GAMING}
    window: {rolling_days: 7}
    ladder: [skip, {amount: {CNY: 700}}]
  - id: early
    title: Early
    clause: "c5"
    stream: attendance
    when: {kind: CLOCK_OUT, early_seconds: {gt: 0}}
    window: month
    ladder: [{amount: {CNY: 100}}]
  - id: slippers
    title: Slippers
    clause: "c4"
    stream: observations
    when: {code: SLIPPERS}
    window: week
    ladder: [{amount: {CNY: 100}}]
)";

std::shared_ptr<const RuleSet> Rules() {
  static auto rules = [] {
    auto r = CompileText(kSites, "p", kPack);
    if (!r.ok()) throw std::runtime_error(r.status().message());
    return *r;
  }();
  return rules;
}

v1::Envelope Event(const std::string& json) {
  v1::Envelope e;
  auto bad = ParseEventJson(json, &e);
  if (bad) throw std::runtime_error(bad->detail + ": " + json);
  return e;
}

std::string Punch(const std::string& id, const std::string& at, const std::string& kind,
                  const std::string& site = "sh", const std::string& extra = "") {
  return R"({"attendance":{"event_id":")" + id + R"(","site_id":")" + site +
         R"(","employee_id":"e1","occurred_at":")" + at + R"(","kind":")" + kind + "\"" + extra +
         "}}";
}

std::string Observation(const std::string& id, const std::string& at, const std::string& code,
                        const std::string& extra = "") {
  return R"({"observation":{"event_id":")" + id +
         R"(","site_id":"sh","employee_id":"e1","occurred_at":")" + at + R"(","code":")" + code +
         "\"" + extra + "}}";
}

// Shift 09:00-18:00 local on 2026-11-02: ends 10:00Z, deadline 14:00Z.
const std::string kScheduled = R"(,"scheduled_at":"2026-11-02T01:00:00Z")";

// A compact form of a decision for comparisons: KIND rule trigger #rank amount action.
std::string Brief(const v1::Decision& d) {
  std::string s = (d.kind() == v1::REVERSAL ? "REV " : "ISS ") + d.rule_id() + " " +
                  d.evidence_event_ids(0) + " #" + std::to_string(d.occurrence()) + " " +
                  std::to_string(d.amount_minor());
  if (d.action() != v1::NONE) s += " " + v1::Action_Name(d.action());
  if (d.capped()) s += " capped " + std::to_string(d.capped_minor()) + " " + d.guardrail();
  return s;
}

struct Step {
  std::string event;
  std::vector<std::string> expect;  // Brief() of the decisions emitted, in order
};

struct Case {
  const char* name;
  std::vector<Step> steps;
};

class EngineCases : public ::testing::TestWithParam<Case> {};

TEST_P(EngineCases, EmitsExactlyTheChanges) {
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  int i = 0;
  for (const Step& step : GetParam().steps) {
    std::vector<v1::Decision> out;
    ApplyResult r = engine.Apply(Event(step.event), &out);
    ASSERT_NE(r.outcome, ApplyResult::Outcome::kRejected) << r.rejection.detail;
    std::vector<std::string> got;
    for (const auto& d : out) got.push_back(Brief(d));
    EXPECT_EQ(got, step.expect) << "step " << i;
    ++i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Engine, EngineCases,
    ::testing::Values(
        Case{"in_order_ladder",
             {{Punch("a1", "2026-11-02T01:00:01Z", "CLOCK_IN"), {"ISS late a1 #1 1000"}},
              {Punch("a2", "2026-11-03T01:10:00Z", "CLOCK_IN"), {"ISS late a2 #2 2000"}},
              {Punch("a3", "2026-11-04T01:10:00Z", "CLOCK_IN"), {"ISS late a3 #3 3000 NOTICE"}},
              {Punch("a4", "2026-11-05T01:10:00Z", "CLOCK_IN"), {"ISS late a4 #4 3000 NOTICE"}}}},
        Case{"late_event_reranks",
             {{Punch("a2", "2026-11-03T01:10:00Z", "CLOCK_IN"), {"ISS late a2 #1 1000"}},
              {Punch("a3", "2026-11-04T01:10:00Z", "CLOCK_IN"), {"ISS late a3 #2 2000"}},
              {Punch("a1", "2026-11-02T01:10:00Z", "CLOCK_IN"),
               {"REV late a2 #1 1000", "REV late a3 #2 2000", "ISS late a1 #1 1000",
                "ISS late a2 #2 2000", "ISS late a3 #3 3000 NOTICE"}}}},
        Case{"same_time_ranks_by_event_id",
             {{Punch("b", "2026-11-03T01:10:00Z", "CLOCK_IN"), {"ISS late b #1 1000"}},
              {Punch("a", "2026-11-03T01:10:00Z", "CLOCK_IN"),
               {"REV late b #1 1000", "ISS late a #1 1000", "ISS late b #2 2000"}}}},
        Case{"on_time_and_duplicate",
             {{Punch("a1", "2026-11-02T01:00:00Z", "CLOCK_IN"), {}},
              {Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN"), {"ISS late a2 #1 1000"}},
              {Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN"), {}}}},
        Case{"void_correction_withdraws_and_reranks",
             {{Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN"), {"ISS late a1 #1 1000"}},
              {Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN"), {"ISS late a2 #2 2000"}},
              {Punch("v1", "2026-11-02T01:05:00Z", "CLOCK_IN", "sh",
                     R"(,"supersedes_event_id":"a1","void":true)"),
               {"REV late a1 #1 1000", "REV late a2 #2 2000", "ISS late a2 #1 1000"}}}},
        Case{"correction_before_its_target_wins",
             {{Punch("fix", "2026-11-02T00:59:00Z", "CLOCK_IN", "sh",
                     R"(,"supersedes_event_id":"a1")"),
               {}},
              {Punch("a1", "2026-11-02T01:30:00Z", "CLOCK_IN"), {}},
              {Punch("a1", "2026-11-02T01:30:00Z", "CLOCK_IN"), {}}}},
        Case{"missing_clock_out_timer_and_late_evidence",
             {{Punch("in", "2026-11-02T01:00:00Z", "CLOCK_IN", "sh", kScheduled), {}},
              // 21:59 local: before 18:00 + 4 h, nothing yet.
              {Observation("o1", "2026-11-02T13:59:00Z", "UNIFORM_MISSING"), {}},
              // Next morning: stream time passed the deadline.
              {Punch("in2", "2026-11-03T01:00:00Z", "CLOCK_IN"), {"ISS missing in #1 0 WARNING"}},
              // The clock-out of the first day arrives late: the warning is reversed.
              {Punch("out", "2026-11-02T10:00:00Z", "CLOCK_OUT"),
               {"REV missing in #1 0 WARNING"}}}},
        Case{"clock_out_after_deadline_does_not_close",
             {{Punch("in", "2026-11-02T01:00:00Z", "CLOCK_IN", "sh", kScheduled), {}},
              {Punch("out", "2026-11-02T14:30:00Z", "CLOCK_OUT"), {"ISS missing in #1 0 WARNING"}}}},
        Case{"monthly_cap_in_ranking_order",
             {{Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN", "capped"), {"ISS late a1 #1 1000"}},
              {Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN", "capped"),
               {"ISS late a2 #2 1500 capped 500 monthly_deduction_cap"}},
              {Punch("a3", "2026-11-04T01:05:00Z", "CLOCK_IN", "capped"),
               {"ISS late a3 #3 0 NOTICE capped 3000 monthly_deduction_cap"}},
              // December starts a new cap.
              // 2026-11-30T17:05Z is 01:05 on December 1st local: early, not late.
              {Punch("a4", "2026-11-30T17:05:00Z", "CLOCK_IN", "capped"), {}},
              {Punch("a5", "2026-12-01T01:05:00Z", "CLOCK_IN", "capped"), {"ISS late a5 #1 1000"}}}},
        Case{"cap_reallocated_when_an_earlier_fine_arrives",
             {{Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN", "capped"), {"ISS late a2 #1 1000"}},
              {Punch("a3", "2026-11-04T01:05:00Z", "CLOCK_IN", "capped"),
               {"ISS late a3 #2 1500 capped 500 monthly_deduction_cap"}},
              {Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN", "capped"),
               {"REV late a2 #1 1000", "REV late a3 #2 1500 capped 500 monthly_deduction_cap",
                "ISS late a1 #1 1000", "ISS late a2 #2 1500 capped 500 monthly_deduction_cap",
                "ISS late a3 #3 0 NOTICE capped 3000 monthly_deduction_cap"}}}},
        Case{"fines_not_allowed",
             {{Punch("a1", "2026-11-02T08:05:00Z", "CLOCK_IN", "nofines"),
               {"ISS late a1 #1 0 WARNING capped 1000 fines_allowed"}},
              {Punch("a2", "2026-11-03T08:05:00Z", "CLOCK_IN", "nofines"),
               {"ISS late a2 #2 0 WARNING capped 2000 fines_allowed"}},
              {Punch("a3", "2026-11-04T08:05:00Z", "CLOCK_IN", "nofines"),
               {"ISS late a3 #3 0 NOTICE capped 3000 fines_allowed"}}}},
        Case{"daylight_saving_chicago",
             // 2026-03-06 is CST (UTC-6): 14:30Z is 08:30, on time.
             {{Punch("w", "2026-03-06T14:30:00Z", "CLOCK_IN", "chicago"), {}},
              // 2026-03-09 is CDT (UTC-5): 14:30Z is 09:30, late.
              {Punch("s", "2026-03-09T14:30:00Z", "CLOCK_IN", "chicago"), {"ISS late s #1 1000"}}}},
        Case{"rolling_window_second_within_seven_days",
             {{Observation("g1", "2026-11-01T02:00:00Z", "ONLINE_GAMING"), {}},
              {Observation("g2", "2026-11-07T02:00:00Z", "ONLINE_GAMING"), {"ISS gaming g2 #2 500"}},
              // 8 days after g2: alone in its window again.
              {Observation("g3", "2026-11-15T03:00:00Z", "ONLINE_GAMING"), {}},
              // Arrives late, between g2 and g3: 2nd in its window (g1 is 9 days before);
              // g3 becomes 2nd in its own, under the version in force from 2026-11-15 (700).
              {Observation("g4", "2026-11-10T02:00:00Z", "ONLINE_GAMING"),
               {"ISS gaming g4 #2 500", "ISS gaming g3 #2 700"}},
              // Withdrawing g2 leaves g4 alone in its window.
              {Observation("v2", "2026-11-07T02:00:00Z", "ONLINE_GAMING",
                           R"(,"supersedes_event_id":"g2","void":true)"),
               {"REV gaming g2 #2 500", "REV gaming g4 #2 500"}}}},
        Case{"overnight_shift_on_time",
             // 22:00-06:00 local (14:00Z-22:00Z): in at 21:58, out at 06:02 the next
             // morning: neither late nor early, and the clock-out closes the shift.
             {{Punch("n1", "2026-11-02T13:58:00Z", "CLOCK_IN", "night"), {}},
              {Punch("n2", "2026-11-02T22:02:00Z", "CLOCK_OUT", "night"), {}},
              {Punch("n3", "2026-11-03T14:00:00Z", "CLOCK_IN", "night"), {}}}},
        Case{"overnight_shift_late_after_midnight_and_early_out",
             // In at 00:10 local: 2 h 10 min late for the shift begun at 22:00 the
             // day before; out at 05:30: early for the shift ending at 06:00.
             {{Punch("n1", "2026-11-02T16:10:00Z", "CLOCK_IN", "night"), {"ISS late n1 #1 1000"}},
              {Punch("n2", "2026-11-02T21:30:00Z", "CLOCK_OUT", "night"),
               {"ISS early n2 #1 100"}}}},
        Case{"overnight_shift_missing_clock_out",
             // In at 22:00, no clock-out: the deadline is 06:00 + 4 h the next morning.
             {{Punch("n1", "2026-11-02T14:00:00Z", "CLOCK_IN", "night",
                     R"(,"scheduled_at":"2026-11-02T14:00:00Z")"),
               {}},
              {Observation("o1", "2026-11-03T01:59:00Z", "UNIFORM_MISSING"), {}},
              {Observation("o2", "2026-11-03T02:01:00Z", "UNIFORM_MISSING"),
               {"ISS missing n1 #1 0 WARNING"}}}},
        Case{"day_shift_clock_out_after_midnight_is_not_early",
             // 09:00-18:00 local: out at 00:30 the next night belongs to the shift that
             // ended at 18:00, not to the next day's.
             {{Punch("d1", "2026-11-02T01:00:00Z", "CLOCK_IN"), {}},
              {Punch("d2", "2026-11-02T16:30:00Z", "CLOCK_OUT"), {}}}},
        Case{"rolling_window_is_local_calendar_days",
             // 7 days up to Sunday 2026-11-08 local are November 2nd to 8th: an
             // occurrence at 10:00 on the 1st is outside, though less than 7 x 24 h
             // before 09:00 on the 8th.
             {{Observation("g1", "2026-11-01T02:00:00Z", "ONLINE_GAMING"), {}},
              {Observation("g2", "2026-11-08T01:00:00Z", "ONLINE_GAMING"), {}},
              // At 23:00 on the 7th (15:00Z) it is inside: 2nd in November 1st to 7th.
              {Observation("g3", "2026-11-07T15:00:00Z", "ONLINE_GAMING"),
               {"ISS gaming g3 #2 500", "ISS gaming g2 #2 500"}}}},
        Case{"rolling_window_late_arrival_counts_local_days",
             // The same in reverse: the late one on the 1st does not re-rank the 8th.
             {{Observation("g2", "2026-11-08T01:00:00Z", "ONLINE_GAMING"), {}},
              {Observation("g1", "2026-11-01T02:00:00Z", "ONLINE_GAMING"), {}}}},
        Case{"iso_week_windows",
             // Sunday 2026-11-08 and Monday 2026-11-09 local are different ISO weeks.
             {{Observation("s1", "2026-11-08T03:00:00Z", "SLIPPERS"), {"ISS slippers s1 #1 100"}},
              {Observation("s2", "2026-11-09T03:00:00Z", "SLIPPERS"), {"ISS slippers s2 #1 100"}},
              {Observation("s3", "2026-11-10T03:00:00Z", "SLIPPERS"), {"ISS slippers s3 #2 100"}}}}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Engine, RejectsWhatValidationRejects) {
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  struct Bad {
    std::string json;
    v1::DeadLetterReason reason;
  };
  std::vector<Bad> bad = {
      {Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN", "nowhere"), v1::UNKNOWN_SITE},
      {Punch("", "2026-11-02T01:05:00Z", "CLOCK_IN"), v1::INVALID},
      {Punch("a1", "1990-11-02T01:05:00Z", "CLOCK_IN"), v1::INVALID},
  };
  for (const auto& b : bad) {
    std::vector<v1::Decision> out;
    ApplyResult r = engine.Apply(Event(b.json), &out);
    EXPECT_EQ(r.outcome, ApplyResult::Outcome::kRejected) << b.json;
    EXPECT_EQ(r.rejection.reason, b.reason) << b.json;
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(state.size(), 0u) << "a rejected event leaves no state";
}

TEST(Engine, DecisionsCarryTheirContext) {
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  std::vector<v1::Decision> out;
  engine.Apply(Event(Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN")), &out);
  engine.Apply(Event(Punch("a2", "2026-11-03T01:05:00Z", "CLOCK_IN")), &out);
  ASSERT_EQ(out.size(), 2u);
  const v1::Decision& d = out[1];
  EXPECT_EQ(d.kind(), v1::ISSUE);
  EXPECT_EQ(d.site_id(), "sh");
  EXPECT_EQ(d.employee_id(), "e1");
  EXPECT_EQ(d.pack(), "p");
  EXPECT_EQ(d.window(), "2026-11");
  EXPECT_EQ(d.currency(), "CNY");
  EXPECT_EQ(d.clause(), "c1");
  EXPECT_EQ(d.counter(), "p/late");
  EXPECT_EQ(d.step(), 2);
  EXPECT_EQ(d.rule_version().size(), 12u);
  EXPECT_EQ(std::vector<std::string>(d.evidence_event_ids().begin(), d.evidence_event_ids().end()),
            (std::vector<std::string>{"a2", "a1"}));
  EXPECT_EQ(d.occurred_at().seconds(), 1793667900);  // 2026-11-03T01:05:00Z
  EXPECT_EQ(d.penalty_id().substr(0, 4), "pen-");
  EXPECT_NE(d.reason().find("20.00 CNY"), std::string::npos) << d.reason();
}

TEST(Engine, IdsAreAFunctionOfContentAndReversalIdsOfTheirCause) {
  auto run = [](const std::vector<std::string>& events) {
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    std::vector<v1::Decision> out;
    for (const auto& e : events) engine.Apply(Event(e), &out);
    return out;
  };
  auto a = run({Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN"),
                Punch("a0", "2026-11-01T01:05:00Z", "CLOCK_IN")});
  auto b = run({Punch("a0", "2026-11-01T01:05:00Z", "CLOCK_IN"),
                Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN")});
  // a: ISS a1#1, REV a1#1, ISS a0#1, ISS a1#2.  b: ISS a0#1, ISS a1#2.
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a[2].penalty_id(), b[0].penalty_id());
  EXPECT_EQ(a[3].penalty_id(), b[1].penalty_id());
  EXPECT_NE(a[0].penalty_id(), a[3].penalty_id()) << "rank 1 and rank 2 are different decisions";
  EXPECT_EQ(a[1].reverses_penalty_id(), a[0].penalty_id());
  EXPECT_EQ(a[1].cause_event_id(), "a0");
  EXPECT_EQ(a[1].penalty_id().substr(0, 4), "rev-");
}

TEST(Engine, EventRecordsAreTheirProtobufWireForm) {
  // The engine writes event records without building an EventRecord message;
  // the bytes must be what SerializeToString of one gives (changelogs and
  // state directories hold them).
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  std::vector<v1::Decision> out;
  const v1::Envelope fix = Event(Punch("fix", "2026-11-02T00:59:00Z", "CLOCK_IN", "sh",
                                       R"(,"supersedes_event_id":"a1")"));
  const v1::Envelope a1 = Event(Punch("a1", "2026-11-02T01:30:00Z", "CLOCK_IN"));
  engine.Apply(fix, &out);
  engine.Apply(a1, &out);  // arrives after its correction: stored superseded
  struct Case {
    const char* key;
    const v1::Envelope* event;
    bool superseded;
  };
  for (const Case& c : {Case{"e1\x1f" "e\x1f" "fix", &fix, false},
                        Case{"e1\x1f" "e\x1f" "a1", &a1, true}}) {
    SCOPED_TRACE(c.key);
    v1::state::EventRecord want;
    *want.mutable_event() = *c.event;
    want.set_present(true);
    want.set_superseded(c.superseded);
    if (c.superseded) {
      // The correction that came first is listed, and wins.
      want.set_superseded_by("fix");
      v1::state::Correction* fix_entry = want.add_corrections();
      fix_entry->set_event_id("fix");
      fix_entry->set_stream(0);
      fix_entry->set_site_id("sh");
    }
    std::string got;
    ASSERT_TRUE(state.Get(c.key, &got));
    EXPECT_EQ(got, want.SerializeAsString());
  }
}

TEST(Engine, ApplyValidatedWithTheWireFormLeavesTheSameState) {
  // Replay hands over the binary form it read, which the engine keeps as the
  // event record and, for a stream with absence rules, the origin record: the
  // state and decisions must be those of Apply().
  const std::vector<v1::Envelope> events = {
      Event(Punch("in1", "2026-11-02T01:05:00Z", "CLOCK_IN")),
      Event(Punch("in2", "2026-11-03T01:00:00Z", "CLOCK_IN")),
      Event(Punch("out2", "2026-11-03T10:00:00Z", "CLOCK_OUT")),
      Event(Punch("fix", "2026-11-02T00:59:00Z", "CLOCK_IN", "sh",
                  R"(,"supersedes_event_id":"in1")")),
      Event(Punch("in3", "2026-11-06T01:30:00Z", "CLOCK_IN")),
      Event(Punch("in2", "2026-11-03T01:00:00Z", "CLOCK_IN")),  // a duplicate
  };
  MemoryStateStore plain, wired;
  Engine by_apply(Rules(), &plain), by_wire(Rules(), &wired);
  std::vector<v1::Decision> a, b;
  for (const v1::Envelope& e : events) {
    ASSERT_FALSE(ValidateEvent(e, *Rules()));
    by_apply.Apply(e, &a);
    by_wire.ApplyValidated(e, e.SerializeAsString(), &b);
  }
  ASSERT_EQ(a.size(), b.size());
  EXPECT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].SerializeAsString(), b[i].SerializeAsString());
  auto want = testing::StoreContents(plain);
  EXPECT_EQ(testing::StoreContents(wired), want);
  bool origin_kept = false;
  for (const auto& [key, value] : want) origin_kept |= key.find("\x1fx\x1f") != std::string::npos;
  EXPECT_TRUE(origin_kept) << "no absence-origin record to compare";
}

// Applies `json` and returns its outcome, with the decisions it emitted
// (Brief) and the records it withdrew (reason and event id).
struct Applied {
  ApplyResult::Outcome outcome;
  v1::DeadLetterReason reason;
  std::vector<std::string> decisions;
  std::vector<std::string> withdrawn;
};
Applied ApplyOne(Engine& engine, const std::string& json) {
  std::vector<v1::Decision> out;
  ApplyResult r = engine.Apply(Event(json), &out);
  Applied a{r.outcome,
            r.outcome == ApplyResult::Outcome::kRejected ? r.rejection.reason
                                                         : v1::DEAD_LETTER_REASON_UNSPECIFIED,
            {},
            {}};
  for (const auto& d : out) a.decisions.push_back(Brief(d));
  for (const auto& w : r.withdrawn) {
    a.withdrawn.push_back(v1::DeadLetterReason_Name(w.rejection.reason) + " " +
                          *HeaderOf(w.event).event_id);
  }
  return a;
}

using Outcome = ApplyResult::Outcome;
using Strings = std::vector<std::string>;

TEST(Engine, AConflictingDuplicateWithdrawsBothRecords) {
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  auto late = Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN");
  auto on_time = Punch("a1", "2026-11-02T00:55:00Z", "CLOCK_IN");
  Applied first = ApplyOne(engine, late);
  EXPECT_EQ(first.decisions, Strings{"ISS late a1 #1 1000"});
  // The same id with other content: the first is withdrawn, the second not applied.
  Applied second = ApplyOne(engine, on_time);
  EXPECT_EQ(second.outcome, Outcome::kRejected);
  EXPECT_EQ(second.reason, v1::CONFLICTING_DUPLICATE);
  EXPECT_EQ(second.decisions, Strings{"REV late a1 #1 1000"});
  EXPECT_EQ(second.withdrawn, Strings{"CONFLICTING_DUPLICATE a1"});
  // Either copy again: still rejected, nothing changes.
  for (const auto& again : {late, on_time}) {
    Applied a = ApplyOne(engine, again);
    EXPECT_EQ(a.outcome, Outcome::kRejected);
    EXPECT_EQ(a.reason, v1::CONFLICTING_DUPLICATE);
    EXPECT_TRUE(a.decisions.empty());
  }
}

TEST(Engine, AConflictingDuplicateNamesWhatDiffers) {
  MemoryStateStore state;
  Engine engine(Rules(), &state);
  std::vector<v1::Decision> out;
  engine.Apply(Event(Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN")), &out);
  ApplyResult r = engine.Apply(Event(Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_OUT")), &out);
  ASSERT_EQ(r.rejection.reason, v1::CONFLICTING_DUPLICATE);
  EXPECT_NE(r.rejection.detail.find("attendance.kind"), std::string::npos) << r.rejection.detail;
  ASSERT_EQ(r.withdrawn.size(), 1u);
  EXPECT_EQ(r.withdrawn[0].event.attendance().kind(), v1::AttendancePunch::CLOCK_IN);
}

TEST(Engine, OfTwoCorrectionsTheGreatestEventIdWins) {
  const std::string c1 =
      Punch("c1", "2026-11-02T01:20:00Z", "CLOCK_IN", "sh", R"(,"supersedes_event_id":"a1")");
  const std::string c2 =
      Punch("c2", "2026-11-02T00:58:00Z", "CLOCK_IN", "sh", R"(,"supersedes_event_id":"a1")");
  const std::string a1 = Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN");
  {
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    EXPECT_EQ(ApplyOne(engine, a1).decisions, Strings{"ISS late a1 #1 1000"});
    EXPECT_EQ(ApplyOne(engine, c1).decisions,
              (Strings{"REV late a1 #1 1000", "ISS late c1 #1 1000"}));
    // c2 wins over c1: c1's fine goes, c2 is on time.
    Applied a = ApplyOne(engine, c2);
    EXPECT_EQ(a.outcome, Outcome::kApplied);
    EXPECT_EQ(a.decisions, Strings{"REV late c1 #1 1000"});
    EXPECT_EQ(a.withdrawn, Strings{"CONFLICTING_CORRECTION c1"});
  }
  {
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    EXPECT_TRUE(ApplyOne(engine, c2).decisions.empty());
    Applied a = ApplyOne(engine, c1);
    EXPECT_EQ(a.outcome, Outcome::kRejected);
    EXPECT_EQ(a.reason, v1::CONFLICTING_CORRECTION);
    EXPECT_TRUE(a.decisions.empty());
    EXPECT_TRUE(ApplyOne(engine, a1).decisions.empty());
    // The losing correction is kept: a copy of it is a duplicate.
    EXPECT_EQ(ApplyOne(engine, c1).outcome, Outcome::kDuplicate);
  }
}

TEST(Engine, ACorrectionOfAnotherSiteOrStreamDoesNotCount) {
  const std::string a1 = Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN");
  const std::string elsewhere = Punch("c1", "2026-11-02T15:10:00Z", "CLOCK_IN", "chicago",
                                      R"(,"supersedes_event_id":"a1","void":true)");
  const std::string other_stream =
      Observation("c2", "2026-11-02T01:05:00Z", "SLIPPERS", R"(,"supersedes_event_id":"a1")");
  {
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    EXPECT_EQ(ApplyOne(engine, a1).decisions, Strings{"ISS late a1 #1 1000"});
    for (const auto& bad : {elsewhere, other_stream}) {
      Applied a = ApplyOne(engine, bad);
      EXPECT_EQ(a.outcome, Outcome::kRejected) << bad;
      EXPECT_EQ(a.reason, v1::INVALID_CORRECTION) << bad;
      EXPECT_TRUE(a.decisions.empty()) << bad;
    }
  }
  {
    // Before its target, the correction is taken at its word; when the
    // target comes it is withdrawn.
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    EXPECT_EQ(ApplyOne(engine, other_stream).decisions, Strings{"ISS slippers c2 #1 100"});
    Applied a = ApplyOne(engine, a1);
    EXPECT_EQ(a.outcome, Outcome::kApplied);
    EXPECT_EQ(a.decisions, (Strings{"REV slippers c2 #1 100", "ISS late a1 #1 1000"}));
    EXPECT_EQ(a.withdrawn, Strings{"INVALID_CORRECTION c2"});
  }
}

TEST(Engine, ConflictsDecideTheSameInEveryOrder) {
  // Every order of a set with a conflicting duplicate, two corrections of one
  // punch, a correction of another site and a correction of a conflicting id
  // must leave the same standing decisions.
  const std::vector<std::string> set = {
      Punch("a1", "2026-11-02T01:05:00Z", "CLOCK_IN"),
      Punch("a1", "2026-11-02T01:25:00Z", "CLOCK_IN"),  // conflicts with the first
      Punch("b1", "2026-11-03T01:10:00Z", "CLOCK_IN"),
      Punch("c1", "2026-11-03T01:40:00Z", "CLOCK_IN", "sh", R"(,"supersedes_event_id":"b1")"),
      Punch("c2", "2026-11-03T00:50:00Z", "CLOCK_IN", "sh", R"(,"supersedes_event_id":"b1")"),
      Punch("d1", "2026-11-04T01:10:00Z", "CLOCK_IN"),
      Punch("x1", "2026-11-04T15:00:00Z", "CLOCK_IN", "chicago",
            R"(,"supersedes_event_id":"d1","void":true)"),
  };
  auto standing = [&](const std::vector<int>& order) {
    MemoryStateStore state;
    Engine engine(Rules(), &state);
    Ledger ledger;
    std::vector<v1::Decision> out;
    for (int i : order) engine.Apply(Event(set[i]), &out);
    for (const auto& d : out) ledger.Add(d);
    std::vector<std::string> briefs;
    for (const auto& d : ledger.Standing()) briefs.push_back(Brief(d) + " " + d.penalty_id());
    return briefs;
  };
  std::vector<int> order(set.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  const auto want = standing(order);
  // a1 conflicts (no fine), c2 wins over c1 (on time), x1 does not count: d1 is late.
  std::vector<std::string> rules_fired;
  for (const auto& b : want) rules_fired.push_back(b.substr(0, b.rfind(' ')));
  EXPECT_EQ(rules_fired, Strings{"ISS late d1 #1 1000"});
  int orders = 0;
  do {
    ASSERT_EQ(standing(order), want) << "order " << orders;
    ++orders;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(orders, 5040);
}

TEST(Ledger, StandingIsIssuesMinusReversals) {
  Ledger ledger;
  v1::Decision i1, i2, r1;
  i1.set_kind(v1::ISSUE);
  i1.set_penalty_id("p1");
  i1.set_employee_id("b");
  i2.set_kind(v1::ISSUE);
  i2.set_penalty_id("p2");
  i2.set_employee_id("a");
  r1.set_kind(v1::REVERSAL);
  r1.set_penalty_id("r1");
  r1.set_reverses_penalty_id("p1");
  ledger.Add(i1);
  ledger.Add(i2);
  ledger.Add(r1);
  auto standing = ledger.Standing();
  ASSERT_EQ(standing.size(), 1u);
  EXPECT_EQ(standing[0].penalty_id(), "p2");
  EXPECT_EQ(ledger.issued(), 2u);
  EXPECT_EQ(ledger.reversed(), 1u);
}

TEST(Ledger, SaysWhatEachDecisionDidAndMalformedOnesChangeNothing) {
  auto decision = [](v1::DecisionKind kind, const std::string& id, const std::string& reverses,
                     int64_t amount) {
    v1::Decision d;
    d.set_kind(kind);
    d.set_penalty_id(id);
    d.set_reverses_penalty_id(reverses);
    d.set_amount_minor(amount);
    return d;
  };
  using Change = Ledger::Change;
  Ledger ledger;
  EXPECT_EQ(ledger.Add(decision(v1::ISSUE, "p1", "", 100)), Change::kIssued);
  // The same id again: the first stays (the one that stood, and was paid).
  EXPECT_EQ(ledger.Add(decision(v1::ISSUE, "p1", "", 999)), Change::kIssuedAgain);
  EXPECT_EQ(ledger.Add(decision(v1::REVERSAL, "r9", "p9", 0)), Change::kReversalOfNothing);
  EXPECT_EQ(ledger.Add(decision(v1::DECISION_KIND_UNSPECIFIED, "x", "", 5)), Change::kNeither);
  ASSERT_TRUE(ledger.Stands("p1"));
  EXPECT_EQ(ledger.standing().at("p1").amount_minor(), 100);
  EXPECT_EQ(ledger.standing().size(), 1u);
  EXPECT_EQ(ledger.Add(decision(v1::REVERSAL, "r1", "p1", 0)), Change::kReversed);
  EXPECT_FALSE(ledger.Stands("p1"));
  EXPECT_EQ(ledger.Add(decision(v1::REVERSAL, "r1", "p1", 0)), Change::kReversalOfNothing);
  EXPECT_EQ(ledger.issued(), 2u);
  EXPECT_EQ(ledger.reversed(), 3u);
}

TEST(FormatMoney, MinorUnits) {
  EXPECT_EQ(FormatMoney(2000, "CNY"), "20.00 CNY");
  EXPECT_EQ(FormatMoney(650, "EUR"), "6.50 EUR");
  EXPECT_EQ(FormatMoney(5, "USD"), "0.05 USD");
  EXPECT_EQ(FormatMoney(-125, "USD"), "-1.25 USD");
  EXPECT_EQ(FormatMoney(500, "JPY"), "500 JPY");
}

}  // namespace
}  // namespace demerit::core
