#include "demerit/store/rocksdb_state_store.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/write_batch_with_index.h>

namespace demerit::store {
namespace {

// Level-0 files that a bulk load finds and compacts before it writes more.
constexpr uint64_t kBulkLoadCompactAt = 8;
// Level-0 files that start a compaction while a bulk load writes.
constexpr int kBulkLoadCompactionTrigger = 16;

uint64_t Level0Files(rocksdb::DB* db) {
  std::string files;  // a string property only
  if (!db->GetProperty("rocksdb.num-files-at-level0", &files)) return 0;
  return std::strtoull(files.c_str(), nullptr, 10);
}

// A failed RocksDB call on the state in `dir`, for a person: a full disk says
// so in words, whatever file RocksDB was writing.
core::Status StateError(const std::string& dir, const std::string& what, const rocksdb::Status& s) {
  if (s.IsNoSpace()) {
    return core::Status::Error("state directory " + dir + ": no space left on device (" + what +
                               ": " + s.ToString() +
                               ") (Hint: free space on its file system or give it a larger "
                               "volume, then run again)");
  }
  return core::Status::Error("state directory " + dir + ": " + what + " failed: " + s.ToString() +
                             " (Hint: check the disk and the directory's permissions)");
}

// RocksDB's own log, DIR/LOG (the previous one kept as LOG.old), written with
// stdio. RocksDB's default log must not be used: once a write to it fails (a
// full disk), its next line aborts the process in RocksDB's checked builds.
// Here a line that cannot be written is lost, and the error it would have
// recorded reaches the caller as a status anyway.
class StateLog final : public rocksdb::Logger {
 public:
  explicit StateLog(const std::string& dir) {
    std::error_code ec;
    std::filesystem::rename(dir + "/LOG", dir + "/LOG.old", ec);  // none: nothing to keep
    file_ = std::fopen((dir + "/LOG").c_str(), "w");
  }
  ~StateLog() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (file_ == nullptr) return;
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    std::tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  now.tv_nsec / 1000);
    std::lock_guard<std::mutex> lock(mu_);
    std::fputs(stamp, file_);
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);  // errors are ignored: see above
  }

 protected:
  rocksdb::Status CloseImpl() override { return rocksdb::Status::OK(); }

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

}  // namespace

struct RocksDbStateStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
  rocksdb::WriteBatch plain;  // instead of `batch` without read_your_writes
  bool indexed = true;
  rocksdb::WriteBatch* staged() { return indexed ? batch.GetWriteBatch() : &plain; }
  rocksdb::ReadOptions read_options;
  rocksdb::WriteOptions write_options;
  size_t bulk_batch_bytes = 0;  // 0: a commit is one write
  std::string dir;
  uint64_t bulk_files = 0;      // SST files written for ingestion so far
  uint64_t ingested_files = 0;  // and taken in

  // Writes one part of a bulk commit. A part whose keys ascend (as a flush of
  // the employee cache writes them) becomes an SST file that RocksDB takes in
  // whole: no memtable inserts and no flush. Any other part goes through the
  // memtable.
  rocksdb::Status WriteBulk(rocksdb::WriteBatch* part);
};

namespace {

// Checks that a batch holds only puts and deletes in strictly ascending key
// order, or replays them into an SST file.
class SortedBatch final : public rocksdb::WriteBatch::Handler {
 public:
  explicit SortedBatch(rocksdb::SstFileWriter* writer = nullptr) : writer_(writer) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    if (!Next(cf, key)) return rocksdb::Status::OK();
    return writer_ != nullptr ? writer_->Put(key, value) : rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    if (!Next(cf, key)) return rocksdb::Status::OK();
    return writer_ != nullptr ? writer_->Delete(key) : rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return Unsorted(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Unsorted();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Unsorted();
  }
  void LogData(const rocksdb::Slice&) override { sorted_ = false; }
  bool Continue() override { return sorted_; }
  bool sorted() const { return sorted_; }

 private:
  rocksdb::Status Unsorted() {
    sorted_ = false;
    return rocksdb::Status::OK();
  }
  bool Next(uint32_t cf, const rocksdb::Slice& key) {
    if (cf != 0 || (!last_.empty() && key.compare(rocksdb::Slice(last_)) <= 0)) {
      sorted_ = false;
      return false;
    }
    last_.assign(key.data(), key.size());
    return true;
  }
  rocksdb::SstFileWriter* writer_;
  std::string last_;
  bool sorted_ = true;
};

}  // namespace

rocksdb::Status RocksDbStateStore::Impl::WriteBulk(rocksdb::WriteBatch* part) {
  if (part->Count() == 0) return rocksdb::Status::OK();
  SortedBatch check;
  rocksdb::Status s = part->Iterate(&check);
  if (!s.ok() || !check.sorted()) return db->Write(write_options, part);
  const std::string path = dir + "/bulk-" + std::to_string(++bulk_files) + ".sst";
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db->GetOptions());
  s = writer.Open(path);
  SortedBatch copy(&writer);
  if (s.ok()) s = part->Iterate(&copy);
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    s = db->IngestExternalFile({path}, ingest);
  }
  if (!s.ok()) {
    // Nothing of the part is in the database. A failed write (a full disk)
    // is the caller's; any other refusal, write it the usual way.
    std::remove(path.c_str());
    if (s.IsIOError()) return s;
    return db->Write(write_options, part);
  }
  ++ingested_files;
  return s;
}

RocksDbStateStore::RocksDbStateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbStateStore::~RocksDbStateStore() = default;

core::StatusOr<std::unique_ptr<RocksDbStateStore>> RocksDbStateStore::Open(
    const std::string& dir, const RocksDbOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  if (options.env != nullptr) db_options.env = options.env;
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.avoid_flush_during_shutdown = !options.flush_on_close;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // if that fails, so does Open, saying why
  db_options.info_log = std::make_shared<StateLog>(dir);
  db_options.compression = rocksdb::kLZ4Compression;
  if (options.bulk_load) {
    db_options.level0_file_num_compaction_trigger = kBulkLoadCompactionTrigger;
    db_options.level0_slowdown_writes_trigger = 1 << 30;
    db_options.level0_stop_writes_trigger = 1 << 30;
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &db);
  if (s.IsNoSpace()) return StateError(dir, "opening", s);
  if (!s.ok()) {
    return core::Status::Error("cannot open state directory " + dir + ": " + s.ToString() +
                               " (Hint: a writable directory that no other process is using)");
  }
  auto impl = std::make_unique<Impl>();
  impl->db.reset(db);
  if (options.bulk_load && Level0Files(db) >= kBulkLoadCompactAt) {
    // Earlier bulk loads into this directory left their files uncompacted:
    // compact them once, so reads do not have to look into every one.
    s = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
    if (!s.ok()) return StateError(dir, "compacting earlier bulk loads", s);
  }
  impl->write_options.sync = options.sync_writes;
  impl->write_options.disableWAL = !options.write_ahead_log;
  impl->indexed = options.read_your_writes;
  impl->dir = dir;
  if (options.bulk_load && !options.read_your_writes) {
    impl->bulk_batch_bytes = options.bulk_batch_bytes;
  }
  return std::unique_ptr<RocksDbStateStore>(new RocksDbStateStore(std::move(impl)));
}

bool RocksDbStateStore::Get(std::string_view key, std::string* value) {
  rocksdb::Slice k(key.data(), key.size());
  rocksdb::Status s =
      impl_->indexed
          ? impl_->batch.GetFromBatchAndDB(impl_->db.get(), impl_->read_options, k, value)
          : impl_->db->Get(impl_->read_options, k, value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) {
    if (read_status_.ok()) read_status_ = StateError(impl_->dir, "reading state", s);
    return false;
  }
  return true;
}

void RocksDbStateStore::Put(std::string_view key, std::string_view value) {
  rocksdb::Slice k(key.data(), key.size());
  rocksdb::Slice v(value.data(), value.size());
  if (impl_->indexed) {
    impl_->batch.Put(k, v);
  } else {
    impl_->plain.Put(k, v);
    if (impl_->bulk_batch_bytes > 0 && impl_->plain.GetDataSize() > impl_->bulk_batch_bytes) {
      // A bulk load writes a large commit in parts: no batch of hundreds of
      // megabytes next to the memtables. After a failed part the rest of the
      // commit is dropped: Commit() reports the failure.
      if (write_status_.ok()) {
        rocksdb::Status s = impl_->WriteBulk(&impl_->plain);
        if (!s.ok()) write_status_ = StateError(impl_->dir, "writing state", s);
      }
      impl_->plain.Clear();
    }
  }
}

void RocksDbStateStore::Delete(std::string_view key) {
  rocksdb::Slice k(key.data(), key.size());
  if (impl_->indexed) {
    impl_->batch.Delete(k);
  } else {
    impl_->plain.Delete(k);
  }
}

// An iterator over the committed state and, with read_your_writes, the staged batch.
std::unique_ptr<rocksdb::Iterator> RocksDbStateStore::NewIterator(
    const rocksdb::ReadOptions& options) {
  std::unique_ptr<rocksdb::Iterator> base(impl_->db->NewIterator(options));
  if (!impl_->indexed) return base;
  return std::unique_ptr<rocksdb::Iterator>(impl_->batch.NewIteratorWithBase(base.release()));
}

void RocksDbStateStore::Scan(std::string_view begin, std::string_view end,
                             const core::ScanVisitor& visit) {
  rocksdb::ReadOptions options = impl_->read_options;
  rocksdb::Slice upper(end.data(), end.size());
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(options);
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.compare(upper) >= 0) break;
    rocksdb::Slice v = it->value();
    if (!visit(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok() && read_status_.ok()) {
    read_status_ = StateError(impl_->dir, "scanning state", it->status());
  }
}

void RocksDbStateStore::ScanReverse(std::string_view begin, std::string_view end,
                                    const core::ScanVisitor& visit) {
  rocksdb::ReadOptions options = impl_->read_options;
  rocksdb::Slice lower(begin.data(), begin.size());
  rocksdb::Slice upper(end.data(), end.size());
  options.iterate_lower_bound = &lower;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(options);
  it->SeekForPrev(upper);
  for (; it->Valid(); it->Prev()) {
    rocksdb::Slice k = it->key();
    if (k.compare(upper) >= 0) continue;
    if (k.compare(lower) < 0) break;
    rocksdb::Slice v = it->value();
    if (!visit(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok() && read_status_.ok()) {
    read_status_ = StateError(impl_->dir, "scanning state", it->status());
  }
}

core::Status RocksDbStateStore::Commit() {
  if (!read_status_.ok()) return read_status_;
  if (!write_status_.ok()) return write_status_;
  if (impl_->staged()->Count() > 0) {
    rocksdb::Status s = impl_->bulk_batch_bytes > 0
                            ? impl_->WriteBulk(&impl_->plain)
                            : impl_->db->Write(impl_->write_options, impl_->staged());
    if (!s.ok()) return StateError(impl_->dir, "writing state", s);
  }
  impl_->batch.Clear();
  impl_->plain.Clear();
  return core::Status::Ok();
}

void RocksDbStateStore::Discard() {
  impl_->batch.Clear();
  impl_->plain.Clear();
  read_status_ = core::Status::Ok();
  write_status_ = core::Status::Ok();
}

core::Status RocksDbStateStore::Close() {
  if (auto s = Commit(); !s.ok()) return s;
  rocksdb::Status s = impl_->db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return StateError(impl_->dir, "flushing state", s);
  return core::Status::Ok();
}

size_t RocksDbStateStore::staged() const { return impl_->staged()->Count(); }

uint64_t RocksDbStateStore::ingested_files() const { return impl_->ingested_files; }

uint64_t RocksDbStateStore::level0_files() const { return Level0Files(impl_->db.get()); }

uint64_t RocksDbStateStore::ApproximateSize() const {
  uint64_t size = 0;
  impl_->db->GetIntProperty("rocksdb.total-sst-files-size", &size);
  uint64_t mem = 0;
  impl_->db->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return size + mem;
}

}  // namespace demerit::store
