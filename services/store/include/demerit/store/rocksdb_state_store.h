#pragma once

// The engine's state in RocksDB. Writes are staged in a batch and reach the
// database only on Commit(), so the database always holds a state that was
// committed as a whole (except a bulk load, which may write a large commit in
// parts: its state is rebuilt by running again). By default reads see the staged writes (the batch is
// a WriteBatchWithIndex); behind an EmployeeStateCache, which serves every
// read of what it wrote and commits before it reads again, the index is
// wasted work and `read_your_writes = false` stages into a plain batch.

#include <cstdint>
#include <memory>
#include <string>

#include "demerit/core/state.h"
#include "demerit/core/status.h"

namespace rocksdb {
class Env;
class Iterator;
struct ReadOptions;
}  // namespace rocksdb

namespace demerit::store {

struct RocksDbOptions {
  // Block cache size for reads.
  size_t block_cache_bytes = 256 << 20;
  // Memtable size before a flush.
  size_t write_buffer_bytes = 64 << 20;
  // Fewer fsyncs: the processor's durability comes from the changelog.
  bool sync_writes = false;
  // Reads see staged writes. When false, reads see only committed writes.
  bool read_your_writes = true;
  // Log every commit before it reaches the memtable. Without the log, a crash
  // loses the commits not yet flushed (the database stays at an earlier
  // committed state); Close() flushes. For state that is rebuilt anyway.
  bool write_ahead_log = true;
  // Without the log, write the memtables to disk when the store is closed.
  // False for a directory that is deleted afterwards.
  bool flush_on_close = true;
  // A one-off build of the state (replay): level-0 files are compacted only
  // once 16 have piled up (not at 4), so a replay of a million events writes
  // each byte about once and a long one still reads from a bounded number of
  // files; writes never stall on compaction. Open() compacts first when it
  // finds 8 or more level-0 files, so runs into one directory do not pile up.
  bool bulk_load = false;
  // With bulk_load and without read_your_writes: a commit whose staged writes
  // pass this size reaches the database in parts of about this size: the
  // parts written are readable before Commit(), and Discard() cannot take
  // them back. A part (or commit) whose keys ascend, as the employee cache
  // writes them, becomes an SST file that the database takes in whole, at
  // the lowest level it fits: no memtable, no flush and, for a first load,
  // no compaction. 0: always one write, through the memtable.
  size_t bulk_batch_bytes = size_t{32} << 20;
  // The environment the database's files are written through. Default:
  // rocksdb::Env::Default(). Tests pass one that injects faults.
  rocksdb::Env* env = nullptr;
};

class RocksDbStateStore final : public core::StateStore {
 public:
  // Opens (creating if needed) the database in `dir`.
  static core::StatusOr<std::unique_ptr<RocksDbStateStore>> Open(const std::string& dir,
                                                                 const RocksDbOptions& options);
  ~RocksDbStateStore() override;

  bool Get(std::string_view key, std::string* value) override;
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;
  void Scan(std::string_view begin, std::string_view end, const core::ScanVisitor& visit) override;
  void ScanReverse(std::string_view begin, std::string_view end,
                   const core::ScanVisitor& visit) override;

  // Writes the staged batch to the database.
  core::Status Commit();
  // Drops the staged batch.
  void Discard();
  // Commits and writes the memtables to disk (needed without the write-ahead log).
  core::Status Close();
  // Number of staged writes.
  size_t staged() const;
  // Parts of bulk commits written as SST files and taken in whole (see
  // RocksDbOptions::bulk_load).
  uint64_t ingested_files() const;
  // The first read error seen since the last Commit() (RocksDB reads do not
  // fail in normal operation; a failure here is a broken disk or database).
  const core::Status& read_status() const { return read_status_; }
  // Approximate bytes on disk.
  uint64_t ApproximateSize() const;
  // Files in the first level of the tree (a bulk load leaves them uncompacted).
  uint64_t level0_files() const;

 private:
  struct Impl;
  explicit RocksDbStateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<rocksdb::Iterator> NewIterator(const rocksdb::ReadOptions& options);
  std::unique_ptr<Impl> impl_;
  core::Status read_status_;
  core::Status write_status_;  // of a part of a bulk commit written early
};

}  // namespace demerit::store
