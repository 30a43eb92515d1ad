#include "kafka_source.h"

#include <chrono>
#include <iostream>

namespace demerit::cli {

core::StatusOr<std::unique_ptr<KafkaEventSource>> KafkaEventSource::Open(
    const processor::ProcessorConfig& config) {
  kafka::ClientConfig client{config.bootstrap, config.kafka};
  auto admin = kafka::Admin::Connect(client);
  if (!admin.ok()) return admin.status();
  auto source = std::unique_ptr<KafkaEventSource>(new KafkaEventSource());
  const processor::Topics& t = config.topics;
  source->streams_ = {{t.attendance, core::Stream::kAttendance},
                      {t.calls, core::Stream::kCalls},
                      {t.visits, core::Stream::kVisits},
                      {t.callbacks, core::Stream::kCallbacks},
                      {t.observations, core::Stream::kObservations}};
  std::vector<std::string> names;
  for (const auto& [name, stream] : source->streams_) names.push_back(name);
  auto counts = (*admin)->PartitionCounts(names, 10000);
  if (!counts.ok()) return counts.status();
  auto reader = kafka::PartitionReader::Create(client);
  if (!reader.ok()) return reader.status();
  source->reader_ = std::move(*reader);
  std::vector<kafka::TopicPartition> assignment;
  for (const auto& name : names) {
    auto it = counts->find(name);
    if (it == counts->end()) return core::Status::Error("no input topic " + name);
    for (int p = 0; p < it->second; ++p) {
      int64_t low = 0, high = 0;
      if (auto s = source->reader_->Watermarks(name, p, &low, &high, 10000); !s.ok()) return s;
      if (high > low) {
        assignment.push_back({name, p, low});
        source->ends_.push_back({name, p, high});
      }
    }
  }
  if (!assignment.empty()) {
    if (auto s = source->reader_->Assign(assignment); !s.ok()) return s;
  }
  return source;
}

// Every partition read to its end; when `idle`, the last offset may be a
// transaction marker that a read never returns.
bool KafkaEventSource::AtEnd(bool idle) {
  for (const auto& e : ends_) {
    if (reader_->Position(e.topic, e.partition) < e.offset - (idle ? 1 : 0)) return false;
  }
  return true;
}

EventReader::Result KafkaEventSource::Next(v1::Envelope* event, core::Rejection* rejection) {
  auto idle_since = std::chrono::steady_clock::now();
  while (!ends_.empty()) {
    kafka::KafkaStatus error;
    auto record = reader_->Poll(200, &error);
    if (!record) {
      // Transaction markers take the last offsets: a quiet spell at the end is the end.
      auto idle = std::chrono::steady_clock::now() - idle_since;
      if (AtEnd(idle > std::chrono::seconds(2))) return EventReader::Result::kEnd;
      if (idle > std::chrono::seconds(120)) {
        std::cerr << "input topics stopped short of their ends for 120 s (an open transaction?);"
                     " replaying what was read\n";
        return EventReader::Result::kEnd;
      }
      continue;
    }
    bool past_end = true;
    for (const auto& e : ends_) {
      if (e.topic == record->topic && e.partition == record->partition) {
        past_end = record->offset >= e.offset;
      }
    }
    if (past_end) {
      if (AtEnd(false)) return EventReader::Result::kEnd;
      continue;
    }
    where_ = record->topic + "/" + std::to_string(record->partition) + "@" +
             std::to_string(record->offset);
    bytes_ += record->value.size();
    auto stream = streams_.find(record->topic);
    if (stream == streams_.end()) continue;
    if (auto bad = core::ParseStreamRecord(stream->second, record->value, event)) {
      *rejection = std::move(*bad);
      return EventReader::Result::kBad;
    }
    return EventReader::Result::kEvent;
  }
  return EventReader::Result::kEnd;
}

}  // namespace demerit::cli
