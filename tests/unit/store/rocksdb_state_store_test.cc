#include "demerit/store/rocksdb_state_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "demerit/core/state.h"

namespace demerit::store {
namespace {

using KV = std::vector<std::pair<std::string, std::string>>;

// A fresh directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/demerit_store_test_XXXXXX";
    char* made = mkdtemp(tmpl);
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    } else {
      path_ = made;
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

RocksDbOptions SmallOptions() {
  RocksDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 1 << 20;
  return o;
}

// Behind a cache: a plain batch that reads do not see, and no write-ahead log.
RocksDbOptions CacheFrontedOptions() {
  RocksDbOptions o = SmallOptions();
  o.read_your_writes = false;
  o.write_ahead_log = false;
  return o;
}

// As replay opens its state.
RocksDbOptions BulkLoadOptions() {
  RocksDbOptions o = CacheFrontedOptions();
  o.bulk_load = true;
  return o;
}

std::unique_ptr<RocksDbStateStore> MustOpen(const std::string& dir,
                                            const RocksDbOptions& options = SmallOptions()) {
  auto store = RocksDbStateStore::Open(dir, options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().message();
    return nullptr;
  }
  return std::move(store.value());
}

KV ScanAll(core::StateStore& store, std::string_view begin, std::string_view end,
           size_t limit = SIZE_MAX) {
  KV out;
  store.Scan(begin, end, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return out.size() < limit;
  });
  return out;
}

std::string GetOr(core::StateStore& store, std::string_view key, const char* missing = "<none>") {
  std::string value = "<untouched>";
  return store.Get(key, &value) ? value : missing;
}

// ---------------------------------------------------------------------------
// The StateStore contract, run against both implementations.

struct Impl {
  const char* name;
  // Opens a store; `dir` is a fresh temporary directory.
  std::function<std::unique_ptr<core::StateStore>(const std::string& dir)> open;
  // Makes the writes so far durable, where that applies.
  std::function<void(core::StateStore&)> commit;
};

const Impl kImpls[] = {
    {"memory", [](const std::string&) { return std::make_unique<core::MemoryStateStore>(); },
     [](core::StateStore&) {}},
    {"rocksdb_staged",
     [](const std::string& dir) -> std::unique_ptr<core::StateStore> { return MustOpen(dir); },
     [](core::StateStore&) {}},
    {"rocksdb_committed",
     [](const std::string& dir) -> std::unique_ptr<core::StateStore> { return MustOpen(dir); },
     [](core::StateStore& s) {
       auto st = static_cast<RocksDbStateStore&>(s).Commit();
       EXPECT_TRUE(st.ok()) << st.message();
     }},
    {"rocksdb_unindexed_committed",
     [](const std::string& dir) -> std::unique_ptr<core::StateStore> {
       return MustOpen(dir, CacheFrontedOptions());
     },
     [](core::StateStore& s) {
       auto st = static_cast<RocksDbStateStore&>(s).Commit();
       EXPECT_TRUE(st.ok()) << st.message();
     }},
};

class StateStoreContract : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  void Commit() { GetParam().commit(*store_); }

  TempDir dir_;
  std::unique_ptr<core::StateStore> store_;
};

TEST_P(StateStoreContract, PutGetDelete) {
  core::StateStore& s = *store_;
  EXPECT_EQ(GetOr(s, "a"), "<none>");
  s.Put("a", "1");
  s.Put("b", "");
  s.Put(std::string("bin\0key", 7), std::string("v\0\xff", 3));
  Commit();
  struct Case {
    std::string key;
    std::string want;
  };
  const Case after_put[] = {
      {"a", "1"}, {"b", ""}, {std::string("bin\0key", 7), std::string("v\0\xff", 3)},
      {"bin", "<none>"}, {"c", "<none>"}, {"", "<none>"},
  };
  for (const Case& c : after_put) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(GetOr(s, c.key), c.want);
  }
  s.Put("a", "2");  // overwrite
  s.Delete("b");
  s.Delete("never-written");  // deleting a missing key is fine
  Commit();
  const Case after_delete[] = {
      {"a", "2"}, {"b", "<none>"}, {"never-written", "<none>"},
      {std::string("bin\0key", 7), std::string("v\0\xff", 3)},
  };
  for (const Case& c : after_delete) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(GetOr(s, c.key), c.want);
  }
  // Delete then Put again brings the key back.
  s.Delete("a");
  s.Put("a", "3");
  Commit();
  EXPECT_EQ(GetOr(s, "a"), "3");
}

TEST_P(StateStoreContract, ScanRangesInByteOrder) {
  core::StateStore& s = *store_;
  // Written out of order; byte order puts "b/" keys between "a" and "c", and
  // "\xff" after every ASCII key.
  for (const char* k : {"b/2", "a", "c", "b/10", "b/1", "b", "b0", "\xff"}) {
    s.Put(k, std::string("v") + k);
  }
  Commit();
  struct Case {
    const char* name;
    std::string begin, end;
    size_t limit;
    std::vector<std::string> keys;
  };
  const Case cases[] = {
      {"everything", "", "\xff\xff", SIZE_MAX, {"a", "b", "b/1", "b/10", "b/2", "b0", "c", "\xff"}},
      {"prefix_b_slash", "b/", "b0", SIZE_MAX, {"b/1", "b/10", "b/2"}},
      {"begin_inclusive", "b/10", "c", SIZE_MAX, {"b/10", "b/2", "b0"}},
      {"end_exclusive", "a", "b/10", SIZE_MAX, {"a", "b", "b/1"}},
      {"between_keys", "b/3", "b/9", SIZE_MAX, {}},
      {"empty_range", "b", "b", SIZE_MAX, {}},
      {"inverted_range", "c", "a", SIZE_MAX, {}},
      {"end_empty", "", "", SIZE_MAX, {}},
      {"past_the_end", "d", "\xfe", SIZE_MAX, {}},
      {"stop_after_two", "", "\xff\xff", 2, {"a", "b"}},
      {"stop_after_one", "b/", "b0", 1, {"b/1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    KV got = ScanAll(s, c.begin, c.end, c.limit);
    std::vector<std::string> keys;
    for (const auto& [k, v] : got) {
      keys.push_back(k);
      EXPECT_EQ(v, "v" + k);
    }
    EXPECT_EQ(keys, c.keys);
  }
}

TEST_P(StateStoreContract, ScanSkipsDeletedAndSeesOverwrites) {
  core::StateStore& s = *store_;
  for (const char* k : {"k1", "k2", "k3", "k4"}) s.Put(k, "old");
  Commit();
  s.Delete("k2");
  s.Put("k3", "new");
  s.Put("k25", "added");
  s.Delete("k4");
  s.Put("k4", "back");
  Commit();
  EXPECT_EQ(ScanAll(s, "k", "l"),
            (KV{{"k1", "old"}, {"k25", "added"}, {"k3", "new"}, {"k4", "back"}}));
}

INSTANTIATE_TEST_SUITE_P(Impls, StateStoreContract, ::testing::ValuesIn(kImpls),
                         [](const ::testing::TestParamInfo<Impl>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// RocksDbStateStore: staging, commit, discard, persistence.

TEST(RocksDbStateStoreTest, StagedWritesAreVisibleAndCountedUntilCommit) {
  TempDir dir;
  auto s = MustOpen(dir.path());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->staged(), 0u);
  s->Put("a", "1");
  s->Put("b", "2");
  s->Delete("c");
  EXPECT_EQ(s->staged(), 3u);
  EXPECT_EQ(GetOr(*s, "a"), "1");
  EXPECT_EQ(GetOr(*s, "c"), "<none>");
  auto st = s->Commit();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s->staged(), 0u);
  EXPECT_EQ(GetOr(*s, "a"), "1");
  EXPECT_EQ(GetOr(*s, "b"), "2");
  // Committing an empty batch is fine.
  st = s->Commit();
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(s->read_status().ok());
}

TEST(RocksDbStateStoreTest, DiscardDropsOnlyStagedWrites) {
  TempDir dir;
  auto s = MustOpen(dir.path());
  ASSERT_NE(s, nullptr);
  s->Put("kept", "1");
  s->Put("changed", "old");
  s->Put("deleted", "here");
  ASSERT_TRUE(s->Commit().ok());

  s->Put("kept", "overwritten");
  s->Put("changed", "new");
  s->Delete("deleted");
  s->Put("fresh", "x");
  EXPECT_EQ(GetOr(*s, "changed"), "new");
  EXPECT_EQ(GetOr(*s, "deleted"), "<none>");
  EXPECT_EQ(s->staged(), 4u);
  s->Discard();
  EXPECT_EQ(s->staged(), 0u);

  struct Case {
    const char* key;
    const char* want;
  };
  const Case cases[] = {
      {"kept", "1"}, {"changed", "old"}, {"deleted", "here"}, {"fresh", "<none>"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(GetOr(*s, c.key), c.want);
  }
  EXPECT_EQ(ScanAll(*s, "", "\xff"),
            (KV{{"changed", "old"}, {"deleted", "here"}, {"kept", "1"}}));
}

TEST(RocksDbStateStoreTest, CommitPersistsAcrossReopenAndStagedWritesDoNot) {
  TempDir dir;
  {
    auto s = MustOpen(dir.path());
    ASSERT_NE(s, nullptr);
    s->Put("a", "1");
    s->Put("b", "2");
    s->Put("c", "3");
    ASSERT_TRUE(s->Commit().ok());
    s->Delete("b");
    s->Put("a", "10");
    ASSERT_TRUE(s->Commit().ok());
    // Staged but never committed: lost on close.
    s->Put("d", "4");
    s->Delete("c");
  }
  {
    auto s = MustOpen(dir.path());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->staged(), 0u);
    struct Case {
      const char* key;
      const char* want;
    };
    const Case cases[] = {{"a", "10"}, {"b", "<none>"}, {"c", "3"}, {"d", "<none>"}};
    for (const Case& c : cases) {
      SCOPED_TRACE(c.key);
      EXPECT_EQ(GetOr(*s, c.key), c.want);
    }
    EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "10"}, {"c", "3"}}));
    // A second generation of writes persists too.
    s->Put("e", "5");
    ASSERT_TRUE(s->Commit().ok());
  }
  auto s = MustOpen(dir.path());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "10"}, {"c", "3"}, {"e", "5"}}));
}

TEST(RocksDbStateStoreTest, UnindexedReadsSeeOnlyCommittedWrites) {
  TempDir dir;
  auto s = MustOpen(dir.path(), CacheFrontedOptions());
  ASSERT_NE(s, nullptr);
  s->Put("a", "1");
  s->Put("b", "2");
  ASSERT_TRUE(s->Commit().ok());
  s->Put("a", "10");
  s->Delete("b");
  s->Put("c", "3");
  EXPECT_EQ(s->staged(), 3u);
  // Staged writes are invisible until committed.
  EXPECT_EQ(GetOr(*s, "a"), "1");
  EXPECT_EQ(GetOr(*s, "c"), "<none>");
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(s->staged(), 0u);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "10"}, {"c", "3"}}));
  // Discard drops a staged plain batch too.
  s->Put("d", "4");
  s->Discard();
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(GetOr(*s, "d"), "<none>");
}

TEST(RocksDbStateStoreTest, WithoutTheLogCloseMakesCommitsDurable) {
  TempDir dir;
  {
    auto s = MustOpen(dir.path(), CacheFrontedOptions());
    ASSERT_NE(s, nullptr);
    s->Put("a", "1");
    ASSERT_TRUE(s->Commit().ok());
    s->Put("b", "2");  // staged: Close() commits it
    auto closed = s->Close();
    ASSERT_TRUE(closed.ok()) << closed.message();
  }
  auto s = MustOpen(dir.path(), CacheFrontedOptions());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "1"}, {"b", "2"}}));
}

TEST(RocksDbStateStoreTest, WithoutTheLogOrAFlushOnCloseCommitsAreNotKept) {
  // For a state directory that is deleted afterwards: nothing is written at close.
  TempDir dir;
  RocksDbOptions options = CacheFrontedOptions();
  options.flush_on_close = false;
  {
    auto s = MustOpen(dir.path(), options);
    ASSERT_NE(s, nullptr);
    s->Put("a", "1");
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_EQ(GetOr(*s, "a"), "1") << "committed writes are readable while open";
  }
  auto s = MustOpen(dir.path(), CacheFrontedOptions());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), KV{});
}

TEST(RocksDbStateStoreTest, BulkLoadsLeaveFilesUncompactedUntilTooMany) {
  TempDir dir;
  RocksDbOptions options = BulkLoadOptions();
  for (uint64_t run = 0; run < 12; ++run) {
    auto s = MustOpen(dir.path(), options);
    ASSERT_NE(s, nullptr);
    // Each run's close adds a level-0 file; the open that finds 8 compacts them.
    EXPECT_EQ(s->level0_files(), run % 8) << "run " << run;
    // Overlapping keys: every run rewrites the same ones.
    for (int k = 0; k < 100; ++k) s->Put("k" + std::to_string(k), std::to_string(run));
    ASSERT_TRUE(s->Close().ok());
    EXPECT_EQ(s->level0_files(), run % 8 + 1) << "run " << run;
  }
  auto s = MustOpen(dir.path(), options);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(GetOr(*s, "k42"), "11");
  EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 100u);
}

TEST(RocksDbStateStoreTest, BulkLoadsWriteALargeCommitInParts) {
  TempDir dir;
  RocksDbOptions options = BulkLoadOptions();
  options.bulk_batch_bytes = 4096;
  {
    auto s = MustOpen(dir.path(), options);
    ASSERT_NE(s, nullptr);
    const std::string value(100, 'v');
    for (int k = 0; k < 1000; ++k) s->Put("k" + std::to_string(1000 + k), value);
    // About 110 bytes a write: parts of 4 KiB went to the database already.
    EXPECT_LT(s->staged(), 40u);
    EXPECT_EQ(GetOr(*s, "k1000"), value) << "the first part is written";
    EXPECT_EQ(GetOr(*s, "k1999"), "<none>") << "the last writes wait for Commit()";
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_EQ(GetOr(*s, "k1999"), value);
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = MustOpen(dir.path(), CacheFrontedOptions());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 1000u);
}

// Zero-padded: these keys ascend in byte order as the numbers do.
std::string Padded(int k) {
  std::string n = std::to_string(k);
  return "k" + std::string(6 - n.size(), '0') + n;
}

TEST(RocksDbStateStoreTest, BulkLoadsTakeAscendingPartsInWholeAsFiles) {
  TempDir dir;
  RocksDbOptions options = BulkLoadOptions();
  options.bulk_batch_bytes = 4096;
  const std::string value(100, 'v');
  {
    auto s = MustOpen(dir.path(), options);
    ASSERT_NE(s, nullptr);
    for (int k = 0; k < 1000; ++k) s->Put(Padded(k), value);
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_GT(s->ingested_files(), 20u) << "every 4 KiB part became a file";
    EXPECT_EQ(s->level0_files(), 0u) << "a first load goes below level 0";
    EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 1000u);
    // A second commit over the same keys: overwrites and deletes, ascending.
    const uint64_t files = s->ingested_files();
    for (int k = 0; k < 1000; k += 2) {
      if (k % 4 == 0) {
        s->Put(Padded(k), "new");
      } else {
        s->Delete(Padded(k));
      }
    }
    s->Put(Padded(5000), "added");
    ASSERT_TRUE(s->Commit().ok());
    EXPECT_GT(s->ingested_files(), files);
    EXPECT_EQ(GetOr(*s, Padded(0)), "new");
    EXPECT_EQ(GetOr(*s, Padded(1)), value);
    EXPECT_EQ(GetOr(*s, Padded(2)), "<none>");
    EXPECT_EQ(GetOr(*s, Padded(5000)), "added");
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = MustOpen(dir.path(), CacheFrontedOptions());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 751u);
  EXPECT_EQ(GetOr(*s, Padded(4)), "new");
  EXPECT_EQ(GetOr(*s, Padded(6)), "<none>");
}

TEST(RocksDbStateStoreTest, BulkPartsOutOfOrderGoThroughTheMemtable) {
  TempDir dir;
  auto s = MustOpen(dir.path(), BulkLoadOptions());
  ASSERT_NE(s, nullptr);
  s->Put("b", "1");
  s->Put("a", "1");  // descending
  ASSERT_TRUE(s->Commit().ok());
  s->Put("c", "1");
  s->Put("c", "2");  // the same key twice
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(s->ingested_files(), 0u);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "1"}, {"b", "1"}, {"c", "2"}}));
  // An ascending commit over keys that are still in the memtable comes after them.
  s->Put("a", "3");
  s->Delete("b");
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(s->ingested_files(), 1u);
  EXPECT_EQ(ScanAll(*s, "", "\xff"), (KV{{"a", "3"}, {"c", "2"}}));
}

TEST(RocksDbStateStoreTest, WithoutBulkLoadACommitIsOneWrite) {
  TempDir dir;
  RocksDbOptions options = CacheFrontedOptions();
  options.bulk_batch_bytes = 4096;  // ignored without bulk_load
  auto s = MustOpen(dir.path(), options);
  ASSERT_NE(s, nullptr);
  for (int k = 0; k < 1000; ++k) s->Put("k" + std::to_string(1000 + k), std::string(100, 'v'));
  EXPECT_EQ(s->staged(), 1000u);
  EXPECT_EQ(GetOr(*s, "k1000"), "<none>");
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 1000u);
}

TEST(RocksDbStateStoreTest, ALongBulkLoadCompactsWhenLevelZeroFilesPileUp) {
  TempDir dir;
  RocksDbOptions options = BulkLoadOptions();
  options.write_buffer_bytes = 64 << 10;  // a flush every 64 KiB written
  auto s = MustOpen(dir.path(), options);
  ASSERT_NE(s, nullptr);
  const std::string value(1000, 'v');
  uint64_t most = 0;
  for (int round = 0; round < 60; ++round) {
    for (int k = 0; k < 100; ++k) s->Put("k" + std::to_string(round * 100 + k), value);
    ASSERT_TRUE(s->Commit().ok());
    most = std::max(most, s->level0_files());
  }
  EXPECT_GT(most, 4u) << "no compaction at RocksDB's usual 4 files";
  // About 90 flushes: the background compaction keeps the count bounded. It
  // runs on its own thread, so wait for it (a deadline, not a fixed sleep).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (s->level0_files() >= 16 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(s->level0_files(), 16u);
  EXPECT_EQ(GetOr(*s, "k5999"), value);
  EXPECT_EQ(ScanAll(*s, "", "\xff").size(), 6000u);
}

TEST(RocksDbStateStoreTest, ScanMergesStagedAndCommitted) {
  TempDir dir;
  auto s = MustOpen(dir.path());
  ASSERT_NE(s, nullptr);
  // Committed: k1 k3 k5 k7 k9.
  for (const char* k : {"k1", "k3", "k5", "k7", "k9"}) s->Put(k, std::string("db-") + k);
  ASSERT_TRUE(s->Commit().ok());
  // Staged: new k2 k6, overwrite k3, delete k5 and k9, new key past the range.
  s->Put("k2", "staged-k2");
  s->Put("k6", "staged-k6");
  s->Put("k3", "staged-k3");
  s->Delete("k5");
  s->Delete("k9");
  s->Put("l0", "outside");

  struct Case {
    const char* name;
    std::string begin, end;
    size_t limit;
    KV want;
  };
  const Case cases[] = {
      {"all_of_k",
       "k",
       "l",
       SIZE_MAX,
       {{"k1", "db-k1"}, {"k2", "staged-k2"}, {"k3", "staged-k3"}, {"k6", "staged-k6"},
        {"k7", "db-k7"}}},
      // A staged key at or past the end stays out.
      {"end_is_a_staged_key", "k", "k6", SIZE_MAX,
       {{"k1", "db-k1"}, {"k2", "staged-k2"}, {"k3", "staged-k3"}}},
      {"begin_is_a_staged_key", "k6", "l", SIZE_MAX, {{"k6", "staged-k6"}, {"k7", "db-k7"}}},
      {"begin_is_a_staged_delete", "k5", "k7", SIZE_MAX, {{"k6", "staged-k6"}}},
      {"only_deleted_keys", "k9", "k99", SIZE_MAX, {}},
      {"range_past_committed", "k8", "m", SIZE_MAX, {{"l0", "outside"}}},
      {"stop_after_three", "k", "l", 3,
       {{"k1", "db-k1"}, {"k2", "staged-k2"}, {"k3", "staged-k3"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ScanAll(*s, c.begin, c.end, c.limit), c.want);
  }
  // After commit, the same scans give the same answers.
  ASSERT_TRUE(s->Commit().ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("committed ") + c.name);
    EXPECT_EQ(ScanAll(*s, c.begin, c.end, c.limit), c.want);
  }
  EXPECT_TRUE(s->read_status().ok());
}

TEST(RocksDbStateStoreTest, ScanVisitorMayStopOnTheFirstKey) {
  TempDir dir;
  auto s = MustOpen(dir.path());
  ASSERT_NE(s, nullptr);
  s->Put("x1", "1");
  ASSERT_TRUE(s->Commit().ok());
  s->Put("x2", "2");
  int calls = 0;
  s->Scan("x", "y", [&](std::string_view, std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1);
}

TEST(RocksDbStateStoreTest, OpenFailures) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  // A regular file where the directory should be.
  std::string file = dir.path() + "/not-a-dir";
  { std::ofstream(file) << "x"; }
  // A directory inside a regular file.
  std::string under_file = file + "/db";
  // A database already open (its LOCK is held).
  std::string locked = dir.path() + "/locked";
  auto holder = MustOpen(locked);
  ASSERT_NE(holder, nullptr);

  for (const std::string& path : {file, under_file, locked}) {
    SCOPED_TRACE(path);
    auto s = RocksDbStateStore::Open(path, SmallOptions());
    ASSERT_FALSE(s.ok());
    const std::string& msg = s.status().message();
    EXPECT_NE(msg.find("cannot open state directory " + path + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find("Hint: a writable directory that no other process is using"),
              std::string::npos)
        << msg;
  }
  // The holder is unaffected.
  holder->Put("k", "v");
  EXPECT_TRUE(holder->Commit().ok());
  EXPECT_EQ(GetOr(*holder, "k"), "v");
}

TEST(RocksDbStateStoreTest, OpenCreatesMissingDirectory) {
  TempDir dir;
  std::string nested = dir.path() + "/state";
  ASSERT_FALSE(std::filesystem::exists(nested));
  auto s = MustOpen(nested);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  s->Put("k", std::string(10'000, 'v'));
  ASSERT_TRUE(s->Commit().ok());
  EXPECT_GT(s->ApproximateSize(), 0u);
}

// ---------------------------------------------------------------------------
// A full disk.

// A file system whose writes fail with "no space left on device" once
// `budget` bytes have been written, across every file (the database's own
// log included).
class FullDisk final : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDisk(uint64_t budget)
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()), left_(budget) {}
  const char* Name() const override { return "FullDisk"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok()) *file = std::make_unique<File>(std::move(*file), this);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, file, dbg);
    if (s.ok()) *file = std::make_unique<File>(std::move(*file), this);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->ReuseWritableFile(name, old_name, options, file, dbg);
    if (s.ok()) *file = std::make_unique<File>(std::move(*file), this);
    return s;
  }

  uint64_t written() {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, FullDisk* disk)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), disk_(disk) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (!disk_->Take(data.size())) return Full();
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (!disk_->Take(data.size())) return Full();
      return target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
      if (!disk_->Take(data.size())) return Full();
      return target()->PositionedAppend(data, offset, options, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       const rocksdb::DataVerificationInfo& info,
                                       rocksdb::IODebugContext* dbg) override {
      if (!disk_->Take(data.size())) return Full();
      return target()->PositionedAppend(data, offset, options, info, dbg);
    }

   private:
    static rocksdb::IOStatus Full() {
      return rocksdb::IOStatus::NoSpace("No space left on device");
    }
    FullDisk* disk_;
  };

  bool Take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes > left_) {
      left_ = 0;
      return false;
    }
    left_ -= bytes;
    written_ += bytes;
    return true;
  }

  std::mutex mu_;
  uint64_t left_;
  uint64_t written_ = 0;
};

// An environment over a FullDisk whose info log, like that of
// rocksdb::Env::Default(), is written through the environment's files.
class FullDiskEnv final : public rocksdb::EnvWrapper {
 public:
  explicit FullDiskEnv(std::shared_ptr<FullDisk> disk)
      : rocksdb::EnvWrapper(rocksdb::NewCompositeEnv(disk)) {}
  const char* Name() const override { return "FullDiskEnv"; }
  // RocksDB waits a second after a failed flush before it tries again.
  void SleepForMicroseconds(int) override {}
  rocksdb::Status NewLogger(const std::string& name,
                            std::shared_ptr<rocksdb::Logger>* logger) override {
    return rocksdb::Env::NewLogger(name, logger);
  }
};

// Runs `work` on a store in `dir` whose disk fills after `budget` bytes.
// Returns the first error, empty when none.
std::string RunOnFullDisk(const std::string& dir, uint64_t budget, RocksDbOptions options,
                          const std::function<core::Status(RocksDbStateStore&)>& work,
                          uint64_t* written = nullptr) {
  auto disk = std::make_shared<FullDisk>(budget);
  FullDiskEnv env(disk);
  options.env = &env;
  std::string error;
  {
    auto store = RocksDbStateStore::Open(dir, options);
    if (!store.ok()) {
      error = store.status().message();
    } else if (auto s = work(**store); !s.ok()) {
      error = s.message();
    }
  }  // closed (and destroyed) on the full disk too
  if (written != nullptr) *written = disk->written();
  return error;
}

// Every size of a full disk, in `steps` steps up to what `work` writes:
// every failure is reported as no space in the state directory, nothing
// aborts, and once there is room again the directory opens.
void ExpectNoSpaceReported(const RocksDbOptions& options,
                           const std::function<core::Status(RocksDbStateStore&)>& work, int steps) {
  uint64_t total = 0;
  {
    TempDir dir;
    ASSERT_EQ(RunOnFullDisk(dir.path(), UINT64_MAX, options, work, &total), "");
  }
  ASSERT_GT(total, 0u);
  int failed = 0;
  for (int step = 0; step < steps; ++step) {
    const uint64_t budget = total * step / steps;
    SCOPED_TRACE("disk full after " + std::to_string(budget) + " of " + std::to_string(total) +
                 " bytes");
    TempDir dir;
    std::string error = RunOnFullDisk(dir.path(), budget, options, work);
    if (error.empty()) continue;
    ++failed;
    EXPECT_NE(error.find("state directory " + dir.path()), std::string::npos) << error;
    EXPECT_NE(error.find("no space left on device"), std::string::npos) << error;
    EXPECT_NE(error.find("Hint: "), std::string::npos) << error;
    auto reopened = RocksDbStateStore::Open(dir.path(), options);
    EXPECT_TRUE(reopened.ok()) << reopened.status().message();
  }
  EXPECT_GT(failed, steps / 2) << "most sizes of the disk are too small for the work";
}

// As replay writes: bulk parts taken in as files, parts through the
// memtable, and a flush at the end.
core::Status BulkLoad(RocksDbStateStore& s) {
  const std::string value(100, 'v');
  for (int round = 0; round < 4; ++round) {
    for (int k = 0; k < 500; ++k) s.Put(Padded(round * 1000 + k), value);
    s.Put("a" + std::to_string(round), value);  // out of order: through the memtable
    if (auto st = s.Commit(); !st.ok()) return st;
  }
  return s.Close();
}

TEST(RocksDbStateStoreTest, BulkLoadOnAFullDiskReportsNoSpace) {
  RocksDbOptions options = BulkLoadOptions();
  options.bulk_batch_bytes = 4096;
  options.write_buffer_bytes = 16 << 10;
  ExpectNoSpaceReported(options, BulkLoad, 20);
}

// As the processor writes: through the write-ahead log, with flushes of the
// memtable in the background.
core::Status Transactions(RocksDbStateStore& s) {
  const std::string value(200, 'v');
  for (int round = 0; round < 40; ++round) {
    for (int k = 0; k < 50; ++k) s.Put("k" + std::to_string((round * 37 + k) % 900), value);
    s.Delete("k" + std::to_string(round));
    if (auto st = s.Commit(); !st.ok()) return st;
  }
  return core::Status::Ok();
}

TEST(RocksDbStateStoreTest, CommitsOnAFullDiskReportNoSpace) {
  RocksDbOptions options = CacheFrontedOptions();
  options.write_ahead_log = true;
  options.write_buffer_bytes = 32 << 10;
  ExpectNoSpaceReported(options, Transactions, 20);
}

// ---------------------------------------------------------------------------
// MemoryStateStore specifics.

TEST(MemoryStateStoreTest, SizeCountsLiveKeys) {
  core::MemoryStateStore s;
  EXPECT_EQ(s.size(), 0u);
  s.Put("a", "1");
  s.Put("b", "2");
  s.Put("a", "3");
  EXPECT_EQ(s.size(), 2u);
  s.Delete("a");
  s.Delete("zzz");
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(ScanAll(s, "", "\xff"), (KV{{"b", "2"}}));
}

}  // namespace
}  // namespace demerit::store
