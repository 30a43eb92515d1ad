#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "demerit/core/state.h"

namespace demerit::core {

struct EmployeeStateCache::Employee {
  std::map<std::string, std::string, std::less<>> data;
  std::unordered_set<std::string> dirty;  // keys written or deleted since the last flush
  size_t bytes = 0;
  uint64_t last_used = 0;
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
      e.data.emplace_hint(e.data.end(), std::string(k), std::string(v));
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
  if (it == e.data.end()) return false;
  *value = it->second;
  return true;
}

void EmployeeStateCache::Put(std::string_view key, std::string_view value) {
  Employee& e = Find(key);
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  auto it = e.data.find(key);
  if (it == e.data.end()) {
    e.data.emplace(std::string(key), std::string(value));
    e.bytes += key.size() + value.size() + 64;
    bytes_ += key.size() + value.size() + 64;
  } else {
    e.bytes += value.size() - it->second.size();
    bytes_ += value.size() - it->second.size();
    it->second.assign(value.data(), value.size());
  }
  e.dirty.emplace(key);
}

void EmployeeStateCache::Delete(std::string_view key) {
  Employee& e = Find(key);
  auto it = e.data.find(key);
  if (it == e.data.end()) return;
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  e.bytes -= key.size() + it->second.size() + 64;
  bytes_ -= key.size() + it->second.size() + 64;
  e.data.erase(it);
  e.dirty.emplace(key);
}

void EmployeeStateCache::Scan(std::string_view begin, std::string_view end,
                              const ScanVisitor& visit) {
  Employee& e = Find(begin);
  for (auto it = e.data.lower_bound(begin); it != e.data.end() && it->first < end; ++it) {
    if (!visit(it->first, it->second)) return;
  }
}

void EmployeeStateCache::ScanReverse(std::string_view begin, std::string_view end,
                                     const ScanVisitor& visit) {
  Employee& e = Find(begin);
  auto it = e.data.lower_bound(end);
  while (it != e.data.begin()) {
    --it;
    if (it->first < begin) return;
    if (!visit(it->first, it->second)) return;
  }
}

void EmployeeStateCache::Flush() {
  for (const std::string& name : impl_->dirty_employees) {
    auto found = impl_->employees.find(name);
    if (found == impl_->employees.end()) continue;
    Employee& e = found->second;
    std::vector<const std::string*> keys;
    keys.reserve(e.dirty.size());
    for (const auto& k : e.dirty) keys.push_back(&k);
    std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
    for (const std::string* k : keys) {
      auto it = e.data.find(*k);
      if (it == e.data.end()) {
        base_->Delete(*k);
      } else {
        base_->Put(*k, it->second);
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
    const Employee& e = found->second;
    std::vector<const std::string*> keys;
    for (const auto& k : e.dirty) keys.push_back(&k);
    std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
    for (const std::string* k : keys) {
      auto it = e.data.find(*k);
      visit(*k, it == e.data.end() ? nullptr : &it->second);
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
