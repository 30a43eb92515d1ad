// Invariant 1: the standing decisions are a function of the set of events.
// Generated event sets are replayed in many random orders with random
// duplicates; the standing decisions must be the same bytes every time, and
// each decision stream must be a well-formed append-only log.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "commands.h"
#include "demerit/core/codec.h"
#include "demerit/core/engine.h"
#include "test_rules.h"

namespace demerit::core {
namespace {

struct Replay {
  std::string net;  // the standing decisions as NDJSON
  size_t issued = 0;
  size_t reversed = 0;
};

// Replays `events` and checks the log: no id issued twice without a reversal
// between, and every reversal reverses an issue that stands.
Replay ReplayAll(const std::vector<const v1::Envelope*>& events, bool conflicts_allowed = false) {
  MemoryStateStore state;
  Engine engine(testing::ShippedRules(), &state);
  Ledger ledger;
  std::map<std::string, bool> standing;  // penalty_id -> stands
  std::vector<v1::Decision> out;
  for (const v1::Envelope* e : events) {
    out.clear();
    ApplyResult r = engine.Apply(*e, &out);
    if (!conflicts_allowed) {
      EXPECT_NE(r.outcome, ApplyResult::Outcome::kRejected) << r.rejection.detail;
    }
    for (const auto& d : out) {
      if (d.kind() == v1::ISSUE) {
        EXPECT_FALSE(standing[d.penalty_id()]) << "issued twice: " << d.penalty_id();
        standing[d.penalty_id()] = true;
      } else {
        EXPECT_TRUE(standing[d.reverses_penalty_id()])
            << "reversal of an issue that does not stand: " << d.reverses_penalty_id();
        standing[d.reverses_penalty_id()] = false;
      }
      ledger.Add(d);
    }
  }
  Replay replay;
  for (const auto& d : ledger.Standing()) replay.net += DecisionToJson(d) + "\n";
  replay.issued = ledger.issued();
  replay.reversed = ledger.reversed();
  return replay;
}

// A generated workload over the 6 shipped sites.
core::StatusOr<std::vector<v1::Envelope>> Generate(int employees, int days, uint64_t seed) {
  cli::GenOptions options;
  options.employees = employees;
  options.sites = 6;
  options.days = days;
  options.seed = seed;
  return cli::GenerateEvents(options, *testing::ShippedRules());
}

TEST(Determinism, AnyOrderAnyDuplicationSameStandingDecisions) {
  auto events = Generate(12, 35, 20261129);  // 35 days cross a month boundary
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_GT(events->size(), 2000u);

  std::vector<const v1::Envelope*> base;
  for (const auto& e : *events) base.push_back(&e);
  const Replay reference = ReplayAll(base);
  ASSERT_GT(reference.net.size(), 0u);
  ASSERT_FALSE(::testing::Test::HasFailure());

  constexpr int kOrders = 200;
  std::mt19937_64 rng(7);
  for (int order = 0; order < kOrders; ++order) {
    std::vector<const v1::Envelope*> shuffled = base;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    // Random duplicates: up to 5% of the events again, at random places.
    size_t copies = rng() % (base.size() / 20 + 1);
    for (size_t i = 0; i < copies; ++i) {
      const v1::Envelope* dup = base[rng() % base.size()];
      shuffled.insert(shuffled.begin() + static_cast<long>(rng() % (shuffled.size() + 1)), dup);
    }
    Replay replay = ReplayAll(shuffled);
    ASSERT_EQ(replay.net, reference.net) << "order " << order << " differs";
    ASSERT_FALSE(::testing::Test::HasFailure()) << "order " << order;
  }
}

// Conflicting input mixed into a generated workload: some events come a
// second time with other content (another time, another kind), some punches
// get two or three corrections, and some a correction from another site or
// stream. Any order, with duplicates, gives the same standing decisions.
TEST(Determinism, ConflictingInputSameStandingDecisions) {
  auto events = Generate(8, 35, 5150);
  ASSERT_TRUE(events.ok()) << events.status().message();
  std::vector<v1::Envelope> extra;
  std::mt19937_64 pick(11);
  for (size_t i = 0; i < events->size(); ++i) {
    const v1::Envelope& e = (*events)[i];
    if (!e.has_attendance() || e.attendance().void_()) continue;
    const v1::AttendancePunch& p = e.attendance();
    switch (pick() % 40) {
      case 0: {  // the same id, later
        v1::Envelope copy = e;
        copy.mutable_attendance()->mutable_occurred_at()->set_seconds(p.occurred_at().seconds() +
                                                                      420);
        extra.push_back(copy);
        break;
      }
      case 1: {  // the same id, the other kind
        v1::Envelope copy = e;
        copy.mutable_attendance()->set_kind(p.kind() == v1::AttendancePunch::CLOCK_IN
                                                ? v1::AttendancePunch::CLOCK_OUT
                                                : v1::AttendancePunch::CLOCK_IN);
        extra.push_back(copy);
        break;
      }
      case 2:
      case 3: {  // two or three corrections, at different times
        for (int k = 0; k < 2 + static_cast<int>(pick() % 2); ++k) {
          v1::Envelope fix = e;
          v1::AttendancePunch* f = fix.mutable_attendance();
          f->set_event_id(p.event_id() + "-fix" + std::to_string(k));
          f->set_supersedes_event_id(p.event_id());
          f->mutable_occurred_at()->set_seconds(p.occurred_at().seconds() - 600 + 500 * k);
          extra.push_back(fix);
        }
        break;
      }
      case 4: {  // a correction from another site
        v1::Envelope fix = e;
        v1::AttendancePunch* f = fix.mutable_attendance();
        f->set_event_id(p.event_id() + "-elsewhere");
        f->set_supersedes_event_id(p.event_id());
        f->set_site_id(p.site_id() == "jiarun-xinyang" ? "huawei-shenzhen" : "jiarun-xinyang");
        extra.push_back(fix);
        break;
      }
      default: break;
    }
  }
  ASSERT_GT(extra.size(), 30u);
  std::vector<const v1::Envelope*> base;
  for (const auto& e : *events) base.push_back(&e);
  for (const auto& e : extra) base.push_back(&e);
  const Replay reference = ReplayAll(base, true);
  ASSERT_GT(reference.net.size(), 0u);
  std::mt19937_64 rng(23);
  for (int order = 0; order < 60; ++order) {
    std::vector<const v1::Envelope*> shuffled = base;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (size_t i = 0; i < base.size() / 20; ++i) {
      shuffled.insert(shuffled.begin() + static_cast<long>(rng() % (shuffled.size() + 1)),
                      base[rng() % base.size()]);
    }
    ASSERT_EQ(ReplayAll(shuffled, true).net, reference.net) << "order " << order << " differs";
    ASSERT_FALSE(::testing::Test::HasFailure()) << "order " << order;
  }
}

// Orders that stress re-ranking: reverse time order, and each employee's
// events last-first while the others go forward.
TEST(Determinism, AdversarialOrders) {
  auto events = Generate(6, 40, 99);
  ASSERT_TRUE(events.ok()) << events.status().message();
  std::vector<const v1::Envelope*> base;
  for (const auto& e : *events) base.push_back(&e);
  const Replay reference = ReplayAll(base);
  std::vector<const v1::Envelope*> reversed(base.rbegin(), base.rend());
  Replay backwards = ReplayAll(reversed);
  EXPECT_EQ(backwards.net, reference.net);
  EXPECT_GT(backwards.reversed, reference.reversed) << "reverse order must re-rank";
  std::vector<const v1::Envelope*> doubled = base;
  doubled.insert(doubled.end(), reversed.begin(), reversed.end());
  EXPECT_EQ(ReplayAll(doubled).net, reference.net);
}

// The employee cache in front of the state, with the engine's point tables
// and budgets small enough to drop point records and evict employees, in
// transactions that are flushed, or discarded and applied again (as the
// processor does when a transaction aborts), and now and then a cleared
// cache: every event's decisions are those of a plain store, the stores end
// equal, and the standing decisions read through the cache are the same.
TEST(Determinism, TheEmployeeCacheChangesNoDecision) {
  auto events = Generate(12, 35, 4242);
  ASSERT_TRUE(events.ok()) << events.status().message();
  auto decided = [](Engine& engine, const v1::Envelope& e) {
    std::vector<v1::Decision> out;
    engine.Apply(e, &out);
    std::string bytes;
    for (const auto& d : out) bytes += d.SerializeAsString() + "\n";
    return bytes;
  };
  auto standing = [](StateStore& store, EmployeeStateCache* cache) {
    std::string net;
    ForEachStandingDecision(
        store, [&](const v1::Decision& d) { net += DecisionToJson(d) + "\n"; }, cache);
    return net;
  };
  MemoryStateStore plain;
  Engine reference(testing::ShippedRules(), &plain);
  std::vector<std::string> want;
  for (const auto& e : *events) want.push_back(decided(reference, e));
  ASSERT_GT(standing(plain, nullptr).size(), 0u);

  for (size_t budget : {size_t{16} << 10, size_t{256} << 10, size_t{64} << 20}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    MemoryStateStore base;
    EmployeeStateCache cache(
        &base, {.max_bytes = budget, .point_tables = std::string(kEnginePointTables)});
    Engine engine(testing::ShippedRules(), &cache);
    std::mt19937 rng(static_cast<uint32_t>(budget));
    bool retry = false;
    for (size_t i = 0; i < events->size();) {
      const size_t end = std::min(events->size(), i + 1 + rng() % 40);
      const bool discard = !retry && rng() % 6 == 0;
      for (size_t j = i; j < end; ++j) {
        std::string got = decided(engine, (*events)[j]);
        if (!discard) {
          ASSERT_EQ(got, want[j]) << "event " << j;
        }
      }
      if (discard) {
        cache.Discard();
        retry = true;  // the same events again
        continue;
      }
      cache.Flush();
      if (rng() % 25 == 0) cache.Clear();
      retry = false;
      i = end;
    }
    EXPECT_EQ(testing::StoreContents(base), testing::StoreContents(plain));
    EXPECT_EQ(standing(base, &cache), standing(plain, nullptr));
  }
}

}  // namespace
}  // namespace demerit::core
