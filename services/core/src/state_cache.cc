#include <algorithm>
#include <cstdio>
#include <cstdlib>
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
// What a cached entry costs besides its key and value bytes: its map node
// (tree links, key and value strings, flags: 104 bytes, 112 as allocated)
// and the rounding of the key's and value's heap blocks to allocation sizes.
constexpr size_t kEntryOverhead = 128;

// One table of an employee: keys without the employee prefix and table byte.
using Entries = std::map<std::string, Entry, std::less<>>;

struct Table {
  unsigned char id;
  Entries entries;
};

}  // namespace

// An employee's keys, table by table (keys are employee, separator, a table
// byte, then any bytes): smaller maps and shorter keys to compare.
struct EmployeeStateCache::Employee {
  std::string prefix;         // employee + separator
  std::vector<Table> tables;  // by id
  std::vector<std::pair<unsigned char, Entries::iterator>> dirty;  // `dirty` set, each once
  size_t bytes = 0;
  uint64_t last_used = 0;
  // Every key of the point tables in the base store is in memory too (none
  // was there when the employee was read, and none has been dropped since):
  // a key not in memory is in neither.
  bool points_complete = true;

  unsigned char TableOf(std::string_view key) const {
    return key.size() > prefix.size() ? static_cast<unsigned char>(key[prefix.size()]) : 0;
  }
  // The table of `key` (made when `create`) and the rest of the key after it.
  Entries* Locate(std::string_view key, bool create, std::string_view* rest) {
    unsigned char id = TableOf(key);
    *rest = key.size() > prefix.size() + 1 ? key.substr(prefix.size() + 1) : std::string_view();
    auto it = std::lower_bound(tables.begin(), tables.end(), id,
                               [](const Table& t, unsigned char v) { return t.id < v; });
    if (it != tables.end() && it->id == id) return &it->entries;
    if (!create) return nullptr;
    return &tables.insert(it, Table{id, {}})->entries;
  }
  std::string FullKey(unsigned char id, const std::string& rest) const {
    std::string key;
    key.reserve(prefix.size() + 1 + rest.size());
    key += prefix;
    key += static_cast<char>(id);
    key += rest;
    return key;
  }
  void MarkDirty(unsigned char id, Entries::iterator it) {
    if (it->second.dirty) return;
    it->second.dirty = true;
    dirty.emplace_back(id, it);
  }
  // The dirty entries in key order.
  std::vector<std::pair<unsigned char, Entries::iterator>> SortedDirty() const {
    auto sorted = dirty;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second->first < b.second->first;
    });
    return sorted;
  }
  // Visits the live entries of [begin, end) (full keys), forward or backward.
  template <typename Visit>
  void Range(std::string_view begin, std::string_view end, bool reverse, Visit&& visit);
};

template <typename Visit>
void EmployeeStateCache::Employee::Range(std::string_view begin, std::string_view end,
                                         bool reverse, Visit&& visit) {
  if (!(begin < end)) return;
  // Where the bounds fall: (table id, rest); an end past every key of the
  // employee has no table.
  auto position = [&](std::string_view key, int* id, std::string_view* rest) {
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) {
      *id = static_cast<unsigned char>(key[prefix.size()]);
      *rest = key.substr(prefix.size() + 1);
      return;
    }
    *id = key <= std::string_view(prefix) ? -1 : 256;
    *rest = std::string_view();
  };
  int begin_id, end_id;
  std::string_view begin_rest, end_rest;
  position(begin, &begin_id, &begin_rest);
  position(end, &end_id, &end_rest);
  std::string key = prefix;
  auto emit = [&](const Table& t, Entries::const_iterator it) {
    key.resize(prefix.size());
    key += static_cast<char>(t.id);
    key += it->first;
    return visit(std::string_view(key), std::string_view(it->second.value));
  };
  auto bounds = [&](const Table& t, Entries::const_iterator* lo, Entries::const_iterator* hi) {
    *lo = t.id == begin_id ? t.entries.lower_bound(begin_rest) : t.entries.begin();
    *hi = t.id == end_id ? t.entries.lower_bound(end_rest) : t.entries.end();
  };
  auto in_range = [&](const Table& t) { return t.id >= begin_id && t.id <= end_id; };
  if (!reverse) {
    for (const Table& t : tables) {
      if (!in_range(t)) continue;
      Entries::const_iterator it, hi;
      bounds(t, &it, &hi);
      for (; it != hi; ++it) {
        if (it->second.deleted) continue;
        if (!emit(t, it)) return;
      }
    }
    return;
  }
  for (auto table = tables.rbegin(); table != tables.rend(); ++table) {
    const Table& t = *table;
    if (!in_range(t)) continue;
    Entries::const_iterator lo, it;
    bounds(t, &lo, &it);
    while (it != lo) {
      --it;
      if (it->second.deleted) continue;
      if (!emit(t, it)) return;
    }
  }
}

struct EmployeeStateCache::Impl {
  std::unordered_map<std::string, Employee> employees;
  std::vector<std::string> dirty_employees;
  std::string last_name;
  Employee* last = nullptr;
};

EmployeeStateCache::EmployeeStateCache(StateStore* base, Options options)
    : base_(base), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  // In byte order, each once: Find() reads around them in that order.
  std::string& tables = options_.point_tables;
  std::sort(tables.begin(), tables.end(), [](char a, char b) {
    return static_cast<unsigned char>(a) < static_cast<unsigned char>(b);
  });
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
}

EmployeeStateCache::~EmployeeStateCache() = default;

size_t EmployeeStateCache::cached_employees() const { return impl_->employees.size(); }

bool EmployeeStateCache::has_changes() const { return !impl_->dirty_employees.empty(); }

bool EmployeeStateCache::IsPointTable(unsigned char table) const {
  return options_.point_tables.find(static_cast<char>(table)) != std::string::npos;
}

bool EmployeeStateCache::CoversPointTable(std::string_view begin, std::string_view end) const {
  if (options_.point_tables.empty()) return false;
  const size_t sep = begin.find(kKeySeparator);
  if (sep == std::string_view::npos) return true;  // not within one employee: assume so
  const std::string_view prefix = begin.substr(0, sep + 1);
  // Where the bounds fall, as table bytes: -1 before the employee's first
  // table, 256 past its last.
  const int first = begin.size() > prefix.size() ? static_cast<unsigned char>(begin[sep + 1]) : -1;
  int last = 256;
  bool last_has_rest = false;
  if (end <= prefix) return false;
  if (end.size() > prefix.size() && end.starts_with(prefix)) {
    last = static_cast<unsigned char>(end[sep + 1]);
    last_has_rest = end.size() > prefix.size() + 1;
  }
  for (char c : options_.point_tables) {
    const int t = static_cast<unsigned char>(c);
    // begin < prefix + (t + 1) and prefix + t < end.
    if (first <= t && (last > t || (last == t && last_has_rest))) return true;
  }
  return false;
}

void EmployeeStateCache::CheckNoPointTable(std::string_view begin, std::string_view end) {
  if (!CoversPointTable(begin, end) || Find(begin).points_complete) return;
  // Keys of a point table are in the base store and only partly in memory:
  // a scan would miss some. A caller's mistake, not a state of the data.
  std::fprintf(stderr, "EmployeeStateCache: a scan over a point table (%.*s...)\n",
               static_cast<int>(begin.size()), begin.data());
  std::abort();
}

EmployeeStateCache::Employee& EmployeeStateCache::Find(std::string_view key) {
  std::string_view name = key.substr(0, key.find(kKeySeparator));
  if (impl_->last != nullptr && impl_->last_name == name) {
    impl_->last->last_used = clock_;
    return *impl_->last;
  }
  // The clock moves whenever another employee is used: recency is by turns.
  ++clock_;
  auto [it, inserted] = impl_->employees.try_emplace(std::string(name));
  Employee& e = it->second;
  if (inserted) {
    e.prefix = std::string(name) + kKeySeparator;
    auto load = [&](std::string_view k, std::string_view v) {
      std::string_view rest;
      Entries* entries = e.Locate(k, true, &rest);
      entries->emplace_hint(entries->end(), std::string(rest), Entry{.value = std::string(v)});
      e.bytes += k.size() + v.size() + kEntryOverhead;
      return true;
    };
    // The employee's keys, skipping each point table (whose presence is
    // only probed); the point tables' bytes are in ascending order.
    const std::string employee_end = std::string(name) + static_cast<char>(kKeySeparator + 1);
    std::string from = e.prefix;
    for (char t : options_.point_tables) {
      std::string table = e.prefix + t;
      std::string after = static_cast<unsigned char>(t) == 0xff
                              ? employee_end
                              : e.prefix + static_cast<char>(t + 1);
      base_->Scan(from, table, load);
      base_->Scan(table, after, [&](std::string_view, std::string_view) {
        e.points_complete = false;
        return false;
      });
      from = after;
    }
    base_->Scan(from, employee_end, load);
    bytes_ += e.bytes;
  }
  e.last_used = clock_;
  impl_->last_name = std::string(name);
  impl_->last = &e;
  return e;
}

bool EmployeeStateCache::Get(std::string_view key, std::string* value) {
  Employee& e = Find(key);
  std::string_view rest;
  Entries* entries = e.Locate(key, false, &rest);
  auto it = entries != nullptr ? entries->find(rest) : Entries::iterator();
  if (entries == nullptr || it == entries->end()) {
    // Not in memory: a point table's key may still be in the base store.
    return !e.points_complete && IsPointTable(e.TableOf(key)) && base_->Get(key, value);
  }
  if (it->second.deleted) return false;
  *value = it->second.value;
  return true;
}

void EmployeeStateCache::Put(std::string_view key, std::string_view value) {
  Employee& e = Find(key);
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  std::string_view rest;
  Entries* entries = e.Locate(key, true, &rest);
  auto it = entries->lower_bound(rest);
  if (it == entries->end() || it->first != rest) {
    it = entries->emplace_hint(it, std::string(rest), Entry{.value = std::string(value)});
    e.bytes += key.size() + value.size() + kEntryOverhead;
    bytes_ += key.size() + value.size() + kEntryOverhead;
  } else {
    Entry& entry = it->second;
    e.bytes += value.size() - entry.value.size();
    bytes_ += value.size() - entry.value.size();
    entry.value.assign(value.data(), value.size());
    entry.deleted = false;
  }
  e.MarkDirty(e.TableOf(key), it);
}

void EmployeeStateCache::Delete(std::string_view key) {
  Employee& e = Find(key);
  std::string_view rest;
  const bool maybe_in_base = !e.points_complete && IsPointTable(e.TableOf(key));
  Entries* entries = e.Locate(key, maybe_in_base, &rest);
  if (entries == nullptr) return;
  auto it = entries->lower_bound(rest);
  if (it == entries->end() || it->first != rest) {
    std::string ignored;
    if (!maybe_in_base || !base_->Get(key, &ignored)) return;
    // A tombstone, so that the flush deletes the key in the base store.
    it = entries->emplace_hint(it, std::string(rest), Entry{});
    e.bytes += key.size() + kEntryOverhead;
    bytes_ += key.size() + kEntryOverhead;
  } else if (it->second.deleted) {
    return;
  }
  if (e.dirty.empty()) impl_->dirty_employees.emplace_back(key.substr(0, key.find(kKeySeparator)));
  Entry& entry = it->second;
  e.bytes -= entry.value.size();
  bytes_ -= entry.value.size();
  entry.value.clear();
  entry.value.shrink_to_fit();
  entry.deleted = true;
  e.MarkDirty(e.TableOf(key), it);
}

void EmployeeStateCache::Scan(std::string_view begin, std::string_view end,
                              const ScanVisitor& visit) {
  CheckNoPointTable(begin, end);
  Find(begin).Range(begin, end, false, visit);
}

bool EmployeeStateCache::ScanCached(std::string_view begin, std::string_view end,
                                    const ScanVisitor& visit) {
  size_t sep = begin.find(kKeySeparator);
  if (sep == std::string_view::npos) return false;
  std::string_view name = begin.substr(0, sep);
  std::string_view prefix = begin.substr(0, sep + 1);
  // `end` no further than the employee's last key: name + (separator + 1).
  bool within = end.starts_with(prefix) ||
                (end.size() == prefix.size() && end.starts_with(name) &&
                 end.back() == static_cast<char>(kKeySeparator + 1));
  if (!within) return false;
  auto found = impl_->employees.find(std::string(name));
  if (found == impl_->employees.end()) return false;
  if (!found->second.points_complete && CoversPointTable(begin, end)) return false;
  found->second.Range(begin, end, false, visit);
  return true;
}

void EmployeeStateCache::ScanReverse(std::string_view begin, std::string_view end,
                                     const ScanVisitor& visit) {
  CheckNoPointTable(begin, end);
  Find(begin).Range(begin, end, true, visit);
}

void EmployeeStateCache::Flush() {
  // Employees in id order, each one's keys in order: the base store gets its
  // writes in key order (ids hold no control character, so "a" kSep ... sorts
  // before "ab" kSep ...), which a RocksDB bulk load takes as SST files.
  std::sort(impl_->dirty_employees.begin(), impl_->dirty_employees.end());
  for (const std::string& name : impl_->dirty_employees) {
    auto found = impl_->employees.find(name);
    if (found == impl_->employees.end()) continue;
    Employee& e = found->second;
    for (auto [id, it] : e.SortedDirty()) {
      const std::string key = e.FullKey(id, it->first);
      if (it->second.deleted) {
        base_->Delete(key);
        e.bytes -= key.size() + kEntryOverhead;
        bytes_ -= key.size() + kEntryOverhead;
        std::string_view rest;
        e.Locate(key, false, &rest)->erase(it);
      } else {
        base_->Put(key, it->second.value);
        it->second.dirty = false;
      }
    }
    e.dirty.clear();
  }
  impl_->dirty_employees.clear();
  ++clock_;
  if (bytes_ <= options_.max_bytes) return;
  // Over the budget: the point tables' keys leave memory first (they are
  // all written now, and each can be read back on its own).
  for (auto& [name, e] : impl_->employees) {
    for (Table& t : e.tables) {
      if (t.entries.empty() || !IsPointTable(t.id)) continue;
      for (const auto& [rest, entry] : t.entries) {
        const size_t size = e.prefix.size() + 1 + rest.size() + entry.value.size() + kEntryOverhead;
        e.bytes -= size;
        bytes_ -= size;
      }
      t.entries.clear();
      e.points_complete = false;
    }
  }
  if (bytes_ <= options_.max_bytes / 4 * 3) return;
  // Then the least recently used employees, down to three quarters of the budget.
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
    for (auto [id, it] : e.SortedDirty()) {
      visit(e.FullKey(id, it->first), it->second.deleted ? nullptr : &it->second.value);
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
