// EmployeeStateCache: reads and writes served from memory, changes flushed to
// the base store in key order, discarded on request, employees evicted.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "demerit/core/state.h"

namespace demerit::core {
namespace {

using KV = std::vector<std::pair<std::string, std::string>>;

// A MemoryStateStore that records every write it receives.
class RecordingStore final : public StateStore {
 public:
  bool Get(std::string_view key, std::string* value) override {
    ++gets;
    return data_.Get(key, value);
  }
  void Put(std::string_view key, std::string_view value) override {
    writes.push_back("put " + std::string(key) + "=" + std::string(value));
    data_.Put(key, value);
  }
  void Delete(std::string_view key) override {
    writes.push_back("del " + std::string(key));
    data_.Delete(key);
  }
  void Scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override {
    ++scans;
    data_.Scan(begin, end, visit);
  }
  void ScanReverse(std::string_view begin, std::string_view end,
                   const ScanVisitor& visit) override {
    data_.ScanReverse(begin, end, visit);
  }
  KV All() {
    KV out;
    data_.Scan(std::string_view("", 0), "\xff", [&](std::string_view k, std::string_view v) {
      out.emplace_back(std::string(k), std::string(v));
      return true;
    });
    return out;
  }

  std::vector<std::string> writes;
  int scans = 0;
  int gets = 0;

 private:
  MemoryStateStore data_;
};

std::string K(const std::string& employee, const std::string& rest) {
  return employee + kKeySeparator + rest;
}

KV ScanAll(StateStore& s, std::string_view begin, std::string_view end, bool reverse = false) {
  KV out;
  auto visit = [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  };
  if (reverse) {
    s.ScanReverse(begin, end, visit);
  } else {
    s.Scan(begin, end, visit);
  }
  return out;
}

std::string GetOr(StateStore& s, std::string_view key) {
  std::string value;
  return s.Get(key, &value) ? value : "<none>";
}

TEST(EmployeeStateCache, ServesWritesFromMemoryAndFlushesThemInKeyOrder) {
  RecordingStore base;
  base.Put(K("e1", "b"), "old");
  base.Put(K("e1", "d"), "gone soon");
  base.Put(K("e2", "a"), "other employee");
  base.writes.clear();
  EmployeeStateCache cache(&base, {});

  cache.Put(K("e1", "c"), "3");
  cache.Put(K("e1", "a"), "1");
  cache.Put(K("e1", "b"), "2");  // overwrites a base value
  cache.Delete(K("e1", "d"));
  cache.Put(K("e1", "x"), "temporary");
  cache.Delete(K("e1", "x"));  // written and deleted before a flush
  cache.Delete(K("e1", "never"));
  EXPECT_EQ(base.scans, 1) << "one range scan loads the employee";
  EXPECT_TRUE(base.writes.empty()) << "nothing reaches the base store before Flush()";

  EXPECT_EQ(GetOr(cache, K("e1", "b")), "2");
  EXPECT_EQ(GetOr(cache, K("e1", "d")), "<none>");
  EXPECT_EQ(GetOr(cache, K("e1", "x")), "<none>");
  const KV want = {{K("e1", "a"), "1"}, {K("e1", "b"), "2"}, {K("e1", "c"), "3"}};
  EXPECT_EQ(ScanAll(cache, K("e1", ""), K("e1", "\x7f")), want);
  EXPECT_EQ(ScanAll(cache, K("e1", ""), K("e1", "\x7f"), true), KV(want.rbegin(), want.rend()));
  EXPECT_EQ(ScanAll(cache, K("e1", "b"), K("e1", "c")), (KV{{K("e1", "b"), "2"}}));

  std::vector<std::string> changes;
  cache.ForEachChange([&](const std::string& k, const std::string* v) {
    changes.push_back(k + (v ? "=" + *v : " deleted"));
  });
  EXPECT_EQ(changes, (std::vector<std::string>{K("e1", "a=1"), K("e1", "b=2"), K("e1", "c=3"),
                                               K("e1", "d deleted"), K("e1", "x deleted")}));

  cache.Flush();
  EXPECT_EQ(base.writes,
            (std::vector<std::string>{"put " + K("e1", "a=1"), "put " + K("e1", "b=2"),
                                      "put " + K("e1", "c=3"), "del " + K("e1", "d"),
                                      "del " + K("e1", "x")}));
  EXPECT_EQ(base.All(), (KV{{K("e1", "a"), "1"},
                            {K("e1", "b"), "2"},
                            {K("e1", "c"), "3"},
                            {K("e2", "a"), "other employee"}}));
  changes.clear();
  cache.ForEachChange([&](const std::string& k, const std::string*) { changes.push_back(k); });
  EXPECT_TRUE(changes.empty()) << "a flush leaves no changes";
  base.writes.clear();
  cache.Flush();
  EXPECT_TRUE(base.writes.empty()) << "a second flush writes nothing";
}

TEST(EmployeeStateCache, FlushesEveryEmployeeInKeyOrder) {
  // Employees are written in id order whatever order they changed in, so the
  // base store gets one ascending run of keys ("ab" sorts after "a"'s keys).
  RecordingStore base;
  EmployeeStateCache cache(&base, {});
  EXPECT_FALSE(cache.has_changes());
  cache.Put(K("b", "1"), "x");
  cache.Put(K("ab", "1"), "x");
  cache.Put(K("a", "2"), "x");
  cache.Put(K("a", "1"), "x");
  EXPECT_TRUE(cache.has_changes());
  cache.Flush();
  EXPECT_FALSE(cache.has_changes());
  EXPECT_EQ(base.writes,
            (std::vector<std::string>{"put " + K("a", "1=x"), "put " + K("a", "2=x"),
                                      "put " + K("ab", "1=x"), "put " + K("b", "1=x")}));
  EXPECT_TRUE(std::is_sorted(base.writes.begin(), base.writes.end()));
}

TEST(EmployeeStateCache, ScanCachedServesOnlyEmployeesInMemory) {
  RecordingStore base;
  base.Put(K("e1", "ia"), "1");
  base.Put(K("e1", "ib"), "2");
  base.Put(K("e2", "ia"), "other");
  EmployeeStateCache cache(&base, {});
  cache.Put(K("e1", "ic"), "3");  // loads e1
  KV got;
  auto visit = [&](std::string_view k, std::string_view v) {
    got.emplace_back(std::string(k), std::string(v));
    return true;
  };
  const int scans = base.scans;
  EXPECT_TRUE(cache.ScanCached(K("e1", "i"), K("e1", "j"), visit));
  EXPECT_EQ(got, (KV{{K("e1", "ia"), "1"}, {K("e1", "ib"), "2"}, {K("e1", "ic"), "3"}}));
  got.clear();
  const std::string e1_end = std::string("e1") + static_cast<char>(kKeySeparator + 1);
  EXPECT_TRUE(cache.ScanCached(K("e1", "ib"), e1_end, visit)) << "to the employee's end";
  EXPECT_EQ(got, (KV{{K("e1", "ib"), "2"}, {K("e1", "ic"), "3"}}));
  got.clear();
  EXPECT_FALSE(cache.ScanCached(K("e2", "i"), K("e2", "j"), visit)) << "e2 is not in memory";
  EXPECT_FALSE(cache.ScanCached(K("e1", "i"), K("e2", "j"), visit)) << "crosses employees";
  EXPECT_FALSE(cache.ScanCached(std::string("e1"), "\xff", visit)) << "not one employee's key";
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(base.scans, scans) << "nothing was loaded";
  EXPECT_EQ(cache.cached_employees(), 1u);
}

TEST(EmployeeStateCache, DiscardForgetsChangesSinceTheLastFlush) {
  RecordingStore base;
  base.Put(K("e1", "a"), "base");
  EmployeeStateCache cache(&base, {});
  cache.Put(K("e1", "b"), "flushed");
  cache.Flush();
  cache.Put(K("e1", "a"), "changed");
  cache.Delete(K("e1", "b"));
  cache.Put(K("e2", "a"), "new employee");
  EXPECT_TRUE(cache.has_changes());
  cache.Discard();
  EXPECT_FALSE(cache.has_changes());
  EXPECT_EQ(GetOr(cache, K("e1", "a")), "base");
  EXPECT_EQ(GetOr(cache, K("e1", "b")), "flushed");
  EXPECT_EQ(GetOr(cache, K("e2", "a")), "<none>");
  EXPECT_EQ(base.All(), (KV{{K("e1", "a"), "base"}, {K("e1", "b"), "flushed"}}));
}

TEST(EmployeeStateCache, EvictsTheLeastRecentlyUsedOverBudgetAndReloadsThem) {
  RecordingStore base;
  EmployeeStateCache cache(&base, {.max_bytes = 4096});
  const std::string big(200, 'v');
  for (int i = 0; i < 100; ++i) {
    cache.Put(K("e" + std::to_string(i), "k"), big + std::to_string(i));
    cache.Flush();
  }
  EXPECT_LE(cache.cached_bytes(), 4096u);
  EXPECT_LT(cache.cached_employees(), 100u);
  EXPECT_GT(cache.cached_employees(), 0u);
  // The most recent employee is still cached; an early one comes back from the base store.
  int scans = base.scans;
  EXPECT_EQ(GetOr(cache, K("e99", "k")), big + "99");
  EXPECT_EQ(base.scans, scans);
  EXPECT_EQ(GetOr(cache, K("e0", "k")), big + "0");
  EXPECT_EQ(base.scans, scans + 1);
}

TEST(EmployeeStateCache, PointTablesAreReadKeyByKeyAndLeaveMemoryOnceWritten) {
  RecordingStore base;
  const std::string history(100, 'h');
  for (int i = 0; i < 50; ++i) base.Put(K("e1", "p" + std::to_string(i)), history);
  base.Put(K("e1", "a"), "other table");
  base.Put(K("e1", "q"), "after the point table");
  // 296 bytes as counted for e1's two other keys; 3/4 of the budget is 300.
  EmployeeStateCache cache(&base, {.max_bytes = 400, .point_tables = "p"});
  EXPECT_EQ(GetOr(cache, K("e1", "a")), "other table");
  EXPECT_EQ(GetOr(cache, K("e1", "q")), "after the point table");
  EXPECT_LT(cache.cached_bytes(), 1000u) << "the 50 point records stay in the base store";
  EXPECT_EQ(GetOr(cache, K("e1", "p7")), history) << "asked of the base store";
  EXPECT_EQ(GetOr(cache, K("e1", "p99")), "<none>");
  const size_t before = cache.cached_bytes();
  cache.Put(K("e1", "pnew"), "new");
  cache.Delete(K("e1", "p8"));  // only in the base store: a tombstone
  EXPECT_EQ(GetOr(cache, K("e1", "pnew")), "new");
  EXPECT_EQ(GetOr(cache, K("e1", "p8")), "<none>");
  EXPECT_GT(cache.cached_bytes(), before);
  KV scanned = ScanAll(cache, K("e1", "a"), K("e1", "b"));
  EXPECT_EQ(scanned, (KV{{K("e1", "a"), "other table"}}));
  // ForEachStandingDecision's shortcut is refused where a point table is not all in memory.
  EXPECT_FALSE(cache.ScanCached(K("e1", "o"), K("e1", "q"), [](auto, auto) { return true; }));
  EXPECT_TRUE(cache.ScanCached(K("e1", "q"), K("e1", "r"), [](auto, auto) { return true; }));
  cache.Flush();  // 434 bytes: over the budget
  EXPECT_EQ(cache.cached_bytes(), before) << "over the budget, point records leave memory first";
  EXPECT_EQ(cache.cached_employees(), 1u) << "and then nothing else has to";
  EXPECT_EQ(GetOr(base, K("e1", "pnew")), "new");
  EXPECT_EQ(GetOr(base, K("e1", "p8")), "<none>");
  int gets = base.gets;
  EXPECT_EQ(GetOr(cache, K("e1", "pnew")), "new") << "read back from the base store";
  EXPECT_EQ(base.gets, gets + 1);

  // Under the budget they stay: a flushed point record is read from memory.
  EmployeeStateCache roomy(&base, {.point_tables = "p"});
  roomy.Put(K("e1", "pkept"), "k");
  roomy.Flush();
  gets = base.gets;
  EXPECT_EQ(GetOr(roomy, K("e1", "pkept")), "k");
  EXPECT_EQ(base.gets, gets);

  // An employee the base store has no point records of: a miss in memory is final.
  RecordingStore empty;
  EmployeeStateCache fresh(&empty, {.point_tables = "p"});
  fresh.Put(K("e2", "p1"), "x");
  EXPECT_EQ(GetOr(fresh, K("e2", "p1")), "x");
  EXPECT_EQ(GetOr(fresh, K("e2", "p2")), "<none>");
  EXPECT_TRUE(fresh.ScanCached(K("e2", ""), K("e2", "\x7f"), [](auto, auto) { return true; }));
}

TEST(EmployeeStateCache, PointTableEdges) {
  RecordingStore base;
  base.Put(K("e1", "a"), "1");
  base.Put(K("e1", "p1"), "in the base store only");
  base.Put(K("e1",
             "\xff"
             "1"),
           "last table");
  base.Put(K("e1",
             "\xff"
             "2"),
           "last table");
  // Unsorted and repeated table bytes, one of them 0xff.
  EmployeeStateCache cache(&base, {.point_tables = "\xffpp"});
  EXPECT_EQ(GetOr(cache, K("e1", "a")), "1");
  EXPECT_EQ(GetOr(cache, K("e1",
                           "\xff"
                           "2")),
            "last table")
      << "from the base store";
  EXPECT_LT(cache.cached_bytes(), 200u) << "only e1/a in memory";
  // A delete of a point key that is nowhere is no change.
  cache.Delete(K("e1", "pnever"));
  EXPECT_FALSE(cache.has_changes());
  cache.Delete(K("e1", "p1"));
  EXPECT_TRUE(cache.has_changes());
  EXPECT_EQ(GetOr(cache, K("e1", "p1")), "<none>");
  // Ranges over a point table that is only partly in memory.
  auto visit = [](std::string_view, std::string_view) { return true; };
  EXPECT_FALSE(cache.ScanCached(K("e1", "\xff"), "e1\x20", visit));
  EXPECT_FALSE(cache.ScanCached(K("e1", "o"), K("e1", "p0"), visit))
      << "[o, p0) holds p's first keys";
  EXPECT_FALSE(cache.ScanCached(K("e1", ""), K("e1", "q"), visit));
  EXPECT_TRUE(cache.ScanCached(K("e1", "a"), K("e1", "p"), visit)) << "ends where p begins";
  EXPECT_TRUE(cache.ScanCached(K("e1", "q"), K("e1", "\xff"), visit));
  EXPECT_DEATH(ScanAll(cache, K("e1", "a"), K("e1", "q")), "a scan over a point table");
  EXPECT_DEATH(ScanAll(cache, K("e1", "z"), "e1\x20", true), "a scan over a point table");
  EXPECT_EQ(ScanAll(cache, K("e1", "a"), K("e1", "b")), (KV{{K("e1", "a"), "1"}}));
}

// Random operations on a few employees, with flushes and discards, against a
// model: a map of flushed state and a map of what reads must see. Table b is
// a point table in half the runs (and then never scanned).
TEST(EmployeeStateCache, AgreesWithAModelUnderRandomOperations) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    RecordingStore base;
    const bool points = seed > 20;
    EmployeeStateCache cache(&base, {.max_bytes = static_cast<size_t>(seed % 2 ? 1 << 20 : 600),
                                     .point_tables = points ? "b" : ""});
    std::map<std::string, std::string> flushed, visible;
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    for (int step = 0; step < 2000; ++step) {
      const std::string employee = "e" + std::to_string(pick(4));
      // Keys are employee, separator, a table byte, then more: tables a-c, rests "", a-d, da.
      auto rest = [&] {
        static const char* const kRests[] = {"", "a", "b", "c", "d", "da"};
        return std::string(kRests[pick(6)]);
      };
      const std::string key = K(employee, std::string(1, static_cast<char>('a' + pick(3))) + rest());
      switch (pick(10)) {
        case 0:
        case 1:
        case 2: {
          std::string value = std::to_string(pick(1000));
          cache.Put(key, value);
          visible[key] = value;
          break;
        }
        case 3:
          cache.Delete(key);
          visible.erase(key);
          break;
        case 4: {
          ASSERT_EQ(GetOr(cache, key), visible.count(key) ? visible[key] : "<none>") << key;
          break;
        }
        case 5:
        case 6: {
          const bool reverse = pick(2) == 1;
          // Bounds anywhere in the employee's keys, within a table or across
          // tables, and at the employee's first and past its last key.
          auto bound = [&] {
            switch (pick(6)) {
              case 0: return K(employee, "");
              case 1: return employee + static_cast<char>(kKeySeparator + 1);
              default: return K(employee, std::string(1, static_cast<char>('a' + pick(4))) + rest());
            }
          };
          std::string begin = bound(), end = bound();
          if (begin == employee + static_cast<char>(kKeySeparator + 1)) begin = K(employee, "");
          if (points) {
            // Within table a or c only.
            const char t = pick(2) == 0 ? 'a' : 'c';
            begin = K(employee, std::string(1, t) + rest());
            end = pick(3) == 0 ? K(employee, std::string(1, static_cast<char>(t + 1)))
                               : K(employee, std::string(1, t) + rest());
          }
          KV want;
          for (auto it = visible.lower_bound(begin); it != visible.end() && it->first < end; ++it) {
            want.emplace_back(it->first, it->second);
          }
          if (reverse) want = KV(want.rbegin(), want.rend());
          ASSERT_EQ(ScanAll(cache, begin, end, reverse), want);
          break;
        }
        case 7:
        case 8:
          cache.Flush();
          flushed = visible;
          ASSERT_EQ(base.All(), KV(flushed.begin(), flushed.end()));
          break;
        case 9:
          cache.Discard();
          visible = flushed;
          break;
      }
    }
  }
}

}  // namespace
}  // namespace demerit::core
