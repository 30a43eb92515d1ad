// Invariant 1: the standing decisions are a function of the set of events.
// Generated event sets are replayed in many random orders with random
// duplicates; the standing decisions must be the same bytes every time, and
// each decision stream must be a well-formed append-only log.

#include <gtest/gtest.h>

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
Replay ReplayAll(const std::vector<const v1::Envelope*>& events) {
  MemoryStateStore state;
  Engine engine(testing::ShippedRules(), &state);
  Ledger ledger;
  std::map<std::string, bool> standing;  // penalty_id -> stands
  std::vector<v1::Decision> out;
  for (const v1::Envelope* e : events) {
    out.clear();
    ApplyResult r = engine.Apply(*e, &out);
    EXPECT_NE(r.outcome, ApplyResult::Outcome::kRejected) << r.rejection.detail;
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

TEST(Determinism, AnyOrderAnyDuplicationSameStandingDecisions) {
  cli::GenOptions options;
  options.employees = 12;
  options.sites = 6;
  options.days = 35;  // crosses a month boundary
  options.seed = 20261129;
  auto events = cli::GenerateEvents(options, *testing::ShippedRules());
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

// Orders that stress re-ranking: reverse time order, and each employee's
// events last-first while the others go forward.
TEST(Determinism, AdversarialOrders) {
  cli::GenOptions options;
  options.employees = 6;
  options.sites = 6;
  options.days = 40;
  options.seed = 99;
  auto events = cli::GenerateEvents(options, *testing::ShippedRules());
  ASSERT_TRUE(events.ok());
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

}  // namespace
}  // namespace demerit::core
