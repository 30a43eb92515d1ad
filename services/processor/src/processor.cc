#include "demerit/processor/processor.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include "demerit/core/codec.h"
#include "demerit/core/engine.h"
#include "demerit/core/state.h"
#include "demerit/kafka/client.h"
#include "demerit/metrics/metrics.h"
#include "demerit/processor/rule_files.h"
#include "demerit/store/rocksdb_state_store.h"

namespace demerit::processor {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// A loop that has not gone round for this long is held up: not ready.
constexpr std::chrono::seconds kLoopStalled{15};
// How often readiness asks the brokers whether they are there.
constexpr std::chrono::seconds kBrokerCheck{5};

// The wall clock, as event times count (the engine never reads a clock).
core::Nanos WallClockNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Log(const char* level, const std::string& message) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s %s %s\n", stamp, level, message.c_str());
  std::fflush(stderr);
}

// Checkpoint keys: outside every employee's key range (ids have no control
// characters), one per changelog partition: the next changelog offset that
// the local state does not yet reflect.
std::string CheckpointKey(int32_t partition) {
  return std::string("\x01") + "checkpoint" + core::kKeySeparator + std::to_string(partition);
}

std::string EmployeeOf(const std::string& key) {
  return key.substr(0, key.find(core::kKeySeparator));
}

// Decodes an input record: one message type per topic, wrapped in an Envelope.
std::optional<core::Rejection> Decode(const kafka::Record& record, core::Stream stream,
                                      v1::Envelope* out) {
  if (!record.has_value) return core::Rejection{v1::UNPARSEABLE, "empty record (tombstone)"};
  return core::ParseStreamRecord(stream, record.value, out);
}

class Processor : public kafka::RebalanceListener {
 public:
  Processor(const ProcessorConfig& config, Signals& signals)
      : config_(config), signals_(signals) {
    client_.bootstrap = config.bootstrap;
    client_.properties = config.kafka;
    const Topics& t = config.topics;
    inputs_ = t.Inputs();
  }

  int Run();

  void OnAssigned(const std::vector<kafka::TopicPartition>& partitions) override;
  void OnRevoked(const std::vector<kafka::TopicPartition>& partitions) override;

 private:
  int Start();
  bool Process(const kafka::Record& record);
  // Commits the open transaction; false on a fatal error (fatal_ is set).
  bool Commit();
  void AbortAndRewind(const std::string& why);
  bool Restore(int32_t partition);
  void ReloadRules();
  void RecordRuleVersions();

  const ProcessorConfig& config_;
  Signals& signals_;
  kafka::ClientConfig client_;
  std::map<std::string, core::Stream> inputs_;
  int partitions_ = 0;
  std::shared_ptr<const core::RuleSet> rules_;
  std::string rules_fingerprint_;
  std::unique_ptr<store::RocksDbStateStore> store_;
  std::unique_ptr<core::EmployeeStateCache> cache_;
  std::unique_ptr<core::Engine> engine_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::TransactionalProducer> producer_;

  metrics::Metrics metrics_;
  std::unique_ptr<metrics::HttpServer> http_;
  // Ready (/readyz): partitions assigned and their state restored, brokers up.
  std::atomic<bool> ready_{false};
  std::atomic<Clock::rep> last_turn_{0};  // when the loop last went round
  bool restored_ = false;
  bool brokers_up_ = true;
  Clock::time_point next_broker_check_;
  void UpdateReady();
  // Next offset to read per input partition, and the last committed one.
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;
  std::map<std::pair<std::string, int32_t>, int64_t> committed_;
  Clock::time_point next_lag_report_;
  void ReportLag();

  bool in_transaction_ = false;
  Clock::time_point transaction_start_;
  // Next offset to commit per input partition, in the open transaction.
  std::map<std::pair<std::string, int32_t>, int64_t> offsets_;
  // Input partition of each employee touched in the open transaction.
  std::map<std::string, int32_t> employee_partition_;
  std::set<int32_t> assigned_;
  int fatal_ = 0;
  std::vector<v1::Decision> decisions_;
};

int Processor::Start() {
  // Not ready either while the loop is held up (a commit or an abort waiting
  // for brokers that are gone).
  auto http = metrics::HttpServer::Start(config_.metrics_listen, &metrics_, [this] {
    return ready_.load() && Clock::now().time_since_epoch().count() - last_turn_.load() <
                                std::chrono::duration_cast<Clock::duration>(kLoopStalled).count();
  });
  if (!http.ok()) {
    Log("ERROR", http.status().message());
    return kProcessConfig;
  }
  http_ = std::move(*http);
  Log("INFO", "metrics and health on port " + std::to_string(http_->port()) +
                  " (/metrics, /healthz, /readyz)");
  {
    rules_fingerprint_ = RuleFilesFingerprint(config_.rules);
    auto loaded = LoadRuleDirectory(config_.rules);
    if (!loaded.ok()) {
      Log("ERROR", "rules in " + config_.rules + " are not valid:\n" + loaded.status().message());
      return kProcessRules;
    }
    rules_ = *loaded;
    metrics_.RulesInForce(rules_->version());
  }
  std::error_code ec;
  fs::create_directories(config_.state, ec);
  // Reads of what the engine wrote are served by the cache, which commits
  // before it reads the store again.
  auto store = store::RocksDbStateStore::Open(config_.state,
                                              store::RocksDbOptions{.read_your_writes = false});
  if (!store.ok()) {
    Log("ERROR", store.status().message());
    return kProcessState;
  }
  store_ = std::move(*store);
  cache_ = std::make_unique<core::EmployeeStateCache>(
      store_.get(),
      core::EmployeeStateCache::Options{.max_bytes = static_cast<size_t>(config_.cache_mb) << 20,
                                        .point_tables = std::string(core::kEnginePointTables)});
  engine_ = std::make_unique<core::Engine>(rules_, cache_.get());

  auto admin = kafka::Admin::Connect(client_);
  if (!admin.ok()) {
    Log("ERROR", admin.status().message());
    return kProcessKafka;
  }
  std::vector<std::string> names;
  for (const auto& [name, stream] : inputs_) names.push_back(name);
  for (const auto* t : {&config_.topics.penalties, &config_.topics.deadletter,
                        &config_.topics.changelog}) {
    names.push_back(*t);
  }
  auto counts = (*admin)->PartitionCounts(names, 10000);
  if (!counts.ok()) {
    Log("ERROR", counts.status().message() + " (Hint: check --bootstrap " + config_.bootstrap +
                     " and the kafka: settings)");
    return kProcessKafka;
  }
  std::string missing;
  for (const auto& n : names) {
    if (!counts->count(n)) missing += (missing.empty() ? "" : ", ") + n;
  }
  if (!missing.empty()) {
    Log("ERROR", "missing topics: " + missing +
                     " (Hint: demerit topics --bootstrap ADDR --partitions N creates them)");
    return kProcessKafka;
  }
  partitions_ = counts->at(config_.topics.attendance);
  std::string mismatch;
  for (const auto& [name, stream] : inputs_) {
    if (counts->at(name) != partitions_) {
      mismatch += " " + name + "=" + std::to_string(counts->at(name));
    }
  }
  if (counts->at(config_.topics.changelog) != partitions_) {
    mismatch += " " + config_.topics.changelog + "=" +
                std::to_string(counts->at(config_.topics.changelog));
  }
  if (!mismatch.empty()) {
    Log("ERROR", "input topics are not co-partitioned: " + config_.topics.attendance + "=" +
                     std::to_string(partitions_) + mismatch +
                     " (Hint: every input topic and the changelog need the same partition count)");
    return kProcessKafka;
  }

  const std::string transactional_id = config_.application_id + "-" + config_.instance_id;
  auto producer = kafka::TransactionalProducer::Create(client_, transactional_id);
  if (!producer.ok()) {
    Log("ERROR", producer.status().message());
    return kProcessKafka;
  }
  producer_ = std::move(*producer);
  kafka::KafkaStatus init = producer_->InitTransactions(30000);
  if (!init.ok()) {
    Log("ERROR", "cannot initialise transactions as " + transactional_id + ": " + init.message);
    return kProcessKafka;
  }
  auto consumer = kafka::Consumer::Create(client_, config_.application_id, this);
  if (!consumer.ok()) {
    Log("ERROR", consumer.status().message());
    return kProcessKafka;
  }
  consumer_ = std::move(*consumer);
  std::vector<std::string> input_names;
  for (const auto& [name, stream] : inputs_) input_names.push_back(name);
  if (auto s = consumer_->Subscribe(input_names); !s.ok()) {
    Log("ERROR", s.message());
    return kProcessKafka;
  }
  // Once every check has passed: a start that fails leaves the record as it was,
  // and the next start reports the same edits again.
  RecordRuleVersions();
  Log("INFO", "started as " + transactional_id + " in group " + config_.application_id + ", " +
                  std::to_string(partitions_) + " partitions, rules " + rules_->version());
  return kProcessOk;
}

bool Processor::Restore(int32_t partition) {
  auto started = Clock::now();
  std::string value;
  int64_t from = 0;
  if (store_->Get(CheckpointKey(partition), &value)) {
    from = std::stoll(value);
  } else {
    // No checkpoint: this partition's local state cannot be trusted.
    std::vector<std::string> stale;
    store_->Scan(std::string_view("", 0), "\x01", [&](std::string_view key, std::string_view) {
      if (kafka::Murmur2Partition(EmployeeOf(std::string(key)), partitions_) == partition) {
        stale.emplace_back(key);
      }
      return true;
    });
    for (const auto& k : stale) store_->Delete(k);
  }
  auto reader = kafka::PartitionReader::Create(client_);
  if (!reader.ok()) {
    Log("ERROR", reader.status().message());
    return false;
  }
  int64_t low = 0, high = 0;
  if (auto s = (*reader)->Watermarks(config_.topics.changelog, partition, &low, &high, 10000);
      !s.ok()) {
    Log("ERROR", s.message());
    return false;
  }
  int64_t records = 0, bytes = 0;
  if (from < high) {
    (void)(*reader)->Assign({{config_.topics.changelog, partition, std::max(from, low)}});
    auto idle_since = Clock::now();
    while (true) {
      kafka::KafkaStatus error;
      auto record = (*reader)->Poll(200, &error);
      if (record) {
        idle_since = Clock::now();
        if (record->has_value) {
          store_->Put(record->key, record->value);
        } else {
          store_->Delete(record->key);
        }
        ++records;
        bytes += static_cast<int64_t>(record->key.size() + record->value.size());
        if (records % 65536 == 0) {
          if (auto s = store_->Commit(); !s.ok()) {
            Log("ERROR", "restoring partition " + std::to_string(partition) + ": " + s.message());
            fatal_ = kProcessState;
            return false;
          }
        }
        if (record->offset + 1 >= high) break;
        continue;
      }
      // `high` is the committed end when the restore began: records of
      // transactions open then (an instance that stopped mid-transaction)
      // lie beyond it. Fetching reached it: what was not returned below it
      // was a transaction marker or aborted.
      int64_t position = (*reader)->Position(config_.topics.changelog, partition);
      if (position >= high) break;
      if ((*reader)->CommittedEndReached(config_.topics.changelog, partition) >= high) break;
      auto idle = Clock::now() - idle_since;
      if (idle > std::chrono::seconds(120)) {
        Log("ERROR", "changelog partition " + std::to_string(partition) + " stopped at offset " +
                         std::to_string(position) + " of " + std::to_string(high) +
                         " for 120 s; cannot restore");
        return false;
      }
    }
  }
  store_->Put(CheckpointKey(partition), std::to_string(high));
  if (auto s = store_->Commit(); !s.ok()) {
    Log("ERROR", "restoring partition " + std::to_string(partition) + ": " + s.message());
    fatal_ = kProcessState;
    return false;
  }
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  metrics_.RestoreDone(partition, secs, records, bytes);
  Log("INFO", "partition " + std::to_string(partition) + " restored: " + std::to_string(records) +
                  " changelog records (" + std::to_string(bytes) + " bytes) from offset " +
                  std::to_string(from) + " in " + std::to_string(secs) + " s");
  return true;
}

void Processor::OnAssigned(const std::vector<kafka::TopicPartition>& partitions) {
  std::set<int32_t> numbers;
  for (const auto& p : partitions) numbers.insert(p.partition);
  cache_->Clear();
  restored_ = false;
  UpdateReady();
  metrics_.SetRestoring(true);
  for (int32_t n : numbers) {
    if (!Restore(n)) {
      if (fatal_ == 0) fatal_ = kProcessKafka;
      return;
    }
    assigned_.insert(n);
  }
  metrics_.SetRestoring(false);
  metrics_.SetAssignedPartitions(static_cast<int>(assigned_.size()));
  restored_ = true;
  UpdateReady();
  std::string list;
  for (int32_t n : numbers) list += " " + std::to_string(n);
  Log("INFO", "assigned partitions:" + (list.empty() ? std::string(" none") : list));
}

void Processor::OnRevoked(const std::vector<kafka::TopicPartition>& partitions) {
  restored_ = false;
  UpdateReady();
  // Finish the open transaction while the partitions are still ours.
  if (in_transaction_) Commit();
  cache_->Clear();
  assigned_.clear();
  positions_.clear();
  committed_.clear();
  metrics_.SetAssignedPartitions(0);
  Log("INFO", "partitions revoked: " + std::to_string(partitions.size()));
}

bool Processor::Process(const kafka::Record& record) {
  auto stream = inputs_.find(record.topic);
  if (stream == inputs_.end()) return true;
  if (!in_transaction_) {
    kafka::KafkaStatus s = producer_->BeginTransaction();
    if (!s.ok()) {
      Log("ERROR", "fatal transaction error, probably fenced by another instance with the same "
                   "transactional id (begin): " + s.message);
      fatal_ = kProcessFenced;
      return false;
    }
    in_transaction_ = true;
    transaction_start_ = Clock::now();
  }
  offsets_[{record.topic, record.partition}] = record.offset + 1;
  positions_[{record.topic, record.partition}] = record.offset + 1;
  v1::Envelope event;
  std::optional<core::Rejection> rejection = Decode(record, stream->second, &event);
  core::ApplyResult result;
  decisions_.clear();
  const std::string stream_name(core::StreamName(stream->second));
  if (!rejection) {
    auto started = Clock::now();
    result = engine_->Apply(event, &decisions_);
    metrics_.RuleEvaluation(std::chrono::duration<double>(Clock::now() - started).count());
    if (result.outcome == core::ApplyResult::Outcome::kRejected) rejection = result.rejection;
  }
  auto dead_letter = [&](const core::Rejection& why, const std::string& stream,
                         const std::string& topic, int64_t offset, const std::string& value) {
    metrics_.DeadLettered(stream, v1::DeadLetterReason_Name(why.reason));
    v1::DeadLetter dead;
    dead.set_reason(why.reason);
    dead.set_detail(why.detail);
    dead.set_source_topic(topic);
    dead.set_source_partition(record.partition);
    dead.set_source_offset(offset);
    dead.set_key(record.key);
    dead.set_value(value);
    kafka::KafkaStatus s = producer_->Produce(config_.topics.deadletter, record.partition,
                                              record.key, dead.SerializeAsString());
    if (!s.ok()) AbortAndRewind("dead letter: " + s.message);
    return s.ok();
  };
  if (rejection &&
      !dead_letter(*rejection, stream_name, record.topic, record.offset, record.value)) {
    return false;
  }
  // Records applied earlier that a conflict withdrew: dead-lettered now, with
  // their content and offset -1 (the offset is not kept).
  for (const core::Withdrawn& w : result.withdrawn) {
    core::Stream stream;
    core::StreamOf(w.event, &stream);
    std::string topic;
    for (const auto& [name, s] : inputs_) {
      if (s == stream) topic = name;
    }
    if (!dead_letter(w.rejection, std::string(core::StreamName(stream)), topic, -1,
                     core::SerializeStreamRecord(w.event))) {
      return false;
    }
  }
  // A record rejected on decoding or validation changed nothing; one rejected
  // as a conflict moved the employee's clock and may have reversed what it withdrew.
  const bool conflict = rejection && (rejection->reason == v1::CONFLICTING_DUPLICATE ||
                                      rejection->reason == v1::CONFLICTING_CORRECTION ||
                                      rejection->reason == v1::INVALID_CORRECTION);
  if (rejection && !conflict) return true;
  core::EventHeader header = core::HeaderOf(event);
  const std::string& employee = *header.employee_id;
  employee_partition_[employee] = record.partition;
  const core::Site* site = rules_->FindSite(*header.site_id);
  if (site != nullptr && result.outcome != core::ApplyResult::Outcome::kRejected) {
    metrics_.EventApplied(event, *site, result.outcome == core::ApplyResult::Outcome::kDuplicate);
  }
  for (const auto& [site, rule] : result.occurrences) {
    metrics_.Occurrence(site->id, rule->pack, rule->id);
  }
  metrics_.EventTimeLag(
      stream_name, static_cast<double>(WallClockNow() - header.occurred_at) / core::kNanosPerSecond);
  for (const auto& d : decisions_) metrics_.DecisionMade(d);
  for (const auto& d : decisions_) {
    kafka::KafkaStatus s =
        producer_->Produce(config_.topics.penalties, -1, d.employee_id(), d.SerializeAsString());
    if (!s.ok()) {
      AbortAndRewind("producing a decision: " + s.message);
      return false;
    }
  }
  return true;
}

bool Processor::Commit() {
  if (!in_transaction_) return true;
  // The state changes of this transaction go to the changelog, on the
  // partition of the input they came from.
  kafka::KafkaStatus s;
  cache_->ForEachChange([&](const std::string& key, const std::string* value) {
    if (!s.ok()) return;
    std::string employee = EmployeeOf(key);
    auto it = employee_partition_.find(employee);
    int32_t partition = it != employee_partition_.end()
                            ? it->second
                            : kafka::Murmur2Partition(employee, partitions_);
    s = producer_->Produce(config_.topics.changelog, partition, key,
                           value ? std::optional<std::string>(*value) : std::nullopt);
  });
  if (s.ok()) {
    std::vector<kafka::TopicPartition> offsets;
    for (const auto& [tp, offset] : offsets_) offsets.push_back({tp.first, tp.second, offset});
    if (!offsets.empty()) s = producer_->SendOffsets(offsets, *consumer_);
  }
  auto commit_started = Clock::now();
  if (s.ok()) s = producer_->Commit();
  if (!s.ok()) {
    if (s.kind == kafka::ErrorKind::kFatal) {
      metrics_.TransactionFailed();
      Log("ERROR", "fatal transaction error, probably fenced by another instance with the same "
                   "transactional id: " + s.message);
      fatal_ = kProcessFenced;
      return false;
    }
    AbortAndRewind("commit: " + s.message);
    return true;
  }
  metrics_.TransactionCommitted(
      std::chrono::duration<double>(Clock::now() - commit_started).count());
  // Committed: the local state catches up with the changelog.
  cache_->Flush();
  for (const auto& [tp, offset] : producer_->TakeDelivered()) {
    if (tp.first == config_.topics.changelog) {
      store_->Put(CheckpointKey(tp.second), std::to_string(offset + 1));
    }
  }
  if (auto st = store_->Commit(); !st.ok()) {
    Log("ERROR", "state write failed after a commit: " + st.message());
    fatal_ = kProcessState;
    return false;
  }
  in_transaction_ = false;
  for (const auto& [tp, offset] : offsets_) committed_[tp] = offset;
  offsets_.clear();
  employee_partition_.clear();
  return true;
}

void Processor::AbortAndRewind(const std::string& why) {
  Log("WARN", "aborting the transaction: " + why);
  metrics_.TransactionAborted();
  kafka::KafkaStatus s = producer_->Abort();
  if (!s.ok() && s.kind == kafka::ErrorKind::kFatal) {
    Log("ERROR", "abort failed: " + s.message);
    fatal_ = kProcessFenced;
  }
  cache_->Discard();
  store_->Discard();
  (void)producer_->TakeDelivered();
  in_transaction_ = false;
  // Back to the committed offsets of every assigned partition.
  auto assignment = consumer_->Assignment();
  auto committed = consumer_->Committed(assignment, 10000);
  if (committed.ok()) {
    for (const auto& tp : *committed) (void)consumer_->Seek(tp, 10000);
  }
  offsets_.clear();
  employee_partition_.clear();
}

// Lag of every assigned input partition: high watermark (as of the last
// fetch) minus the offset this instance last committed (or the partition's
// start). No request to the brokers: this runs on the processing thread.
void Processor::ReportLag() {
  next_lag_report_ = Clock::now() + std::chrono::seconds(5);
  for (const auto& tp : consumer_->Assignment()) {
    int64_t low = 0, high = 0;
    if (!consumer_->CachedWatermarks(tp.topic, tp.partition, &low, &high)) continue;
    auto it = committed_.find({tp.topic, tp.partition});
    int64_t position = it != committed_.end() ? it->second : low;
    metrics_.ConsumerLag(tp.topic, tp.partition, std::max<int64_t>(0, high - position));
  }
}

// An instance without partitions (more instances than partitions) has
// nothing to serve: not ready either.
void Processor::UpdateReady() {
  bool brokers_up = brokers_up_;
  if (consumer_ && Clock::now() >= next_broker_check_) {
    // A metadata request: a millisecond while the brokers answer; while they
    // do not, the loop has nothing to do anyway.
    brokers_up = consumer_->BrokersReachable(1000);
    next_broker_check_ = Clock::now() + kBrokerCheck;
  }
  if (brokers_up != brokers_up_) {
    brokers_up_ = brokers_up;
    if (brokers_up) {
      Log("INFO", "the brokers are reachable again");
    } else {
      Log("WARN", "every broker is unreachable: not ready until one answers");
    }
  }
  const bool ready = restored_ && !assigned_.empty() && brokers_up;
  if (ready == ready_.load()) return;
  ready_ = ready;
  metrics_.SetReady(ready);
}

void Processor::ReloadRules() {
  rules_fingerprint_ = RuleFilesFingerprint(config_.rules);
  auto loaded = LoadRuleDirectory(config_.rules);
  if (!loaded.ok()) {
    Log("ERROR", "rules reload refused, keeping rules " + rules_->version() + ":\n" +
                     loaded.status().message());
    metrics_.RulesReloaded(false);
    return;
  }
  if ((*loaded)->version() == rules_->version()) return;
  if (in_transaction_ && !Commit()) return;
  rules_ = *loaded;
  engine_ = std::make_unique<core::Engine>(rules_, cache_.get());
  metrics_.RulesReloaded(true);
  metrics_.RulesInForce(rules_->version());
  Log("INFO", "rules reloaded: version " + rules_->version());
  RecordRuleVersions();
}

// Compares the rules in force with those last loaded with this state
// directory, and records them: a rule in force edited in place means a replay
// of the past no longer gives the decisions committed.
void Processor::RecordRuleVersions() {
  auto edits = processor::RecordRuleVersions(config_.state, *rules_, WallClockNow());
  if (!edits.ok()) {
    Log("WARN", "rule versions: " + edits.status().message());
    return;
  }
  for (const core::EditInPlace& edit : *edits) {
    Log("WARN", edit.Describe());
    metrics_.RuleEditedInPlace(edit.before.rule);
  }
}

int Processor::Run() {
  if (int code = Start(); code != kProcessOk) return code;
  auto next_watch = Clock::now();
  while (!signals_.stop.load() && fatal_ == 0) {
    kafka::KafkaStatus error;
    auto record = consumer_->Poll(50, &error);
    if (fatal_ != 0) break;
    if (!error.ok()) {
      if (error.kind == kafka::ErrorKind::kFatal) {
        Log("ERROR", "consumer: " + error.message);
        fatal_ = kProcessKafka;
        break;
      }
      Log("WARN", "consumer: " + error.message);
    }
    if (record && !Process(*record) && fatal_ != 0) break;
    producer_->Poll();
    UpdateReady();
    last_turn_ = Clock::now().time_since_epoch().count();
    if (in_transaction_ &&
        Clock::now() - transaction_start_ >= std::chrono::milliseconds(config_.commit_interval_ms)) {
      if (!Commit()) break;
    }
    if (signals_.reload.exchange(false)) ReloadRules();
    if (Clock::now() >= next_lag_report_) {
      ReportLag();
      metrics_.SiteShifts(*rules_, WallClockNow());
    }
    if (Clock::now() >= next_watch) {
      if (RuleFilesFingerprint(config_.rules) != rules_fingerprint_) ReloadRules();
      next_watch = Clock::now() + std::chrono::seconds(1);
    }
  }
  if (fatal_ == 0 && in_transaction_) Commit();
  if (consumer_ && !consumer_->Close(10000)) {
    // Kafka is unreachable: the state is committed locally, stop anyway.
    Log("WARN", "could not leave the consumer group within 10 s (brokers unreachable?)");
    (void)consumer_.release();
    (void)producer_.release();
  }
  if (fatal_ != 0) return fatal_;
  Log("INFO", "stopped");
  return kProcessOk;
}

}  // namespace

int RunProcessor(const ProcessorConfig& config, Signals& signals) {
  Processor processor(config, signals);
  return processor.Run();
}

}  // namespace demerit::processor
