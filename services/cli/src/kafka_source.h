#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "demerit/core/codec.h"
#include "demerit/kafka/client.h"
#include "demerit/processor/config.h"
#include "event_reader.h"

namespace demerit::cli {

// Offsets of input partitions to replay, as given to --offsets:
// TOPIC:PARTITION:FROM-TO, PARTITION a number or * (every partition of the
// topic), FROM inclusive and TO exclusive, either empty for the beginning or
// the end of the partition.
struct OffsetRange {
  std::string topic;
  int32_t partition = -1;       // -1: every partition of the topic
  std::optional<int64_t> from;  // none: the partition's beginning
  std::optional<int64_t> to;    // none: the partition's end
  std::string spec;             // as written, for messages
};

// Parses --offsets values, each one or more comma-separated ranges. Errors
// name the bad range and what is allowed.
core::StatusOr<std::vector<OffsetRange>> ParseOffsetRanges(const std::vector<std::string>& specs);

// An input partition as the brokers have it.
struct InputPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t low = 0;         // the first offset still held
  int64_t high = 0;        // the high watermark: the next offset to be written
  int64_t committed = -1;  // the consumer group's committed offset, -1 when none
};

// What to read of one input partition: offsets [from, to).
struct PartitionSpan {
  std::string topic;
  int32_t partition = 0;
  int64_t from = 0;
  int64_t to = 0;
};

// The spans to read: each partition from its beginning to its end, narrowed by
// `ranges` and, with `to_committed`, ended at the group's committed offset (a
// partition without one is not read). Fails, with a message for the command
// line, on a range naming a topic that is not an input topic, a partition
// that does not exist or is named twice, or offsets the partition does not
// hold; and, with `to_committed`, when the group has committed no offset at all.
core::StatusOr<std::vector<PartitionSpan>> ResolveSpans(const std::vector<InputPartition>& inputs,
                                                        const std::vector<OffsetRange>& ranges,
                                                        bool to_committed,
                                                        const std::string& group);

// Follows a read_committed reader towards fixed partition ends (offsets
// taken when reading began, including records of transactions then open).
// Says so when an open transaction holds the committed end back (an instance
// that stopped mid-transaction: the brokers abort it after its
// transaction.timeout.ms), and gives up after `give_up`.
class EndWatch {
 public:
  enum class State { kReading, kEnd, kStuck };
  EndWatch(kafka::PartitionReader* reader, std::vector<kafka::TopicPartition> ends,
           std::chrono::seconds give_up = std::chrono::seconds(180));
  // Before the polls for one record: only the time spent polling counts as
  // waiting, not the time the caller spent on the records it was given.
  void Resume() { idle_since_ = std::chrono::steady_clock::now(); }
  // After each poll of the reader: the record it returned, or nullptr.
  State After(const kafka::Record* record);
  // Whether every partition is read to its end.
  bool Done() const { return remaining_ == 0; }

 private:
  struct End {
    kafka::TopicPartition at;  // offset = the end
    bool reached = false;
  };
  void Reach(End& end);
  kafka::PartitionReader* reader_;
  std::vector<End> ends_;
  std::map<std::pair<std::string, int32_t>, size_t> index_;  // into ends_
  size_t remaining_ = 0;
  std::chrono::seconds give_up_;
  std::chrono::steady_clock::time_point idle_since_;
  bool told_ = false;
};

// Reads the input topics of a processor configuration (read_committed):
// Connect() finds every input partition, Start() reads the given spans, in
// the order the records arrive.
class KafkaEventSource {
 public:
  // Finds the input partitions and their watermarks; with a `group`, also the
  // group's committed offsets.
  static core::StatusOr<std::unique_ptr<KafkaEventSource>> Connect(
      const processor::ProcessorConfig& config, const std::string& group);
  const std::vector<InputPartition>& inputs() const { return inputs_; }
  // Reads each span from its start to its end.
  core::Status Start(const std::vector<PartitionSpan>& spans);

  EventReader::Result Next(v1::Envelope* event, core::Rejection* rejection);
  // Whether reading stopped short of the ends (an open transaction that did
  // not end in time; a message was printed).
  bool stuck() const { return stuck_; }
  // topic/partition@offset of the last record.
  const std::string& where() const { return where_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::unique_ptr<kafka::PartitionReader> reader_;
  std::unique_ptr<EndWatch> watch_;
  bool stuck_ = false;
  std::map<std::string, core::Stream> streams_;
  std::vector<InputPartition> inputs_;
  std::vector<kafka::TopicPartition> ends_;  // offset = the end of the span
  std::string where_;
  uint64_t bytes_ = 0;
};

// The consumer group's committed offsets for every input partition (-1 when none).
core::StatusOr<std::vector<kafka::TopicPartition>> CommittedInputOffsets(
    const processor::ProcessorConfig& config, const std::string& group);

}  // namespace demerit::cli
