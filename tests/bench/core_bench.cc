// Google Benchmark of the core: Engine::Apply on a generated workload, with
// the in-memory store and with RocksDB state. Prints events per second.
//   build/tests/core_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "commands.h"
#include "demerit/core/engine.h"
#include "demerit/core/hash.h"
#include "demerit/store/rocksdb_state_store.h"
#include "../unit/core/test_rules.h"

namespace demerit {
namespace {

const std::vector<v1::Envelope>& Workload() {
  static const std::vector<v1::Envelope> events = [] {
    cli::GenOptions options;
    options.employees = 500;
    options.days = 30;
    options.seed = 42;
    auto e = cli::GenerateEvents(options, *testing::ShippedRules());
    if (!e.ok()) throw std::runtime_error(e.status().message());
    return std::move(*e);
  }();
  return events;
}

void BM_ApplyMemoryState(benchmark::State& st) {
  const auto& events = Workload();
  int64_t applied = 0;
  for (auto _ : st) {
    core::MemoryStateStore state;
    core::Engine engine(testing::ShippedRules(), &state);
    std::vector<v1::Decision> out;
    for (const auto& e : events) {
      out.clear();
      engine.Apply(e, &out);
      benchmark::DoNotOptimize(out.data());
    }
    applied += static_cast<int64_t>(events.size());
  }
  st.SetItemsProcessed(applied);
  st.counters["events"] = static_cast<double>(events.size());
}
BENCHMARK(BM_ApplyMemoryState)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ApplyRocksDbState(benchmark::State& st) {
  const auto& events = Workload();
  int64_t applied = 0;
  for (auto _ : st) {
    st.PauseTiming();
    std::string dir = (std::filesystem::temp_directory_path() / "demerit-bench-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) st.SkipWithError("mkdtemp failed");
    // As `demerit replay` does: active employees in memory, RocksDB at each
    // commit (every 2^18 events), no write-ahead log.
    auto store = store::RocksDbStateStore::Open(
        dir, store::RocksDbOptions{.read_your_writes = false, .write_ahead_log = false});
    if (!store.ok()) st.SkipWithError(store.status().message().c_str());
    core::EmployeeStateCache cache(
        store->get(),
        core::EmployeeStateCache::Options{.point_tables = std::string(core::kEnginePointTables)});
    core::Engine engine(testing::ShippedRules(), &cache);
    std::vector<v1::Decision> out;
    st.ResumeTiming();
    size_t n = 0;
    for (const auto& e : events) {
      out.clear();
      engine.Apply(e, &out);
      benchmark::DoNotOptimize(out.data());
      if (++n % (1 << 18) == 0) {
        cache.Flush();
        (void)(*store)->Commit();
      }
    }
    cache.Flush();
    (void)(*store)->Close();
    applied += static_cast<int64_t>(events.size());
    st.PauseTiming();
    store->reset();
    std::filesystem::remove_all(dir);
    st.ResumeTiming();
  }
  st.SetItemsProcessed(applied);
}
BENCHMARK(BM_ApplyRocksDbState)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ParseEventJson(benchmark::State& st) {
  std::string line = core::EventToJson(Workload()[7]);
  v1::Envelope e;
  for (auto _ : st) benchmark::DoNotOptimize(core::ParseEventJson(line, &e));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ParseEventJson);

// One decision as an NDJSON line (replay's output).
void BM_DecisionToJson(benchmark::State& st) {
  v1::Decision d;
  d.set_penalty_id("pen-0123456789abcdef0123456789abcdef");
  d.set_kind(v1::ISSUE);
  d.set_employee_id("emp-1234");
  d.set_site_id("hall-xinyang");
  d.set_rule_id("late-arrival");
  d.set_rule_version("0123456789ab");
  d.set_pack("public-service-hall");
  d.set_window("2026-11");
  d.set_occurrence(3);
  d.set_step(3);
  d.set_amount_minor(5000);
  d.set_currency("CNY");
  d.set_action(v1::WARNING);
  d.add_evidence_event_ids("emp-1234-d3-1");
  d.add_evidence_event_ids("emp-1234-d1-0");
  d.mutable_occurred_at()->set_seconds(1'795'000'000);
  d.set_reason("Late arrival: 3rd occurrence in 2026-11, fine 50.00 CNY, WARNING [§2.1]");
  d.set_counter("public-service-hall/late-arrival");
  d.set_clause("§2.1 迟到三次");
  for (auto _ : st) benchmark::DoNotOptimize(core::DecisionToJson(d));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_DecisionToJson);

// One decision id: the digest of a canonical text of about 200 bytes.
void BM_Sha256Hex(benchmark::State& st) {
  std::string text(200, 'x');
  for (auto _ : st) benchmark::DoNotOptimize(core::Sha256Hex(text));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Sha256Hex);

void BM_ParseEventBinary(benchmark::State& st) {
  std::string bytes = Workload()[7].SerializeAsString();
  v1::Envelope e;
  for (auto _ : st) benchmark::DoNotOptimize(core::ParseEventBinary(bytes, &e));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ParseEventBinary);

}  // namespace
}  // namespace demerit

BENCHMARK_MAIN();
