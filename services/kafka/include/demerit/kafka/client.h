#pragma once

// Kafka clients for demerit, over librdkafka (which no other module sees):
// a group consumer for the inputs, a transactional producer, a plain
// idempotent producer, a partition reader, and topic administration.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "demerit/core/status.h"

namespace demerit::kafka {

// Connection settings: the bootstrap address and any librdkafka property.
struct ClientConfig {
  std::string bootstrap;
  std::map<std::string, std::string> properties;
};

struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  bool has_value = true;  // false for a tombstone
  int64_t timestamp_ms = -1;  // the record's timestamp (create or append time)
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // -1: none
  friend bool operator<(const TopicPartition& a, const TopicPartition& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  }
};

// How a failed Kafka call can be handled.
enum class ErrorKind { kNone, kRetriable, kAbortable, kFatal };

struct KafkaStatus {
  ErrorKind kind = ErrorKind::kNone;
  std::string message;
  bool ok() const { return kind == ErrorKind::kNone; }
};

class Consumer;

// How a topic is laid out on the brokers.
struct TopicLayout {
  int partitions = 0;
  int replication = 0;  // the fewest replicas of any of its partitions
};

// Topic administration and metadata.
class Admin {
 public:
  static core::StatusOr<std::unique_ptr<Admin>> Connect(const ClientConfig& config);
  ~Admin();
  // Partition counts of `topics`; a missing topic is absent from the map.
  core::StatusOr<std::map<std::string, int>> PartitionCounts(const std::vector<std::string>& topics,
                                                             int timeout_ms);
  // Partitions and replication factor of `topics`; a missing topic is absent from the map.
  core::StatusOr<std::map<std::string, TopicLayout>> Layouts(const std::vector<std::string>& topics,
                                                             int timeout_ms);
  // Creates a topic; an existing one is not an error: *existed is set instead.
  core::Status CreateTopic(const std::string& name, int partitions, int replication,
                           const std::map<std::string, std::string>& configs, int timeout_ms,
                           bool* existed);
  // The value of a topic's configuration entries.
  core::StatusOr<std::map<std::string, std::string>> TopicConfig(const std::string& name,
                                                                 int timeout_ms);

 private:
  struct Impl;
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Called on the consumer's thread during Poll() when partitions are assigned
// or revoked (eager, range assignment).
struct RebalanceListener {
  virtual ~RebalanceListener() = default;
  virtual void OnAssigned(const std::vector<TopicPartition>& partitions) = 0;
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions) = 0;
};

// A group consumer: range assignment, read_committed, offsets committed only
// through a transaction.
class Consumer {
 public:
  static core::StatusOr<std::unique_ptr<Consumer>> Create(const ClientConfig& config,
                                                          const std::string& group_id,
                                                          RebalanceListener* listener);
  ~Consumer();
  core::Status Subscribe(const std::vector<std::string>& topics);
  // The next record, or nullopt after timeout_ms. *error is set on a consumer
  // error that is not a timeout.
  std::optional<Record> Poll(int timeout_ms, KafkaStatus* error);
  // The group's committed offsets for `partitions` (offset -1 when none).
  core::StatusOr<std::vector<TopicPartition>> Committed(std::vector<TopicPartition> partitions,
                                                        int timeout_ms);
  core::Status Seek(const TopicPartition& tp, int timeout_ms);
  // Low and high watermarks of a partition.
  core::Status Watermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                          int timeout_ms);
  std::vector<TopicPartition> Assignment();
  // Whether a broker answers a metadata request within timeout_ms.
  bool BrokersReachable(int timeout_ms);
  // Low and high watermarks as of the last fetch (no request); false if unknown.
  bool CachedWatermarks(const std::string& topic, int32_t partition, int64_t* low,
                        int64_t* high);
  // Leaves the group. Returns false when that did not finish within
  // timeout_ms (the coordinator is unreachable); the consumer is then
  // abandoned to its background thread rather than waited for.
  bool Close(int timeout_ms = 10000);

 private:
  friend class TransactionalProducer;
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A transactional producer (EOS v2 with the consumer's group metadata).
class TransactionalProducer {
 public:
  static core::StatusOr<std::unique_ptr<TransactionalProducer>> Create(
      const ClientConfig& config, const std::string& transactional_id);
  ~TransactionalProducer();
  KafkaStatus InitTransactions(int timeout_ms);
  KafkaStatus BeginTransaction();
  // partition -1: by the configured partitioner on the key. value nullopt: tombstone.
  KafkaStatus Produce(const std::string& topic, int32_t partition, const std::string& key,
                      const std::optional<std::string>& value);
  KafkaStatus SendOffsets(const std::vector<TopicPartition>& offsets, Consumer& consumer);
  KafkaStatus Commit();
  KafkaStatus Abort();
  // Serves delivery reports.
  void Poll();
  // Waits until every record produced so far is on the brokers (still inside
  // the open transaction).
  KafkaStatus Flush(int timeout_ms);
  // The highest offset delivered per (topic, partition) since the last call.
  std::map<std::pair<std::string, int32_t>, int64_t> TakeDelivered();

 private:
  struct Impl;
  explicit TransactionalProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An idempotent producer keyed with the murmur2 partitioner (the Java client's default).
class Producer {
 public:
  static core::StatusOr<std::unique_ptr<Producer>> Create(const ClientConfig& config);
  ~Producer();
  core::Status Produce(const std::string& topic, const std::string& key, const std::string& value);
  // Waits until every record is delivered; the first delivery error, if any.
  core::Status Flush(int timeout_ms);

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads assigned partitions directly (no group), read_committed.
class PartitionReader {
 public:
  static core::StatusOr<std::unique_ptr<PartitionReader>> Create(const ClientConfig& config);
  ~PartitionReader();
  core::Status Assign(const std::vector<TopicPartition>& partitions);
  std::optional<Record> Poll(int timeout_ms, KafkaStatus* error);
  // The first offset and the committed end (the last stable offset: an open
  // transaction holds it back) of a partition.
  core::Status Watermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                          int timeout_ms);
  // The end of a partition including records of open transactions (the high
  // watermark). Reading "to the end" means to here: once the transactions
  // open now end, their records are read (committed) or skipped (aborted).
  core::Status UncommittedEnd(const std::string& topic, int32_t partition, int64_t* end,
                              int timeout_ms);
  // Stops fetching a partition (its position stays where reading got to).
  void Pause(const std::string& topic, int32_t partition);
  // Where fetching last reached the committed end of a partition (its last
  // stable offset then): every committed record before it has been returned
  // by Poll(), aborted records and transaction markers skipped. -1 before that.
  int64_t CommittedEndReached(const std::string& topic, int32_t partition) const;
  // The current position of a partition (the next offset to read), -1 if unknown.
  int64_t Position(const std::string& topic, int32_t partition);

 private:
  struct Impl;
  explicit PartitionReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Kafka's murmur2 partitioner (as the Java client and librdkafka's
// murmur2_random for non-empty keys).
int32_t Murmur2Partition(const std::string& key, int32_t partitions);

}  // namespace demerit::kafka
