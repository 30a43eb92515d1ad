#include "demerit/core/state.h"

namespace demerit::core {

bool MemoryStateStore::Get(std::string_view key, std::string* value) {
  auto it = data_.find(key);
  if (it == data_.end()) return false;
  *value = it->second;
  return true;
}

void MemoryStateStore::Put(std::string_view key, std::string_view value) {
  data_.insert_or_assign(std::string(key), std::string(value));
}

void MemoryStateStore::Delete(std::string_view key) {
  auto it = data_.find(key);
  if (it != data_.end()) data_.erase(it);
}

void MemoryStateStore::Scan(std::string_view begin, std::string_view end,
                            const ScanVisitor& visit) {
  for (auto it = data_.lower_bound(begin); it != data_.end() && it->first < end; ++it) {
    if (!visit(it->first, it->second)) return;
  }
}

void MemoryStateStore::ScanReverse(std::string_view begin, std::string_view end,
                                   const ScanVisitor& visit) {
  auto it = data_.lower_bound(end);
  while (it != data_.begin()) {
    --it;
    if (it->first < begin) return;
    if (!visit(it->first, it->second)) return;
  }
}

}  // namespace demerit::core
