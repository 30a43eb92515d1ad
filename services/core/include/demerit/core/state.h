#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace demerit::core {

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
