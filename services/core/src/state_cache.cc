#include <algorithm>
#include <unordered_map>
#include <vector>

#include "demerit/core/state.h"

namespace demerit::core {

namespace {

// A cached key's value; a deleted key stays as a tombstone until the next
// flush has deleted it in the base store.
struct Entry {
  std::string value;
  bool deleted = false;
  bool dirty = false;  // written or deleted since the last flush
};
using Entries = std::map<std::string, Entry, std::less<>>;

}  // namespace

struct EmployeeStateCache::Employee {
  Entries data;
  std::vector<Entries::iterator> dirty;  // entries with `dirty` set, each once
  size_t bytes = 0;
  uint64_t last_used = 0;

  void MarkDirty(Entries::iterator it) {
    if (it->second.dirty) return;
    it->second.dirty = true;
    dirty.push_back(it);
  }
  // The dirty entries in key order.
  std::vector<Entries::iterator> SortedDirty() const {
    std::vector<Entries::iterator> sorted = dirty;
    std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a->first < b->first; });
    return sorted;
  }
};

struct EmployeeStateCache::Impl {
  std::unordered_map<std::string, Employee> employees;
  std::vector<std::string> dirty_employees;
  std::string last_name;
  Employee* last = nullptr;
};

EmployeeStateCache::EmployeeStateCache(StateStore* base, Options options)
    : base_(base), options_(options), impl_(std::make_unique<Impl>()) {}

EmployeeStateCache::~EmployeeStateCache() = default;

size_t EmployeeStateCache::cached_employees() const { return impl_->employees.size(); }

EmployeeStateCache::Employee& EmployeeStateCache::Find(std::string_view key) {
  std::string_view name = key.substr(0, key.find(kKeySeparator));
  if (impl_->last != nullptr && impl_->last_name == name) {
    impl_->last->last_used = clock_;
    return *impl_->last;
  }
  auto [it, inserted] = impl_->employees.try_emplace(std::string(name));
  Employee& e = it->second;
  if (inserted) {
    std::string begin = std::string(name) + kKeySeparator;
    std::string end = std::string(name) + static_cast<char>(kKeySeparator + 1);
    base_->Scan(begin, end, [&](std::string_view k, std::string_view v) {
      e.data.emplace_hint(e.data.end(), std::string(k), Entry{.value = std::string(v)});
      e.bytes += k.size() + v.size() + 64;
      return true;
    });
    bytes_ += e.bytes;
  }
  e.last_used = clock_;
  impl_->last_name = std::string(name);
  impl_->last = &e;
  return e;
}

bool EmployeeStateCache::Get(std::string_view key, std::string* value) {
  Employee& e = Find(key);
  auto it = e.data.find(key);
  if (it == e.data.end() || it->second.deleted) return false;
  *value = it->second.value;
  return true;
}

void EmployeeStateCache::Put(std::string_view key, std::string_view value) {
  Employee& e = Find(key);
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  auto it = e.data.lower_bound(key);
  if (it == e.data.end() || it->first != key) {
    it = e.data.emplace_hint(it, std::string(key), Entry{.value = std::string(value)});
    e.bytes += key.size() + value.size() + 64;
    bytes_ += key.size() + value.size() + 64;
  } else {
    Entry& entry = it->second;
    e.bytes += value.size() - entry.value.size();
    bytes_ += value.size() - entry.value.size();
    entry.value.assign(value.data(), value.size());
    entry.deleted = false;
  }
  e.MarkDirty(it);
}

void EmployeeStateCache::Delete(std::string_view key) {
  Employee& e = Find(key);
  auto it = e.data.find(key);
  if (it == e.data.end() || it->second.deleted) return;
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  Entry& entry = it->second;
  e.bytes -= entry.value.size();
  bytes_ -= entry.value.size();
  entry.value.clear();
  entry.value.shrink_to_fit();
  entry.deleted = true;
  e.MarkDirty(it);
}

void EmployeeStateCache::Scan(std::string_view begin, std::string_view end,
                              const ScanVisitor& visit) {
  Employee& e = Find(begin);
  for (auto it = e.data.lower_bound(begin); it != e.data.end() && it->first < end; ++it) {
    if (it->second.deleted) continue;
    if (!visit(it->first, it->second.value)) return;
  }
}

void EmployeeStateCache::ScanReverse(std::string_view begin, std::string_view end,
                                     const ScanVisitor& visit) {
  Employee& e = Find(begin);
  auto it = e.data.lower_bound(end);
  while (it != e.data.begin()) {
    --it;
    if (it->first < begin) return;
    if (it->second.deleted) continue;
    if (!visit(it->first, it->second.value)) return;
  }
}

void EmployeeStateCache::Flush() {
  for (const std::string& name : impl_->dirty_employees) {
    auto found = impl_->employees.find(name);
    if (found == impl_->employees.end()) continue;
    Employee& e = found->second;
    for (Entries::iterator it : e.SortedDirty()) {
      if (it->second.deleted) {
        base_->Delete(it->first);
        e.bytes -= it->first.size() + 64;
        bytes_ -= it->first.size() + 64;
        e.data.erase(it);
      } else {
        base_->Put(it->first, it->second.value);
        it->second.dirty = false;
      }
    }
    e.dirty.clear();
  }
  impl_->dirty_employees.clear();
  ++clock_;
  if (bytes_ <= options_.max_bytes) return;
  // Evict the least recently used employees down to three quarters of the budget.
  std::vector<std::pair<uint64_t, const std::string*>> order;
  order.reserve(impl_->employees.size());
  for (const auto& [name, e] : impl_->employees) order.emplace_back(e.last_used, &name);
  std::sort(order.begin(), order.end());
  std::vector<std::string> evict;
  size_t bytes = bytes_;
  for (const auto& [used, name] : order) {
    if (bytes <= options_.max_bytes / 4 * 3) break;
    bytes -= impl_->employees.at(*name).bytes;
    evict.push_back(*name);
  }
  for (const auto& name : evict) {
    bytes_ -= impl_->employees.at(name).bytes;
    impl_->employees.erase(name);
  }
  impl_->last = nullptr;
  impl_->last_name.clear();
}

void EmployeeStateCache::ForEachChange(
    const std::function<void(const std::string& key, const std::string* value)>& visit) const {
  for (const std::string& name : impl_->dirty_employees) {
    auto found = impl_->employees.find(name);
    if (found == impl_->employees.end()) continue;
    for (Entries::iterator it : found->second.SortedDirty()) {
      visit(it->first, it->second.deleted ? nullptr : &it->second.value);
    }
  }
}

void EmployeeStateCache::Clear() {
  impl_->employees.clear();
  impl_->dirty_employees.clear();
  impl_->last = nullptr;
  impl_->last_name.clear();
  bytes_ = 0;
}

void EmployeeStateCache::Discard() {
  // Employees with changes are reloaded from the base store on next use.
  for (const std::string& name : impl_->dirty_employees) {
    auto found = impl_->employees.find(name);
    if (found == impl_->employees.end()) continue;
    bytes_ -= found->second.bytes;
    impl_->employees.erase(found);
  }
  impl_->dirty_employees.clear();
  impl_->last = nullptr;
  impl_->last_name.clear();
}

}  // namespace demerit::core
