#include "demerit/metrics/metrics.h"

#include <civetweb.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>

#include "demerit/core/facts.h"

namespace demerit::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

namespace {

Histogram::BucketBoundaries Exponential(double start, double factor, int count) {
  Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

// Buckets of the per-event histograms (built once).
const Histogram::BucketBoundaries kPunchBuckets{0, 60, 300, 900, 1800, 3600, 7200};
const Histogram::BucketBoundaries kRingBuckets{1, 2, 3, 4, 5, 6, 8, 10};
const Histogram::BucketBoundaries kHoldBuckets{10, 30, 60, 120, 300, 600};
const Histogram::BucketBoundaries kArrivalBuckets{900,   1800,  3600,   7200,
                                                  14400, 86400, 172800, 259200};
const Histogram::BucketBoundaries kLagBuckets{0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400};

// Metric handles by family and label values. Family::Add builds a map of
// labels, hashes it and takes a lock on every call; the per-event paths look
// their handles up here instead, by the label values alone. Used by the one
// thread that applies events.
template <typename T>
class Handles {
 public:
  using LabelList = std::initializer_list<std::pair<const char*, std::string_view>>;

  template <typename... Args>
  T& Get(Family<T>& family, LabelList labels, const Args&... args) {
    const void* address = &family;  // the family, then the label values
    key_.assign(reinterpret_cast<const char*>(&address), sizeof(address));
    for (const auto& [name, value] : labels) {
      key_ += '\x1f';
      key_.append(value);
    }
    auto it = handles_.find(key_);
    if (it != handles_.end()) return *it->second;
    prometheus::Labels map;
    for (const auto& [name, value] : labels) map.emplace(name, std::string(value));
    T& made = family.Add(map, args...);
    handles_.emplace(key_, &made);
    return made;
  }

 private:
  std::string key_;
  std::unordered_map<std::string, T*> handles_;
};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& consumed = BuildCounter()
                                  .Name("demerit_events_consumed_total")
                                  .Help("Input records decoded and applied")
                                  .Register(*registry);
  Family<Counter>& duplicates = BuildCounter()
                                    .Name("demerit_events_duplicate_total")
                                    .Help("Records whose event_id was seen before")
                                    .Register(*registry);
  Family<Counter>& dead = BuildCounter()
                              .Name("demerit_events_deadlettered_total")
                              .Help("Records sent to the dead-letter topic, by reason")
                              .Register(*registry);
  Family<Gauge>& last_event = BuildGauge()
                                  .Name("demerit_last_event_timestamp_seconds")
                                  .Help("occurred_at of the latest event of a site")
                                  .Register(*registry);
  Family<Gauge>& shift_open = BuildGauge()
                                  .Name("demerit_site_shift_open")
                                  .Help("1 while the site's default shift is under way, else 0")
                                  .Register(*registry);
  Family<Gauge>& shift_started = BuildGauge()
                                     .Name("demerit_site_shift_started_timestamp_seconds")
                                     .Help("Start of the site's shift under way (0 between shifts)")
                                     .Register(*registry);
  std::set<std::string> shift_sites;  // the sites of the two families above
  Family<Counter>& occurrences = BuildCounter()
                                     .Name("demerit_occurrences_total")
                                     .Help("Rule matches counted on ladders")
                                     .Register(*registry);
  Family<Counter>& decisions = BuildCounter()
                                   .Name("demerit_decisions_total")
                                   .Help("Decisions emitted; kind = issue or reversal")
                                   .Register(*registry);
  Family<Counter>& fines = BuildCounter()
                               .Name("demerit_fines_minor_total")
                               .Help("Fine amounts in minor units, issued or reversed")
                               .Register(*registry);
  Family<Counter>& capped = BuildCounter()
                                .Name("demerit_capped_minor_total")
                                .Help("Amounts a guardrail held back, in minor units")
                                .Register(*registry);
  Family<Histogram>& punch = BuildHistogram()
                                 .Name("demerit_punch_offset_seconds")
                                 .Help("Lateness of clock-ins (late) and earliness of clock-outs "
                                       "(early), seconds")
                                 .Register(*registry);
  Family<Histogram>& rings = BuildHistogram()
                                 .Name("demerit_call_rings_before_answer")
                                 .Help("Rings before an answered call")
                                 .Register(*registry);
  Family<Histogram>& hold = BuildHistogram()
                                .Name("demerit_call_hold_seconds")
                                .Help("Hold time of calls, seconds")
                                .Register(*registry);
  Family<Histogram>& arrival = BuildHistogram()
                                   .Name("demerit_visit_arrival_delay_seconds")
                                   .Help("arrived_at - dispatched_at of field visits, seconds")
                                   .Register(*registry);
  Family<Histogram>& lag = BuildHistogram()
                               .Name("demerit_event_time_lag_seconds")
                               .Help("Processing time minus occurred_at, seconds")
                               .Register(*registry);
  Family<Histogram>& evaluation = BuildHistogram()
                                      .Name("demerit_rule_evaluation_seconds")
                                      .Help("Time to apply one event, seconds")
                                      .Register(*registry);
  Family<Histogram>& commit = BuildHistogram()
                                  .Name("demerit_transaction_commit_seconds")
                                  .Help("Kafka transaction commit latency, seconds")
                                  .Register(*registry);
  Family<Counter>& transactions = BuildCounter()
                                      .Name("demerit_transactions_total")
                                      .Help("Kafka transactions by result")
                                      .Register(*registry);
  Family<Gauge>& consumer_lag = BuildGauge()
                                    .Name("demerit_consumer_lag_records")
                                    .Help("High watermark minus position, per input partition")
                                    .Register(*registry);
  Family<Gauge>& restore_seconds = BuildGauge()
                                       .Name("demerit_state_restore_seconds")
                                       .Help("Duration of the last state restore of a partition")
                                       .Register(*registry);
  Family<Counter>& restore_records = BuildCounter()
                                         .Name("demerit_state_restore_records_total")
                                         .Help("Changelog records restored")
                                         .Register(*registry);
  Family<Counter>& restore_bytes = BuildCounter()
                                       .Name("demerit_state_restore_bytes_total")
                                       .Help("Changelog bytes restored")
                                       .Register(*registry);
  Family<Gauge>& restoring = BuildGauge()
                                 .Name("demerit_state_restoring")
                                 .Help("1 while any partition restores")
                                 .Register(*registry);
  Family<Gauge>& assigned = BuildGauge()
                                .Name("demerit_assigned_partitions")
                                .Help("Number of input partition numbers assigned here")
                                .Register(*registry);
  Family<Gauge>& ready = BuildGauge()
                             .Name("demerit_ready")
                             .Help("1 when state is restored and the consumer runs")
                             .Register(*registry);
  Family<Gauge>& rules = BuildGauge()
                             .Name("demerit_rules_info")
                             .Help("1 for the rules version in force")
                             .Register(*registry);
  Family<Counter>& reloads = BuildCounter()
                                 .Name("demerit_rules_reload_total")
                                 .Help("Rules reloads by result")
                                 .Register(*registry);
  Family<Counter>& edited_in_place = BuildCounter()
                                         .Name("demerit_rules_edited_in_place_total")
                                         .Help(
                                             "Rules in force changed without a new "
                                             "effective_from, seen at a start or reload")
                                         .Register(*registry);
  Family<Gauge>& build = BuildGauge()
                             .Name("demerit_build_info")
                             .Help("1, with the version of demerit")
                             .Register(*registry);
  std::mutex mu;  // guards label bookkeeping below
  std::string rules_version;
  Handles<Counter> counters;
  Handles<Gauge> gauges;
  Handles<Histogram> histograms;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  impl_->build.Add({{"version", "0.1.0"}}).Set(1);
  for (const char* r : {"committed", "aborted", "failed"}) impl_->transactions.Add({{"result", r}});
  for (const char* r : {"ok", "failed"}) impl_->reloads.Add({{"result", r}});
  impl_->restoring.Add({}).Set(0);
  impl_->assigned.Add({}).Set(0);
  impl_->ready.Add({}).Set(0);
  impl_->evaluation.Add({}, Exponential(1e-6, 4, 8));
  impl_->commit.Add({}, Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1, 2.5, 5});
}

Metrics::~Metrics() = default;

void Metrics::EventApplied(const v1::Envelope& event, const core::Site& site, bool duplicate) {
  core::Stream stream;
  if (!core::StreamOf(event, &stream)) return;
  const std::string_view s = core::StreamName(stream);
  const std::string& id = site.id;
  if (duplicate) {
    impl_->counters.Get(impl_->duplicates, {{"site", id}, {"stream", s}}).Increment();
    return;
  }
  impl_->counters.Get(impl_->consumed, {{"site", id}, {"stream", s}}).Increment();
  core::EventHeader h = core::HeaderOf(event);
  double seconds = static_cast<double>(h.occurred_at) / core::kNanosPerSecond;
  Gauge& last = impl_->gauges.Get(impl_->last_event, {{"site", id}});
  if (seconds > last.Value()) last.Set(seconds);
  if (h.is_void) return;
  core::FactValues f = core::ComputeFacts(event, site);
  auto& histograms = impl_->histograms;
  if (event.has_attendance()) {
    // Facts 1 and 2 of attendance: late_seconds, early_seconds.
    if (f[1].present) {
      histograms.Get(impl_->punch, {{"site", id}, {"kind", "late"}}, kPunchBuckets)
          .Observe(static_cast<double>(std::max<int64_t>(0, f[1].value)));
    }
    if (f[2].present) {
      histograms.Get(impl_->punch, {{"site", id}, {"kind", "early"}}, kPunchBuckets)
          .Observe(static_cast<double>(std::max<int64_t>(0, f[2].value)));
    }
  } else if (event.has_call()) {
    const auto& c = event.call();
    if (c.has_answered() && c.answered() && c.has_rings_before_answer()) {
      histograms.Get(impl_->rings, {{"site", id}}, kRingBuckets).Observe(c.rings_before_answer());
    }
    if (c.has_hold_seconds()) {
      histograms.Get(impl_->hold, {{"site", id}}, kHoldBuckets).Observe(c.hold_seconds());
    }
  } else if (event.has_visit()) {
    // Fact 4 of visits: arrival_delay_seconds.
    if (f[4].present) {
      const std::string& locality =
          v1::VisitCompletion::Locality_Name(event.visit().locality());
      histograms.Get(impl_->arrival, {{"site", id}, {"locality", locality}}, kArrivalBuckets)
          .Observe(static_cast<double>(f[4].value));
    }
  }
}

void Metrics::DeadLettered(const std::string& stream, const std::string& reason) {
  impl_->dead.Add({{"stream", stream}, {"reason", reason}}).Increment();
}

void Metrics::Occurrence(const std::string& site, const std::string& pack,
                         const std::string& rule) {
  impl_->counters.Get(impl_->occurrences, {{"site", site}, {"pack", pack}, {"rule", rule}})
      .Increment();
}

void Metrics::DecisionMade(const v1::Decision& d) {
  const bool reversal = d.kind() == v1::REVERSAL;
  const std::string_view kind = reversal ? "reversal" : "issue";
  auto& counters = impl_->counters;
  counters
      .Get(impl_->decisions, {{"site", d.site_id()},
                              {"pack", d.pack()},
                              {"rule", d.rule_id()},
                              {"action", v1::Action_Name(d.action())},
                              {"kind", kind}})
      .Increment();
  if (d.amount_minor() > 0) {
    counters
        .Get(impl_->fines, {{"site", d.site_id()},
                            {"pack", d.pack()},
                            {"rule", d.rule_id()},
                            {"currency", d.currency()},
                            {"kind", kind}})
        .Increment(static_cast<double>(d.amount_minor()));
  }
  if (d.capped_minor() > 0 && !reversal) {
    counters
        .Get(impl_->capped,
             {{"site", d.site_id()}, {"currency", d.currency()}, {"guardrail", d.guardrail()}})
        .Increment(static_cast<double>(d.capped_minor()));
  }
}

void Metrics::EventTimeLag(const std::string& stream, double seconds) {
  impl_->histograms.Get(impl_->lag, {{"stream", stream}}, kLagBuckets).Observe(seconds);
}

void Metrics::RuleEvaluation(double seconds) {
  static const Histogram::BucketBoundaries kBuckets = Exponential(1e-6, 4, 8);
  impl_->histograms.Get(impl_->evaluation, {}, kBuckets).Observe(seconds);
}

void Metrics::TransactionCommitted(double seconds) {
  impl_->commit
      .Add({}, Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
      .Observe(seconds);
  impl_->transactions.Add({{"result", "committed"}}).Increment();
}

void Metrics::TransactionAborted() { impl_->transactions.Add({{"result", "aborted"}}).Increment(); }
void Metrics::TransactionFailed() { impl_->transactions.Add({{"result", "failed"}}).Increment(); }

void Metrics::ConsumerLag(const std::string& topic, int32_t partition, int64_t lag) {
  impl_->consumer_lag.Add({{"topic", topic}, {"partition", std::to_string(partition)}})
      .Set(static_cast<double>(lag));
}

void Metrics::RestoreDone(int32_t partition, double seconds, int64_t records, int64_t bytes) {
  prometheus::Labels labels = {{"partition", std::to_string(partition)}};
  impl_->restore_seconds.Add(labels).Set(seconds);
  impl_->restore_records.Add(labels).Increment(static_cast<double>(records));
  impl_->restore_bytes.Add(labels).Increment(static_cast<double>(bytes));
}

void Metrics::SetRestoring(bool restoring) { impl_->restoring.Add({}).Set(restoring ? 1 : 0); }
void Metrics::SetAssignedPartitions(int count) { impl_->assigned.Add({}).Set(count); }
void Metrics::SetReady(bool ready) { impl_->ready.Add({}).Set(ready ? 1 : 0); }

void Metrics::RulesInForce(const std::string& version) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->rules_version.empty()) {
    impl_->rules.Remove(&impl_->rules.Add({{"version", impl_->rules_version}}));
  }
  impl_->rules_version = version;
  impl_->rules.Add({{"version", version}}).Set(1);
}

void Metrics::SiteShifts(const core::RuleSet& rules, core::Nanos now) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::set<std::string> sites;
  for (const auto& [id, site] : rules.sites()) {
    std::optional<core::Nanos> started = site.ShiftUnderWay(now);
    impl_->shift_open.Add({{"site", id}}).Set(started ? 1 : 0);
    impl_->shift_started.Add({{"site", id}})
        .Set(started ? static_cast<double>(*started) / core::kNanosPerSecond : 0);
    sites.insert(id);
  }
  // Sites a rules reload removed.
  for (const std::string& id : impl_->shift_sites) {
    if (sites.count(id)) continue;
    impl_->shift_open.Remove(&impl_->shift_open.Add({{"site", id}}));
    impl_->shift_started.Remove(&impl_->shift_started.Add({{"site", id}}));
  }
  impl_->shift_sites = std::move(sites);
}

void Metrics::RulesReloaded(bool ok) {
  impl_->reloads.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::RuleEditedInPlace(const std::string& qualified_rule) {
  const size_t slash = qualified_rule.find('/');
  impl_->edited_in_place
      .Add({{"pack", qualified_rule.substr(0, slash)},
            {"rule", slash == std::string::npos ? "" : qualified_rule.substr(slash + 1)}})
      .Increment();
}

std::string Metrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(impl_->registry->Collect());
}

// ---------------------------------------------------------------- HTTP

struct HttpServer::Impl {
  const Metrics* metrics = nullptr;
  std::function<bool()> ready;
  mg_context* context = nullptr;
};

namespace {

int Reply(mg_connection* c, int status, const char* type, const std::string& body) {
  mg_printf(c,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            status, status == 200 ? "OK" : "Service Unavailable", type, body.size());
  mg_write(c, body.data(), body.size());
  return status;
}

int MetricsHandler(mg_connection* c, void* data) {
  auto* impl = static_cast<HttpServer::Impl*>(data);
  return Reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", impl->metrics->Serialize());
}

int HealthHandler(mg_connection* c, void*) { return Reply(c, 200, "text/plain", "ok\n"); }

int ReadyHandler(mg_connection* c, void* data) {
  auto* impl = static_cast<HttpServer::Impl*>(data);
  bool ready = impl->ready && impl->ready();
  return Reply(c, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
}

}  // namespace

core::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen,
                                                              const Metrics* metrics,
                                                              std::function<bool()> ready) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  auto impl = std::make_unique<Impl>();
  impl->metrics = metrics;
  impl->ready = std::move(ready);
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", "2", nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  impl->context = mg_start(&callbacks, nullptr, options);
  if (impl->context == nullptr) {
    return core::Status::Error("cannot listen on " + listen +
                               " for metrics (Hint: --metrics-listen HOST:PORT, a free port)");
  }
  mg_set_request_handler(impl->context, "/metrics$", MetricsHandler, impl.get());
  mg_set_request_handler(impl->context, "/healthz$", HealthHandler, impl.get());
  mg_set_request_handler(impl->context, "/readyz$", ReadyHandler, impl.get());
  mg_server_port ports[4];
  int n = mg_get_server_ports(impl->context, 4, ports);
  int port = n > 0 ? ports[0].port : 0;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() {
  if (impl_ && impl_->context) mg_stop(impl_->context);
}

}  // namespace demerit::metrics
