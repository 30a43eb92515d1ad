#pragma once

#include <memory>
#include <string>
#include <vector>

#include "demerit/core/codec.h"
#include "demerit/kafka/client.h"
#include "demerit/processor/config.h"
#include "event_reader.h"

namespace demerit::cli {

// Reads the input topics of a processor configuration (every partition,
// read_committed) from the beginning up to their ends as they were at Open().
class KafkaEventSource {
 public:
  static core::StatusOr<std::unique_ptr<KafkaEventSource>> Open(
      const processor::ProcessorConfig& config);
  EventReader::Result Next(v1::Envelope* event, core::Rejection* rejection);
  // topic/partition@offset of the last record.
  const std::string& where() const { return where_; }
  uint64_t bytes() const { return bytes_; }

 private:
  bool AtEnd(bool idle);
  std::unique_ptr<kafka::PartitionReader> reader_;
  std::map<std::string, core::Stream> streams_;
  std::vector<kafka::TopicPartition> ends_;  // offset = high watermark at Open()
  std::string where_;
  uint64_t bytes_ = 0;
};

}  // namespace demerit::cli
