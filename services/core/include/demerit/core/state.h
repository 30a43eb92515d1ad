#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace demerit::core {

// Every state key starts with the employee id and this separator; a scan
// never crosses from one employee's keys into another's.
constexpr char kKeySeparator = '\x1f';

// Called for each key in a scan, in byte order; return false to stop.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

// The engine's state: an ordered key-value store. Implementations: the
// in-memory MemoryStateStore (tests), and store::RocksDbStateStore.
// Reads see every earlier write of the same store.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // Returns true and sets *value when `key` is present.
  virtual bool Get(std::string_view key, std::string* value) = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  // Visits the keys in [begin, end), in ascending order.
  virtual void Scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) = 0;
  // Visits the keys in [begin, end), in descending order.
  virtual void ScanReverse(std::string_view begin, std::string_view end,
                           const ScanVisitor& visit) = 0;
};

// Keeps the state of recently active employees in memory, in front of a base
// store: an employee's keys are read with one range scan on first use, reads
// and writes are then served from memory, and Flush() writes the changes
// back. Least recently used employees leave memory once their state is
// written and the cache is over its budget.
//
// Point tables (keys employee, separator, table byte, ...) are the exception:
// their keys are read with Get() and never scanned (ScanCached() refuses, and
// Scan() aborts, when they are not all in memory), so they are not read on
// first use, a Get() of a key not in memory asks the base store, and a
// Flush() over the budget drops them from memory, before it drops whole
// employees. An employee's history of such records (every event it ever
// had) then costs neither a read nor memory until one of them is asked for.
class EmployeeStateCache final : public StateStore {
 public:
  struct Options {
    size_t max_bytes = size_t{256} << 20;  // approximate bytes of cached keys and values
    // Table bytes of the point tables: a Scan() must not cover their keys.
    std::string point_tables = "";
  };
  EmployeeStateCache(StateStore* base, Options options);
  ~EmployeeStateCache() override;

  bool Get(std::string_view key, std::string* value) override;
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;
  void Scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;
  void ScanReverse(std::string_view begin, std::string_view end,
                   const ScanVisitor& visit) override;

  // Visits the keys in [begin, end) if they belong to one employee whose
  // state is in memory, and returns true; returns false, visiting nothing
  // and loading nothing, otherwise.
  bool ScanCached(std::string_view begin, std::string_view end, const ScanVisitor& visit);

  // Writes every change since the last Flush() to the base store (which then
  // commits them its own way) and trims the cache to its budget. With point
  // tables, the cache reads the base store again later: a base store that
  // does not read its own staged writes must commit before the next read.
  void Flush();
  // Forgets every change since the last Flush(); the base store is untouched.
  void Discard();
  // Visits every change since the last Flush(): the key and its value, or
  // nullptr for a deleted key.
  void ForEachChange(const std::function<void(const std::string& key, const std::string* value)>&
                         visit) const;
  // Forgets every cached employee (after Flush(): nothing is lost).
  void Clear();
  // Whether anything changed since the last Flush() or Discard().
  bool has_changes() const;
  size_t cached_bytes() const { return bytes_; }
  size_t cached_employees() const;

 private:
  struct Employee;
  Employee& Find(std::string_view key);
  bool IsPointTable(unsigned char table) const;
  // Whether [begin, end) holds keys of a point table.
  bool CoversPointTable(std::string_view begin, std::string_view end) const;
  // Aborts when a scan of [begin, end) would miss point-table keys that are
  // only in the base store.
  void CheckNoPointTable(std::string_view begin, std::string_view end);
  StateStore* base_;
  Options options_;
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class MemoryStateStore final : public StateStore {
 public:
  bool Get(std::string_view key, std::string* value) override;
  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;
  void Scan(std::string_view begin, std::string_view end, const ScanVisitor& visit) override;
  void ScanReverse(std::string_view begin, std::string_view end,
                   const ScanVisitor& visit) override;
  size_t size() const { return data_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace demerit::core
