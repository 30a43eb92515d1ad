#include "demerit/kafka/client.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace demerit::kafka {
namespace {

using core::Status;

// Applies the bootstrap address and the pass-through properties. Errors name
// the property, never its value (it may be a secret).
Status Configure(RdKafka::Conf* conf, const ClientConfig& config,
                 const std::map<std::string, std::string>& defaults) {
  std::string err;
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return Status::Error("kafka property \"" + k + "\": " + err);
    }
    return Status::Ok();
  };
  for (const auto& [k, v] : defaults) {
    if (auto s = set(k, v); !s.ok()) return s;
  }
  if (!config.bootstrap.empty()) {
    if (auto s = set("bootstrap.servers", config.bootstrap); !s.ok()) return s;
  }
  for (const auto& [k, v] : config.properties) {
    if (auto s = set(k, v); !s.ok()) return s;
  }
  return Status::Ok();
}

KafkaStatus FromError(RdKafka::Error* e) {
  if (e == nullptr) return {};
  KafkaStatus s;
  s.message = e->str();
  if (e->is_fatal()) {
    s.kind = ErrorKind::kFatal;
  } else if (e->txn_requires_abort()) {
    s.kind = ErrorKind::kAbortable;
  } else if (e->is_retriable()) {
    s.kind = ErrorKind::kRetriable;
  } else {
    s.kind = ErrorKind::kAbortable;
  }
  delete e;
  return s;
}

KafkaStatus FromCode(RdKafka::ErrorCode code) {
  if (code == RdKafka::ERR_NO_ERROR) return {};
  KafkaStatus s;
  s.message = RdKafka::err2str(code);
  s.kind = code == RdKafka::ERR__FATAL ? ErrorKind::kFatal : ErrorKind::kRetriable;
  return s;
}

Record ToRecord(const RdKafka::Message& m) {
  Record r;
  r.topic = m.topic_name();
  r.partition = m.partition();
  r.offset = m.offset();
  if (m.key() != nullptr) r.key = *m.key();
  r.timestamp_ms = m.timestamp().timestamp;
  r.has_value = m.payload() != nullptr;
  if (r.has_value) r.value.assign(static_cast<const char*>(m.payload()), m.len());
  return r;
}

std::vector<RdKafka::TopicPartition*> ToRd(const std::vector<TopicPartition>& parts) {
  std::vector<RdKafka::TopicPartition*> out;
  for (const auto& p : parts) {
    out.push_back(RdKafka::TopicPartition::create(p.topic, p.partition,
                                                  p.offset < 0 ? RdKafka::Topic::OFFSET_INVALID
                                                               : p.offset));
  }
  return out;
}

std::vector<TopicPartition> FromRd(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<TopicPartition> out;
  for (const auto* p : parts) {
    out.push_back({p->topic(), p->partition(), p->offset() < 0 ? -1 : p->offset()});
  }
  return out;
}

void Free(std::vector<RdKafka::TopicPartition*>& parts) {
  RdKafka::TopicPartition::destroy(parts);
}

class ErrorLogger : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG) {
      // librdkafka's own log: warnings and errors always, debug when asked for.
      std::fprintf(stderr, "librdkafka %s %s\n", event.fac().c_str(), event.str().c_str());
      return;
    }
    if (event.type() == RdKafka::Event::EVENT_ERROR) {
      last_error = RdKafka::err2str(event.err()) + ": " + event.str();
      if (event.err() == RdKafka::ERR__AUTHENTICATION) auth_failed = true;
      if (event.fatal()) fatal = true;
    }
  }
  std::string last_error;
  bool auth_failed = false;
  bool fatal = false;
};

using EndOffsets = std::map<std::pair<std::string, int32_t>, int64_t>;

// One record from a consumer, or none: on a timeout, at the end of a
// partition (noted in *ends when given), or on an error (in *error).
std::optional<Record> Consume(RdKafka::KafkaConsumer& consumer, int timeout_ms,
                              KafkaStatus* error, EndOffsets* ends = nullptr) {
  std::unique_ptr<RdKafka::Message> m(consumer.consume(timeout_ms));
  switch (m->err()) {
    case RdKafka::ERR_NO_ERROR: return ToRecord(*m);
    case RdKafka::ERR__PARTITION_EOF:
      if (ends != nullptr) (*ends)[{m->topic_name(), m->partition()}] = m->offset();
      return std::nullopt;
    case RdKafka::ERR__TIMED_OUT: return std::nullopt;
    default:
      *error = FromCode(m->err());
      error->message += ": " + m->errstr();
      return std::nullopt;
  }
}

// Asks the broker for a partition's low and high watermarks.
Status QueryWatermarks(RdKafka::KafkaConsumer& consumer, const ErrorLogger& events,
                       const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                       int timeout_ms) {
  RdKafka::ErrorCode code =
      consumer.query_watermark_offsets(topic, partition, low, high, timeout_ms);
  if (code != RdKafka::ERR_NO_ERROR) {
    std::string why = RdKafka::err2str(code);
    if (events.auth_failed) why = "authentication failed: " + events.last_error;
    return Status::Error("watermarks of " + topic + ": " + why);
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- Admin

struct Admin::Impl {
  std::unique_ptr<RdKafka::Producer> handle;
  ErrorLogger events;
};

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() = default;

core::StatusOr<std::unique_ptr<Admin>> Admin::Connect(const ClientConfig& config) {
  auto impl = std::make_unique<Impl>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto s = Configure(conf.get(), config, {}); !s.ok()) return s;
  std::string err;
  conf->set("event_cb", &impl->events, err);
  impl->handle.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl->handle) return Status::Error("cannot create a Kafka client: " + err);
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

core::StatusOr<std::map<std::string, int>> Admin::PartitionCounts(
    const std::vector<std::string>& topics, int timeout_ms) {
  auto layouts = Layouts(topics, timeout_ms);
  if (!layouts.ok()) return layouts.status();
  std::map<std::string, int> out;
  for (const auto& [name, layout] : *layouts) out[name] = layout.partitions;
  return out;
}

core::StatusOr<std::map<std::string, TopicLayout>> Admin::Layouts(
    const std::vector<std::string>& topics, int timeout_ms) {
  RdKafka::Metadata* md = nullptr;
  RdKafka::ErrorCode code = impl_->handle->metadata(true, nullptr, &md, timeout_ms);
  if (code != RdKafka::ERR_NO_ERROR) {
    std::string why = RdKafka::err2str(code);
    impl_->handle->poll(0);
    if (impl_->events.auth_failed) why = "authentication failed: " + impl_->events.last_error;
    else if (!impl_->events.last_error.empty()) why += " (" + impl_->events.last_error + ")";
    return Status::Error("cannot reach the Kafka brokers: " + why);
  }
  std::unique_ptr<RdKafka::Metadata> owned(md);
  std::map<std::string, TopicLayout> out;
  std::set<std::string> wanted(topics.begin(), topics.end());
  for (const auto* t : *md->topics()) {
    if (wanted.count(t->topic()) && t->err() == RdKafka::ERR_NO_ERROR) {
      TopicLayout layout;
      layout.partitions = static_cast<int>(t->partitions()->size());
      for (const auto* p : *t->partitions()) {
        int replicas = static_cast<int>(p->replicas()->size());
        if (layout.replication == 0 || replicas < layout.replication) layout.replication = replicas;
      }
      out[t->topic()] = layout;
    }
  }
  return out;
}

core::Status Admin::CreateTopic(const std::string& name, int partitions, int replication,
                                const std::map<std::string, std::string>& configs,
                                int timeout_ms, bool* existed) {
  *existed = false;
  rd_kafka_t* rk = impl_->handle->c_ptr();
  char errstr[512];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(name.c_str(), partitions, replication, errstr, sizeof errstr);
  if (topic == nullptr) return Status::Error("topic " + name + ": " + errstr);
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(topic, k.c_str(), v.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 5000);
  Status result = Status::Ok();
  if (event == nullptr) {
    result = Status::Error("creating topic " + name + " timed out");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = Status::Error("creating topic " + name + ": " + rd_kafka_event_error_string(event));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) *existed = true;
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        result = Status::Error("creating topic " + name + ": " +
                               (msg ? msg : rd_kafka_err2str(err)));
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  return result;
}

core::StatusOr<std::map<std::string, std::string>> Admin::TopicConfig(const std::string& name,
                                                                      int timeout_ms) {
  rd_kafka_t* rk = impl_->handle->c_ptr();
  char errstr[512];
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof errstr);
  rd_kafka_DescribeConfigs(rk, &resource, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms + 5000);
  std::map<std::string, std::string> out;
  Status status = Status::Ok();
  if (event == nullptr) {
    status = Status::Error("describing topic " + name + " timed out");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = Status::Error("describing topic " + name + ": " + rd_kafka_event_error_string(event));
  } else {
    size_t n = 0;
    const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(event), &n);
    for (size_t i = 0; i < n; ++i) {
      if (rd_kafka_ConfigResource_error(resources[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = Status::Error("describing topic " + name + ": " +
                               rd_kafka_ConfigResource_error_string(resources[i]));
        continue;
      }
      size_t count = 0;
      const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &count);
      for (size_t j = 0; j < count; ++j) {
        const char* v = rd_kafka_ConfigEntry_value(entries[j]);
        out[rd_kafka_ConfigEntry_name(entries[j])] = v ? v : "";
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_ConfigResource_destroy(resource);
  if (!status.ok()) return status;
  return out;
}

// ---------------------------------------------------------------- Consumer

namespace {

class Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(RebalanceListener* listener) : listener_(listener) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      consumer->assign(partitions);
      if (listener_) listener_->OnAssigned(FromRd(partitions));
    } else {
      if (listener_) listener_->OnRevoked(FromRd(partitions));
      consumer->unassign();
    }
  }

 private:
  RebalanceListener* listener_;
};

}  // namespace

struct Consumer::Impl {
  std::unique_ptr<Rebalancer> rebalancer;
  ErrorLogger events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  bool closed = false;
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::~Consumer() {
  if (!Close()) {
    // The close thread still uses the consumer: leave it be.
    (void)impl_->consumer.release();
    (void)impl_->rebalancer.release();
    (void)impl_.release();
  }
}

core::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ClientConfig& config,
                                                           const std::string& group_id,
                                                           RebalanceListener* listener) {
  auto impl = std::make_unique<Impl>();
  impl->rebalancer = std::make_unique<Rebalancer>(listener);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto s = Configure(conf.get(), config,
                         {{"group.id", group_id},
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"isolation.level", "read_committed"},
                          {"partition.assignment.strategy", "range"},
                          {"auto.offset.reset", "earliest"}});
      !s.ok()) {
    return s;
  }
  std::string err;
  conf->set("rebalance_cb", impl->rebalancer.get(), err);
  conf->set("event_cb", &impl->events, err);
  impl->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl->consumer) return Status::Error("cannot create the Kafka consumer: " + err);
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

core::Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  RdKafka::ErrorCode code = impl_->consumer->subscribe(topics);
  if (code != RdKafka::ERR_NO_ERROR) {
    return Status::Error("subscribe failed: " + RdKafka::err2str(code));
  }
  return Status::Ok();
}

std::optional<Record> Consumer::Poll(int timeout_ms, KafkaStatus* error) {
  return Consume(*impl_->consumer, timeout_ms, error);
}

core::StatusOr<std::vector<TopicPartition>> Consumer::Committed(
    std::vector<TopicPartition> partitions, int timeout_ms) {
  // A group coordinator that is still being chosen or loading (a new
  // cluster, a broker restart) answers again shortly: asked again until the
  // timeout.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  RdKafka::ErrorCode code;
  std::vector<TopicPartition> out;
  while (true) {
    auto rd = ToRd(partitions);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    code = impl_->consumer->committed(rd, std::max<int>(1, static_cast<int>(left.count())));
    out = FromRd(rd);
    Free(rd);
    const bool coordinator_moving = code == RdKafka::ERR_NOT_COORDINATOR ||
                                    code == RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                                    code == RdKafka::ERR_COORDINATOR_NOT_AVAILABLE;
    if (!coordinator_moving ||
        std::chrono::steady_clock::now() + std::chrono::milliseconds(200) >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the broker's retry backoff
  }
  if (code != RdKafka::ERR_NO_ERROR) {
    return Status::Error("reading committed offsets failed: " + RdKafka::err2str(code));
  }
  return out;
}

core::Status Consumer::Seek(const TopicPartition& tp, int timeout_ms) {
  std::unique_ptr<RdKafka::TopicPartition> rd(RdKafka::TopicPartition::create(
      tp.topic, tp.partition, tp.offset < 0 ? RdKafka::Topic::OFFSET_BEGINNING : tp.offset));
  RdKafka::ErrorCode code = impl_->consumer->seek(*rd, timeout_ms);
  if (code != RdKafka::ERR_NO_ERROR) {
    return Status::Error("seek " + tp.topic + "/" + std::to_string(tp.partition) + " failed: " +
                         RdKafka::err2str(code));
  }
  return Status::Ok();
}

core::Status Consumer::Watermarks(const std::string& topic, int32_t partition, int64_t* low,
                                  int64_t* high, int timeout_ms) {
  return QueryWatermarks(*impl_->consumer, impl_->events, topic, partition, low, high,
                         timeout_ms);
}

bool Consumer::CachedWatermarks(const std::string& topic, int32_t partition, int64_t* low,
                                int64_t* high) {
  return impl_->consumer->get_watermark_offsets(topic, partition, low, high) ==
             RdKafka::ERR_NO_ERROR &&
         *high >= 0;
}

std::vector<TopicPartition> Consumer::Assignment() {
  std::vector<RdKafka::TopicPartition*> rd;
  impl_->consumer->assignment(rd);
  auto out = FromRd(rd);
  Free(rd);
  return out;
}

bool Consumer::BrokersReachable(int timeout_ms) {
  RdKafka::Metadata* md = nullptr;
  if (impl_->consumer->metadata(false, nullptr, &md, timeout_ms) != RdKafka::ERR_NO_ERROR) {
    return false;
  }
  delete md;
  return true;
}

bool Consumer::Close(int timeout_ms) {
  if (!impl_ || impl_->closed || !impl_->consumer) return true;
  impl_->closed = true;
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  RdKafka::KafkaConsumer* consumer = impl_->consumer.get();
  std::thread([consumer, done] {
    consumer->close();
    done->set_value();
  }).detach();
  if (finished.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready) {
    return true;
  }
  std::fprintf(stderr, "kafka: leaving the consumer group timed out after %d ms\n", timeout_ms);
  return false;
}

// ---------------------------------------------------------------- TransactionalProducer

namespace {

class DeliveryTracker : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    std::lock_guard<std::mutex> lock(mu);
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      if (first_error.empty()) first_error = m.errstr();
      return;
    }
    auto key = std::make_pair(m.topic_name(), m.partition());
    auto it = delivered.find(key);
    if (it == delivered.end() || it->second < m.offset()) delivered[key] = m.offset();
  }
  std::mutex mu;
  std::map<std::pair<std::string, int32_t>, int64_t> delivered;
  std::string first_error;
};

}  // namespace

struct TransactionalProducer::Impl {
  DeliveryTracker tracker;
  ErrorLogger events;
  std::unique_ptr<RdKafka::Producer> producer;
};

TransactionalProducer::TransactionalProducer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
TransactionalProducer::~TransactionalProducer() {
  if (impl_ && impl_->producer) impl_->producer->flush(1000);
}

core::StatusOr<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const ClientConfig& config, const std::string& transactional_id) {
  auto impl = std::make_unique<Impl>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto s = Configure(conf.get(), config,
                         {{"transactional.id", transactional_id},
                          {"enable.idempotence", "true"},
                          {"partitioner", "murmur2_random"},
                          {"linger.ms", "5"},
                          {"transaction.timeout.ms", "60000"}});
      !s.ok()) {
    return s;
  }
  std::string err;
  conf->set("dr_cb", &impl->tracker, err);
  conf->set("event_cb", &impl->events, err);
  impl->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl->producer) return Status::Error("cannot create the Kafka producer: " + err);
  return std::unique_ptr<TransactionalProducer>(new TransactionalProducer(std::move(impl)));
}

KafkaStatus TransactionalProducer::InitTransactions(int timeout_ms) {
  KafkaStatus s = FromError(impl_->producer->init_transactions(timeout_ms));
  if (!s.ok() && impl_->events.auth_failed) {
    s.message = "authentication failed: " + impl_->events.last_error;
    s.kind = ErrorKind::kFatal;
  }
  return s;
}

KafkaStatus TransactionalProducer::BeginTransaction() {
  return FromError(impl_->producer->begin_transaction());
}

KafkaStatus TransactionalProducer::Produce(const std::string& topic, int32_t partition,
                                           const std::string& key,
                                           const std::optional<std::string>& value) {
  while (true) {
    RdKafka::ErrorCode code = impl_->producer->produce(
        topic, partition < 0 ? RdKafka::Topic::PARTITION_UA : partition,
        RdKafka::Producer::RK_MSG_COPY, value ? const_cast<char*>(value->data()) : nullptr,
        value ? value->size() : 0, key.data(), key.size(), 0, nullptr);
    if (code == RdKafka::ERR__QUEUE_FULL) {
      impl_->producer->poll(50);
      continue;
    }
    return FromCode(code);
  }
}

KafkaStatus TransactionalProducer::SendOffsets(const std::vector<TopicPartition>& offsets,
                                               Consumer& consumer) {
  auto rd = ToRd(offsets);
  std::unique_ptr<RdKafka::ConsumerGroupMetadata> metadata(
      consumer.impl_->consumer->groupMetadata());
  KafkaStatus s =
      FromError(impl_->producer->send_offsets_to_transaction(rd, metadata.get(), -1));
  Free(rd);
  return s;
}

KafkaStatus TransactionalProducer::Commit() {
  return FromError(impl_->producer->commit_transaction(-1));
}

KafkaStatus TransactionalProducer::Abort() {
  return FromError(impl_->producer->abort_transaction(-1));
}

void TransactionalProducer::Poll() { impl_->producer->poll(0); }

KafkaStatus TransactionalProducer::Flush(int timeout_ms) {
  return FromCode(impl_->producer->flush(timeout_ms));
}

std::map<std::pair<std::string, int32_t>, int64_t> TransactionalProducer::TakeDelivered() {
  std::lock_guard<std::mutex> lock(impl_->tracker.mu);
  auto out = std::move(impl_->tracker.delivered);
  impl_->tracker.delivered.clear();
  return out;
}

// ---------------------------------------------------------------- Producer

struct Producer::Impl {
  DeliveryTracker tracker;
  ErrorLogger events;
  std::unique_ptr<RdKafka::Producer> producer;
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::~Producer() = default;

core::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ClientConfig& config) {
  auto impl = std::make_unique<Impl>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto s = Configure(conf.get(), config,
                         {{"enable.idempotence", "true"},
                          {"acks", "all"},
                          {"partitioner", "murmur2_random"},
                          {"linger.ms", "20"}});
      !s.ok()) {
    return s;
  }
  std::string err;
  conf->set("dr_cb", &impl->tracker, err);
  conf->set("event_cb", &impl->events, err);
  impl->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl->producer) return Status::Error("cannot create the Kafka producer: " + err);
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

core::Status Producer::Produce(const std::string& topic, const std::string& key,
                               const std::string& value) {
  while (true) {
    RdKafka::ErrorCode code = impl_->producer->produce(
        topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
    if (code == RdKafka::ERR__QUEUE_FULL) {
      impl_->producer->poll(50);
      continue;
    }
    if (code != RdKafka::ERR_NO_ERROR) {
      return Status::Error("producing to " + topic + ": " + RdKafka::err2str(code));
    }
    impl_->producer->poll(0);
    return Status::Ok();
  }
}

core::Status Producer::Flush(int timeout_ms) {
  // In slices, so that an authentication failure ends the wait at once.
  RdKafka::ErrorCode code = RdKafka::ERR__TIMED_OUT;
  for (int waited = 0; waited < timeout_ms && !impl_->events.auth_failed; waited += 250) {
    code = impl_->producer->flush(250);
    if (code != RdKafka::ERR__TIMED_OUT) break;
  }
  std::lock_guard<std::mutex> lock(impl_->tracker.mu);
  if (!impl_->tracker.first_error.empty()) {
    std::string why = impl_->tracker.first_error;
    if (impl_->events.auth_failed) why = "authentication failed: " + impl_->events.last_error;
    return Status::Error("delivery failed: " + why);
  }
  if (code != RdKafka::ERR_NO_ERROR) {
    std::string why = RdKafka::err2str(code);
    if (impl_->events.auth_failed) why = "authentication failed: " + impl_->events.last_error;
    else if (!impl_->events.last_error.empty()) why += " (" + impl_->events.last_error + ")";
    return Status::Error("not every record was delivered: " + why);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- PartitionReader

struct PartitionReader::Impl {
  ClientConfig config;
  ErrorLogger events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  EndOffsets ends;  // where each partition's fetching last reached the committed end
  // read_uncommitted, for the high watermark; made on first use.
  ErrorLogger uncommitted_events;
  std::unique_ptr<RdKafka::KafkaConsumer> uncommitted;
};

PartitionReader::PartitionReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PartitionReader::~PartitionReader() {
  if (impl_ && impl_->consumer) impl_->consumer->close();
  if (impl_ && impl_->uncommitted) impl_->uncommitted->close();
}

core::StatusOr<std::unique_ptr<PartitionReader>> PartitionReader::Create(
    const ClientConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto s = Configure(conf.get(), config,
                         {{"group.id", "demerit-reader"},
                          {"enable.auto.commit", "false"},
                          {"isolation.level", "read_committed"},
                          {"enable.partition.eof", "true"}});
      !s.ok()) {
    return s;
  }
  std::string err;
  conf->set("event_cb", &impl->events, err);
  impl->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl->consumer) return Status::Error("cannot create the Kafka reader: " + err);
  return std::unique_ptr<PartitionReader>(new PartitionReader(std::move(impl)));
}

core::Status PartitionReader::Assign(const std::vector<TopicPartition>& partitions) {
  std::vector<RdKafka::TopicPartition*> rd;
  for (const auto& p : partitions) {
    rd.push_back(RdKafka::TopicPartition::create(
        p.topic, p.partition, p.offset < 0 ? RdKafka::Topic::OFFSET_BEGINNING : p.offset));
  }
  RdKafka::ErrorCode code = impl_->consumer->assign(rd);
  Free(rd);
  if (code != RdKafka::ERR_NO_ERROR) {
    return Status::Error("assign failed: " + RdKafka::err2str(code));
  }
  return Status::Ok();
}

std::optional<Record> PartitionReader::Poll(int timeout_ms, KafkaStatus* error) {
  return Consume(*impl_->consumer, timeout_ms, error, &impl_->ends);
}

void PartitionReader::Pause(const std::string& topic, int32_t partition) {
  std::vector<RdKafka::TopicPartition*> rd = {RdKafka::TopicPartition::create(topic, partition)};
  impl_->consumer->pause(rd);
  Free(rd);
}

int64_t PartitionReader::CommittedEndReached(const std::string& topic, int32_t partition) const {
  auto it = impl_->ends.find({topic, partition});
  return it == impl_->ends.end() ? -1 : it->second;
}

core::Status PartitionReader::Watermarks(const std::string& topic, int32_t partition,
                                         int64_t* low, int64_t* high, int timeout_ms) {
  return QueryWatermarks(*impl_->consumer, impl_->events, topic, partition, low, high,
                         timeout_ms);
}

core::Status PartitionReader::UncommittedEnd(const std::string& topic, int32_t partition,
                                             int64_t* end, int timeout_ms) {
  if (!impl_->uncommitted) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    if (auto s = Configure(conf.get(), impl_->config, {{"group.id", "demerit-reader"}});
        !s.ok()) {
      return s;
    }
    std::string err;
    conf->set("isolation.level", "read_uncommitted", err);
    conf->set("event_cb", &impl_->uncommitted_events, err);
    impl_->uncommitted.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!impl_->uncommitted) return Status::Error("cannot create the Kafka reader: " + err);
  }
  int64_t low = 0;
  return QueryWatermarks(*impl_->uncommitted, impl_->uncommitted_events, topic, partition, &low,
                         end, timeout_ms);
}

int64_t PartitionReader::Position(const std::string& topic, int32_t partition) {
  std::vector<RdKafka::TopicPartition*> rd = {RdKafka::TopicPartition::create(topic, partition)};
  impl_->consumer->position(rd);
  int64_t offset = rd[0]->offset();
  Free(rd);
  return offset < 0 ? -1 : offset;
}

// ---------------------------------------------------------------- murmur2

int32_t Murmur2Partition(const std::string& key, int32_t partitions) {
  const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  uint32_t length = static_cast<uint32_t>(key.size());
  uint32_t h = seed ^ length;
  uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    uint32_t i4 = i * 4;
    uint32_t k = static_cast<uint32_t>(data[i4]) | (static_cast<uint32_t>(data[i4 + 1]) << 8) |
                 (static_cast<uint32_t>(data[i4 + 2]) << 16) |
                 (static_cast<uint32_t>(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length % 4) {
    case 3: h ^= static_cast<uint32_t>(data[(length & ~3u) + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[(length & ~3u) + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(data[length & ~3u]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

}  // namespace demerit::kafka
