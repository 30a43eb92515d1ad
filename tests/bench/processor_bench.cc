// Benchmark tool for `demerit process` against a real broker. It prints
// figures; it never passes or fails on speed. ops/bench-processor.sh drives it.
//
//   processor_bench latency --bootstrap HOST:PORT [--rules DIR] [--rate 10000]
//       [--duration 30] [--warmup 3] [--batch 20] [--employees 2000]
//       [--start 2026-12-01]
//       [--seed 7] [--tag ID] [--linger-ms 1] [--drain-idle 5]
//       [--timer-rules missing-clock-out,missing-punch] [--probe-inputs 1]
//       [--topic-prefix P]  (topics: P + the default names, as in a processor's config)
//     With a processor already running and caught up: produces generated events
//     to the input topics at a fixed rate (paced by a steady clock, in small
//     batches) while a read_committed reader on the penalties topic receives
//     the decisions. For every ISSUE whose evidence_event_ids[0] (its trigger)
//     is an event of this run, latency = when the committed reader received the
//     decision - when that event was handed to the producer (send time; the
//     Producer wrapper has no delivery-report time). Prints count, p50, p90,
//     p99, max in ms, overall and per 5 s of sending. The first --warmup
//     seconds are sent at the same rate but left out of the figures. With
//     --probe-inputs 1 a third reader on the input topics also times send ->
//     readable by a consumer, the part before the processor.
//
//   processor_bench changelog --bootstrap HOST:PORT [--topic demerit.changelog]
//       [--records 1000000] [--value-bytes 100] [--keys-per-employee 50]
//       [--txn-records 20000]
//     Writes state records to a changelog topic the way the processor does:
//     transactionally, keys "employee\x1f<table>\x1f<rest>", each on the
//     partition of Murmur2(employee), as processor.cc's Commit() places them.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <google/protobuf/io/coded_stream.h>

#include "commands.h"
#include "demerit/core/facts.h"
#include "demerit/core/state.h"
#include "demerit/kafka/client.h"
#include "demerit/processor/config.h"
#include "demerit/processor/rule_files.h"
#include "demerit/v1/decision.pb.h"
#include "demerit/v1/events.pb.h"

namespace demerit {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// --name value pairs.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0 || i + 1 >= argc) {
        bad_ = "unexpected argument: " + a;
        return;
      }
      values_[a.substr(2)] = argv[++i];
    }
  }
  std::string Str(const std::string& name, const std::string& fallback) {
    used_.insert(name);
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  int64_t Int(const std::string& name, int64_t fallback) {
    std::string v = Str(name, "");
    return v.empty() ? fallback : std::stoll(v);
  }
  double Real(const std::string& name, double fallback) {
    std::string v = Str(name, "");
    return v.empty() ? fallback : std::stod(v);
  }
  // An error message for unknown or malformed arguments, empty when fine.
  std::string Check() const {
    if (!bad_.empty()) return bad_;
    for (const auto& [k, v] : values_) {
      if (!used_.count(k)) return "unknown option --" + k;
    }
    return "";
  }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
  std::string bad_;
};

// Prefixes the event id and the superseded id with `tag`, so that the events
// of this run are new to a processor that has seen other generated events.
template <typename M>
std::string Retag(M* m, const std::string& tag) {
  m->set_event_id(tag + m->event_id());
  if (!m->supersedes_event_id().empty()) {
    m->set_supersedes_event_id(tag + m->supersedes_event_id());
  }
  return m->SerializeAsString();
}

std::string RetagPayload(v1::Envelope* e, const std::string& tag) {
  switch (e->payload_case()) {
    case v1::Envelope::kAttendance: return Retag(e->mutable_attendance(), tag);
    case v1::Envelope::kCall: return Retag(e->mutable_call(), tag);
    case v1::Envelope::kVisit: return Retag(e->mutable_visit(), tag);
    case v1::Envelope::kCallback: return Retag(e->mutable_callback(), tag);
    case v1::Envelope::kObservation: return Retag(e->mutable_observation(), tag);
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return "";
}

struct Stats {
  size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

// Nearest-rank percentiles of latencies in ms.
Stats Summarise(std::vector<double> ms) {
  Stats s;
  s.count = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double p) {
    size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<size_t>(k, 1, ms.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p90 = rank(0.90);
  s.p99 = rank(0.99);
  s.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean = sum / static_cast<double>(ms.size());
  return s;
}

void PrintStats(const char* label, const Stats& s) {
  std::printf("%-44s count %7zu  p50 %8.1f  p90 %8.1f  p99 %8.1f  max %8.1f  mean %8.1f ms\n",
              label, s.count, s.p50, s.p90, s.p99, s.max, s.mean);
}

struct Received {
  int64_t at_ns;
  v1::DecisionKind kind;
  std::string trigger;  // evidence_event_ids[0]
  std::string rule_id;
};

int Latency(Args& args) {
  const std::string bootstrap = args.Str("bootstrap", "");
  const std::string rules_dir = args.Str("rules", "rules");
  const double rate = args.Real("rate", 10000);
  const double duration = args.Real("duration", 30);
  const double warmup = args.Real("warmup", 3);
  const int64_t batch = args.Int("batch", 20);
  const int employees = static_cast<int>(args.Int("employees", 2000));
  const std::string start = args.Str("start", "2026-12-01");
  const uint64_t seed = static_cast<uint64_t>(args.Int("seed", 7));
  const std::string tag = args.Str("tag", "lat" + std::to_string(::time(nullptr)) + "-");
  const std::string linger = args.Str("linger-ms", "1");
  const double drain_idle = args.Real("drain-idle", 5);
  const double drain_max = args.Real("drain-max", 120);
  const std::string topic_prefix = args.Str("topic-prefix", "");
  const bool probe_inputs = args.Int("probe-inputs", 1) != 0;
  const std::string timer_list = args.Str("timer-rules", "missing-clock-out,missing-punch");
  if (std::string e = args.Check(); !e.empty() || bootstrap.empty() || rate <= 0 || batch < 1) {
    std::cerr << (e.empty() ? "--bootstrap is required; --rate and --batch must be positive" : e)
              << "\n";
    return 2;
  }
  std::set<std::string> timer_rules;
  {
    std::stringstream in(timer_list);
    for (std::string r; std::getline(in, r, ',');) {
      if (!r.empty()) timer_rules.insert(r);
    }
  }
  processor::Topics topics;  // the default topic names, with --topic-prefix
  for (std::string* t : {&topics.attendance, &topics.calls, &topics.visits, &topics.callbacks,
                         &topics.observations, &topics.penalties, &topics.deadletter,
                         &topics.changelog}) {
    *t = topic_prefix + *t;
  }

  // The workload: enough generated events for rate x (warm-up + duration).
  auto rules = processor::LoadRuleDirectory(rules_dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return 3;
  }
  const size_t warm_n = static_cast<size_t>(rate * warmup);
  const size_t wanted = warm_n + static_cast<size_t>(rate * duration);
  cli::GenOptions gen;
  gen.employees = employees;
  gen.seed = seed;
  gen.start = start;
  gen.days = std::max<int>(1, static_cast<int>(wanted / (static_cast<size_t>(employees) * 7)) + 1);
  std::vector<v1::Envelope> events;
  while (true) {
    auto generated = cli::GenerateEvents(gen, **rules);
    if (!generated.ok()) {
      std::cerr << generated.status().message() << "\n";
      return 2;
    }
    events = std::move(*generated);
    if (events.size() >= wanted || gen.days > 400) break;
    gen.days += gen.days / 2 + 1;
  }
  if (events.size() > wanted) events.resize(wanted);
  struct Outgoing {
    std::string topic, key, value;
  };
  std::vector<Outgoing> out;
  out.reserve(events.size());
  std::unordered_map<std::string, size_t> index;  // event id -> first send
  index.reserve(events.size());
  for (auto& e : events) {
    std::string value = RetagPayload(&e, tag);
    core::EventHeader h = core::HeaderOf(e);
    index.emplace(*h.event_id, out.size());
    out.push_back({topics.InputOf(e), *h.employee_id, std::move(value)});
  }
  events.clear();
  events.shrink_to_fit();
  std::fprintf(stderr, "latency: %zu events (%d employees, %d days from %s, ids tagged %s)\n",
               out.size(), employees, gen.days, start.c_str(), tag.c_str());

  // The committed reader, positioned at the end of every penalties partition.
  kafka::ClientConfig client{bootstrap, {}};
  auto admin = kafka::Admin::Connect(client);
  if (!admin.ok()) {
    std::cerr << admin.status().message() << "\n";
    return 5;
  }
  const std::vector<std::string> inputs = {topics.attendance, topics.calls, topics.visits,
                                           topics.callbacks, topics.observations};
  std::vector<std::string> names = inputs;
  names.push_back(topics.penalties);
  auto counts = (*admin)->PartitionCounts(names, 10000);
  if (!counts.ok() || counts->size() != names.size()) {
    std::cerr << "missing topics (Hint: demerit topics creates them)\n";
    return 5;
  }
  auto reader = kafka::PartitionReader::Create(client);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return 5;
  }
  std::vector<kafka::TopicPartition> assignment;
  for (int p = 0; p < counts->at(topics.penalties); ++p) {
    int64_t low = 0, high = 0;
    if (auto s = (*reader)->Watermarks(topics.penalties, p, &low, &high, 10000); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 5;
    }
    assignment.push_back({topics.penalties, p, high});
  }
  if (auto s = (*reader)->Assign(assignment); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 5;
  }
  // The input probe: a second reader on the input topics, for the time from
  // the send of an event until any consumer can read it (the part of the
  // latency before the processor).
  std::unique_ptr<kafka::PartitionReader> probe;
  if (probe_inputs) {
    auto created = kafka::PartitionReader::Create(client);
    if (!created.ok()) {
      std::cerr << created.status().message() << "\n";
      return 5;
    }
    probe = std::move(*created);
    std::vector<kafka::TopicPartition> at_end;
    for (const std::string& t : inputs) {
      for (int p = 0; p < counts->at(t); ++p) {
        int64_t low = 0, high = 0;
        if (auto s = probe->Watermarks(t, p, &low, &high, 10000); !s.ok()) {
          std::cerr << s.message() << "\n";
          return 5;
        }
        at_end.push_back({t, p, high});
      }
    }
    if (auto s = probe->Assign(at_end); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 5;
    }
  }
  std::vector<std::pair<int64_t, std::string>> probed;  // (received at, event id)
  std::vector<Received> received;
  std::atomic<bool> stop_reading{false};
  std::atomic<int64_t> last_received_ns{0};
  std::atomic<int64_t> received_count{0};
  std::thread reading([&] {
    v1::Decision d;
    while (!stop_reading.load()) {
      kafka::KafkaStatus error;
      auto record = (*reader)->Poll(100, &error);
      if (!record) continue;
      int64_t at = NowNs();
      last_received_ns = at;
      ++received_count;
      if (!d.ParseFromString(record->value)) continue;
      received.push_back({at, d.kind(),
                          d.evidence_event_ids_size() > 0 ? d.evidence_event_ids(0) : "",
                          d.rule_id()});
    }
  });
  std::thread probing([&] {
    if (!probe) return;
    while (!stop_reading.load()) {
      kafka::KafkaStatus error;
      auto record = probe->Poll(100, &error);
      if (!record) continue;
      int64_t at = NowNs();
      // event_id is field 1 of every input message, and the first on the wire.
      google::protobuf::io::CodedInputStream in(
          reinterpret_cast<const uint8_t*>(record->value.data()),
          static_cast<int>(record->value.size()));
      uint32_t length = 0;
      std::string id;
      if (in.ReadTag() == ((1u << 3) | 2u) && in.ReadVarint32(&length) &&
          in.ReadString(&id, static_cast<int>(length))) {
        probed.emplace_back(at, std::move(id));
      }
    }
  });
  // Let the readers join their partitions before the first event is sent.
  std::this_thread::sleep_for(std::chrono::seconds(1));

  auto producer = kafka::Producer::Create({bootstrap, {{"linger.ms", linger}}});
  if (!producer.ok()) {
    std::cerr << producer.status().message() << "\n";
    stop_reading = true;
    reading.join();
    probing.join();
    return 5;
  }
  std::vector<int64_t> sent_ns(out.size(), 0);
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 * batch / rate));
  const auto t0 = Clock::now();
  double max_behind_ms = 0;
  size_t next = 0;
  for (int64_t k = 0; next < out.size(); ++k) {
    auto due = t0 + k * period;
    auto now = Clock::now();
    if (now < due) {
      std::this_thread::sleep_until(due);
    } else {
      max_behind_ms =
          std::max(max_behind_ms, std::chrono::duration<double, std::milli>(now - due).count());
    }
    for (int64_t i = 0; i < batch && next < out.size(); ++i, ++next) {
      sent_ns[next] = NowNs();
      if (auto s = (*producer)->Produce(out[next].topic, out[next].key, out[next].value);
          !s.ok()) {
        std::cerr << s.message() << "\n";
        stop_reading = true;
        reading.join();
        probing.join();
        return 5;
      }
    }
  }
  const double send_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (auto s = (*producer)->Flush(60000); !s.ok()) std::cerr << s.message() << "\n";
  // Drain: until no decision has arrived for drain_idle seconds (bounded).
  const auto sent_end = Clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double idle = static_cast<double>(NowNs() - std::max(last_received_ns.load(),
                                                         sent_ns.empty() ? 0 : sent_ns.back())) /
                  1e9;
    double waited = std::chrono::duration<double>(Clock::now() - sent_end).count();
    if (idle >= drain_idle || waited >= drain_max) break;
  }
  stop_reading = true;
  reading.join();
  probing.join();

  // Latencies, per ISSUE whose trigger is an event of this run. Only the first
  // ISSUE per trigger counts: later ones are re-issues caused by other events
  // (re-ranking, a correction), so their trigger's send time is not their cause.
  // Triggers sent during the warm-up (the producer's first metadata requests,
  // the readers' first fetches) are left out.
  std::vector<double> all_ms, arrival_ms, timer_ms;
  const double window_secs = 5;
  std::map<int, std::vector<double>> windows;  // arrival latencies by send time
  int64_t warm_skipped = 0;
  std::set<std::string> seen;
  int64_t issues = 0, reversals = 0, foreign = 0, reissues = 0;
  for (const auto& r : received) {
    if (r.kind == v1::REVERSAL) {
      ++reversals;
      continue;
    }
    ++issues;
    auto it = index.find(r.trigger);
    if (it == index.end()) {
      ++foreign;
      continue;
    }
    if (!seen.insert(r.trigger).second) {
      ++reissues;
      continue;
    }
    double ms = static_cast<double>(r.at_ns - sent_ns[it->second]) / 1e6;
    double sent_at = static_cast<double>(sent_ns[it->second] - sent_ns[0]) / 1e9;
    if (!timer_rules.count(r.rule_id)) {
      windows[static_cast<int>(std::floor((sent_at - warmup) / window_secs))].push_back(ms);
    }
    if (it->second < warm_n) {
      ++warm_skipped;
      continue;
    }
    all_ms.push_back(ms);
    (timer_rules.count(r.rule_id) ? timer_ms : arrival_ms).push_back(ms);
  }
  std::printf("latency: %zu events sent in %.2f s (%.0f events/s, target %.0f, batches of %lld; "
              "pacing fell behind by at most %.1f ms)\n",
              out.size(), send_secs, static_cast<double>(out.size()) / send_secs, rate,
              static_cast<long long>(batch), max_behind_ms);
  std::printf("latency: time 0 = send time (just before Producer::Produce, linger.ms=%s), not the "
              "broker's append: the Producer wrapper reports no delivery time\n",
              linger.c_str());
  std::printf("latency: end = decision received by a read_committed reader on %s (so after the "
              "processor's transaction committed)\n",
              topics.penalties.c_str());
  std::printf("latency: decisions received %lld: %lld ISSUE, %lld REVERSAL; of the issues %lld "
              "re-issues of a trigger already counted, %lld with a trigger from before this run\n",
              static_cast<long long>(received_count.load()), static_cast<long long>(issues),
              static_cast<long long>(reversals), static_cast<long long>(reissues),
              static_cast<long long>(foreign));
  const size_t measured = out.size() - std::min(out.size(), warm_n);
  std::printf("latency: the first %.0f s (%zu events, %lld first issues) are a warm-up, left out; "
              "decisions exist only for events that trigger a rule: %zu of the %zu events after "
              "it (%.1f%%) were the trigger of an issue\n",
              warmup, std::min(out.size(), warm_n), static_cast<long long>(warm_skipped),
              all_ms.size(), measured,
              measured == 0 ? 0.0 : 100.0 * static_cast<double>(all_ms.size()) /
                                        static_cast<double>(measured));
  if (probe) {
    std::vector<double> input_ms;
    std::vector<bool> first(out.size(), true);
    for (const auto& [at, id] : probed) {
      auto it = index.find(id);
      if (it == index.end() || it->second < warm_n || !first[it->second]) continue;
      first[it->second] = false;
      input_ms.push_back(static_cast<double>(at - sent_ns[it->second]) / 1e6);
    }
    PrintStats("input: send to readable by a consumer:", Summarise(input_ms));
  }
  PrintStats("latency all first issues:", Summarise(all_ms));
  PrintStats("latency issued on the trigger's arrival:", Summarise(arrival_ms));
  PrintStats("latency timer rules (fire on a later event):", Summarise(timer_ms));
  for (auto& [w, ms] : windows) {
    char label[96];
    std::snprintf(label, sizeof label, "  on arrival, sent %+5.0f..%+.0f s%s:", w * window_secs,
                  (w + 1) * window_secs, w < 0 ? " (warm-up)" : "");
    PrintStats(label, Summarise(std::move(ms)));
  }
  // A machine-readable line for ops/bench-processor.sh.
  Stats a = Summarise(arrival_ms);
  std::printf("RESULT latency count=%zu p50=%.1f p90=%.1f p99=%.1f max=%.1f rate=%.0f\n", a.count,
              a.p50, a.p90, a.p99, a.max, static_cast<double>(out.size()) / send_secs);
  return 0;
}

// SplitMix64, for reproducible values.
uint64_t Mix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int Changelog(Args& args) {
  const std::string bootstrap = args.Str("bootstrap", "");
  const std::string topic = args.Str("topic", "demerit.changelog");
  const int64_t records = args.Int("records", 1000000);
  const int64_t value_bytes = args.Int("value-bytes", 100);
  const int64_t per_employee = args.Int("keys-per-employee", 50);
  const int64_t per_txn = args.Int("txn-records", 20000);
  if (std::string e = args.Check(); !e.empty() || bootstrap.empty() || records < 1 ||
                                    per_employee < 1 || per_txn < 1) {
    std::cerr << (e.empty() ? "--bootstrap is required; sizes must be positive" : e) << "\n";
    return 2;
  }
  kafka::ClientConfig client{bootstrap, {}};
  auto admin = kafka::Admin::Connect(client);
  if (!admin.ok()) {
    std::cerr << admin.status().message() << "\n";
    return 5;
  }
  auto counts = (*admin)->PartitionCounts({topic}, 10000);
  if (!counts.ok() || !counts->count(topic)) {
    std::cerr << "no topic " << topic << "\n";
    return 5;
  }
  const int partitions = counts->at(topic);
  auto producer = kafka::TransactionalProducer::Create(
      client, "demerit-bench-changelog-" + std::to_string(::getpid()));
  if (!producer.ok()) {
    std::cerr << producer.status().message() << "\n";
    return 5;
  }
  if (auto s = (*producer)->InitTransactions(30000); !s.ok()) {
    std::cerr << "init transactions: " << s.message << "\n";
    return 5;
  }
  const char tables[] = {'e', 'o', 'i', 'w', 'm'};
  uint64_t rng = 20261129;
  std::vector<int64_t> per_partition(partitions, 0);
  int64_t bytes = 0;
  auto t0 = Clock::now();
  std::string value(static_cast<size_t>(value_bytes), '\0');
  for (int64_t n = 0; n < records;) {
    if (auto s = (*producer)->BeginTransaction(); !s.ok()) {
      std::cerr << "begin: " << s.message << "\n";
      return 5;
    }
    for (int64_t i = 0; i < per_txn && n < records; ++i, ++n) {
      int64_t e = n / per_employee, j = n % per_employee;
      std::string employee = "emp-" + std::to_string(e);
      std::string key = employee + core::kKeySeparator + tables[j % 5] + core::kKeySeparator +
                        employee + "-d" + std::to_string(j / 5) + "-" + std::to_string(j);
      for (size_t b = 0; b < value.size(); b += 8) {
        uint64_t r = Mix(rng);
        std::memcpy(value.data() + b, &r, std::min<size_t>(8, value.size() - b));
      }
      int32_t p = kafka::Murmur2Partition(employee, partitions);
      ++per_partition[p];
      bytes += static_cast<int64_t>(key.size() + value.size());
      if (auto s = (*producer)->Produce(topic, p, key, value); !s.ok()) {
        std::cerr << "produce: " << s.message << "\n";
        return 5;
      }
      if ((i & 1023) == 0) (*producer)->Poll();
    }
    if (auto s = (*producer)->Commit(); !s.ok()) {
      std::cerr << "commit: " << s.message << "\n";
      return 5;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string split;
  for (int p = 0; p < partitions; ++p) {
    split += (p ? ", " : "") + std::to_string(per_partition[p]);
  }
  std::printf("changelog: %lld records (%lld bytes of keys and values, %lld employees) to %s in "
              "%.2f s (%.0f records/s); per partition: %s\n",
              static_cast<long long>(records), static_cast<long long>(bytes),
              static_cast<long long>((records + per_employee - 1) / per_employee), topic.c_str(),
              secs, static_cast<double>(records) / secs, split.c_str());
  return 0;
}

}  // namespace
}  // namespace demerit

int main(int argc, char** argv) {
  const char* usage =
      "usage: processor_bench latency --bootstrap HOST:PORT [--rules DIR] [--rate N] "
      "[--duration S] ...\n"
      "       processor_bench changelog --bootstrap HOST:PORT [--topic T] [--records N] ...\n"
      "(options are described at the top of tests/bench/processor_bench.cc)\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string command = argv[1];
  demerit::Args args(argc, argv, 2);
  try {
    if (command == "latency") return demerit::Latency(args);
    if (command == "changelog") return demerit::Changelog(args);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  std::cerr << usage;
  return 2;
}
