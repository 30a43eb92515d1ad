#include "kafka_source.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <set>

namespace demerit::cli {
namespace {

constexpr const char* kOffsetsHint =
    " (Hint: PARTITION is a number or *; FROM, inclusive, and TO, exclusive, are offsets and"
    " either may be empty: calls.events:0:100-250, calls.events:*:-5000)";

bool ParseNumber(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && *value >= 0;
}

core::StatusOr<OffsetRange> ParseOffsetRange(std::string_view spec) {
  OffsetRange range;
  range.spec = std::string(spec);
  auto bad = [&](const std::string& what) {
    return core::Status::Error("--offsets \"" + range.spec + "\": " + what + kOffsetsHint);
  };
  // The topic may hold no colon; the last two colons separate the partition
  // and the offsets.
  size_t offsets_colon = spec.rfind(':');
  if (offsets_colon == std::string_view::npos || offsets_colon == 0) {
    return bad("not TOPIC:PARTITION:FROM-TO");
  }
  size_t partition_colon = spec.rfind(':', offsets_colon - 1);
  if (partition_colon == std::string_view::npos || partition_colon == 0) {
    return bad("not TOPIC:PARTITION:FROM-TO");
  }
  range.topic = std::string(spec.substr(0, partition_colon));
  std::string_view partition =
      spec.substr(partition_colon + 1, offsets_colon - partition_colon - 1);
  std::string_view offsets = spec.substr(offsets_colon + 1);
  if (partition != "*") {
    int64_t p = 0;
    if (!ParseNumber(partition, &p) || p > INT32_MAX) {
      return bad("partition \"" + std::string(partition) + "\" is not a number or *");
    }
    range.partition = static_cast<int32_t>(p);
  }
  size_t dash = offsets.find('-');
  if (dash == std::string_view::npos) return bad("no - between FROM and TO");
  for (auto [text, bound] : {std::pair{offsets.substr(0, dash), &range.from},
                             std::pair{offsets.substr(dash + 1), &range.to}}) {
    if (text.empty()) continue;
    int64_t value = 0;
    if (!ParseNumber(text, &value)) {
      return bad("offset \"" + std::string(text) + "\" is not a number");
    }
    *bound = value;
  }
  if (range.from && range.to && *range.from > *range.to) {
    return bad("FROM " + std::to_string(*range.from) + " is after TO " + std::to_string(*range.to));
  }
  return range;
}

}  // namespace

core::StatusOr<std::vector<OffsetRange>> ParseOffsetRanges(const std::vector<std::string>& specs) {
  std::vector<OffsetRange> ranges;
  for (const auto& value : specs) {
    std::string_view rest = value;
    while (true) {
      size_t comma = rest.find(',');
      auto range = ParseOffsetRange(rest.substr(0, comma));
      if (!range.ok()) return range.status();
      ranges.push_back(std::move(*range));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return ranges;
}

core::StatusOr<std::vector<PartitionSpan>> ResolveSpans(const std::vector<InputPartition>& inputs,
                                                        const std::vector<OffsetRange>& ranges,
                                                        bool to_committed,
                                                        const std::string& group) {
  std::map<std::string, int32_t> partitions;  // per input topic
  for (const auto& in : inputs) {
    partitions[in.topic] = std::max(partitions[in.topic], in.partition + 1);
  }
  // Which range bounds each partition.
  std::map<std::pair<std::string, int32_t>, const OffsetRange*> bound;
  for (const auto& range : ranges) {
    auto topic = partitions.find(range.topic);
    if (topic == partitions.end()) {
      std::string known;
      for (const auto& [name, n] : partitions) known += (known.empty() ? "" : ", ") + name;
      return core::Status::Error("--offsets \"" + range.spec + "\": " + range.topic +
                                 " is not an input topic (Hint: " + known + ")");
    }
    if (range.partition >= topic->second) {
      return core::Status::Error("--offsets \"" + range.spec + "\": " + range.topic +
                                 " has no partition " + std::to_string(range.partition) +
                                 " (Hint: it has " + std::to_string(topic->second) +
                                 " partitions, 0 to " + std::to_string(topic->second - 1) + ")");
    }
    int32_t first = range.partition < 0 ? 0 : range.partition;
    int32_t last = range.partition < 0 ? topic->second - 1 : range.partition;
    for (int32_t p = first; p <= last; ++p) {
      auto [it, inserted] = bound.emplace(std::pair{range.topic, p}, &range);
      if (!inserted) {
        return core::Status::Error("--offsets: " + range.topic + " partition " + std::to_string(p) +
                                   " is bounded twice, by \"" + it->second->spec + "\" and \"" +
                                   range.spec + "\" (Hint: one range per partition)");
      }
    }
  }
  std::vector<PartitionSpan> spans;
  bool any_committed = false;
  for (const auto& in : inputs) {
    PartitionSpan span{in.topic, in.partition, in.low, in.high};
    if (auto it = bound.find({in.topic, in.partition}); it != bound.end()) {
      const OffsetRange& r = *it->second;
      const bool empty = r.from && r.to && *r.from == *r.to;
      const std::string where = in.topic + " partition " + std::to_string(in.partition);
      if (r.from && !empty && *r.from < in.low) {
        return core::Status::Error("--offsets \"" + r.spec + "\": " + where + " starts at offset " +
                                   std::to_string(in.low) + " (earlier records are deleted), not " +
                                   std::to_string(*r.from) +
                                   " (Hint: leave FROM empty for the first offset held)");
      }
      if (!empty && ((r.to && *r.to > in.high) || (r.from && *r.from > in.high))) {
        return core::Status::Error("--offsets \"" + r.spec + "\": " + where + " ends at offset " +
                                   std::to_string(in.high) +
                                   " (Hint: leave TO empty for the end of the partition)");
      }
      if (r.from) span.from = *r.from;
      if (r.to) span.to = *r.to;
      if (empty) span.to = span.from;
    }
    if (to_committed) {
      // The group's position is the next offset it reads: what it has
      // consumed ends there. No offset: it has consumed nothing here.
      any_committed = any_committed || in.committed >= 0;
      span.to = std::min(span.to, std::max<int64_t>(in.committed, 0));
    }
    if (span.to > span.from) spans.push_back(span);
  }
  if (to_committed && !any_committed && !inputs.empty()) {
    return core::Status::Error("--to-committed: the consumer group \"" + group +
                               "\" has committed no offset on the input topics (Hint: the "
                               "processor's group is its application id, by default demerit)");
  }
  return spans;
}

core::StatusOr<std::vector<kafka::TopicPartition>> CommittedInputOffsets(
    const processor::ProcessorConfig& config, const std::string& group) {
  kafka::ClientConfig client{config.bootstrap, config.kafka};
  auto admin = kafka::Admin::Connect(client);
  if (!admin.ok()) return admin.status();
  const processor::Topics& t = config.topics;
  auto counts = (*admin)->PartitionCounts(
      {t.attendance, t.calls, t.visits, t.callbacks, t.observations}, 10000);
  if (!counts.ok()) return counts.status();
  // A consumer of the group that never subscribes: it reads the group's offsets only.
  auto consumer = kafka::Consumer::Create(client, group, nullptr);
  if (!consumer.ok()) return consumer.status();
  std::vector<kafka::TopicPartition> parts;
  for (const auto& [topic, n] : *counts) {
    for (int p = 0; p < n; ++p) parts.push_back({topic, p, -1});
  }
  return (*consumer)->Committed(parts, 10000);
}

core::StatusOr<std::unique_ptr<KafkaEventSource>> KafkaEventSource::Connect(
    const processor::ProcessorConfig& config, const std::string& group) {
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
  std::map<std::pair<std::string, int32_t>, int64_t> committed;
  if (!group.empty()) {
    auto offsets = CommittedInputOffsets(config, group);
    if (!offsets.ok()) return offsets.status();
    for (const auto& tp : *offsets) committed[{tp.topic, tp.partition}] = tp.offset;
  }
  for (const auto& name : names) {
    auto it = counts->find(name);
    if (it == counts->end()) return core::Status::Error("no input topic " + name);
    for (int p = 0; p < it->second; ++p) {
      InputPartition in{name, p};
      int64_t committed_end = 0;
      if (auto s = source->reader_->Watermarks(name, p, &in.low, &committed_end, 10000);
          !s.ok()) {
        return s;
      }
      if (auto s = source->reader_->UncommittedEnd(name, p, &in.high, 10000); !s.ok()) return s;
      if (auto c = committed.find({name, p}); c != committed.end()) in.committed = c->second;
      source->inputs_.push_back(in);
    }
  }
  return source;
}

core::Status KafkaEventSource::Start(const std::vector<PartitionSpan>& spans) {
  std::vector<kafka::TopicPartition> assignment;
  for (const auto& span : spans) {
    if (span.to <= span.from) continue;
    assignment.push_back({span.topic, span.partition, span.from});
    ends_.push_back({span.topic, span.partition, span.to});
  }
  if (assignment.empty()) return core::Status::Ok();
  watch_ = std::make_unique<EndWatch>(reader_.get(), ends_);
  return reader_->Assign(assignment);
}

EndWatch::EndWatch(kafka::PartitionReader* reader, std::vector<kafka::TopicPartition> ends,
                   std::chrono::seconds give_up)
    : reader_(reader), give_up_(give_up), idle_since_(std::chrono::steady_clock::now()) {
  for (auto& e : ends) {
    index_[{e.topic, e.partition}] = ends_.size();
    ends_.push_back({std::move(e)});
  }
  remaining_ = ends_.size();
}

void EndWatch::Reach(End& end) {
  if (end.reached) return;
  end.reached = true;
  --remaining_;
}

EndWatch::State EndWatch::After(const kafka::Record* record) {
  auto now = std::chrono::steady_clock::now();
  if (record != nullptr) {
    idle_since_ = now;
    auto it = index_.find({record->topic, record->partition});
    if (it != index_.end() && record->offset + 1 >= ends_[it->second].at.offset) {
      Reach(ends_[it->second]);
    }
    return Done() ? State::kEnd : State::kReading;
  }
  // Fetching reached a committed end at or past a partition's end: what was
  // not returned below it was a transaction marker or aborted.
  for (End& e : ends_) {
    if (!e.reached && reader_->CommittedEndReached(e.at.topic, e.at.partition) >= e.at.offset) {
      Reach(e);
    }
  }
  if (Done()) return State::kEnd;
  auto idle = now - idle_since_;
  if (idle > std::chrono::seconds(2) && !told_) {
    told_ = true;
    for (const End& e : ends_) {
      int64_t committed = reader_->CommittedEndReached(e.at.topic, e.at.partition);
      if (e.reached || committed < 0) continue;
      std::cerr << e.at.topic << " partition " << e.at.partition
                << ": an open transaction holds offsets " << committed << " to " << e.at.offset
                << " back; waiting up to " << give_up_.count()
                << " s for it to be committed or aborted (the brokers abort the transaction of an "
                   "instance that stopped mid-transaction after its transaction.timeout.ms)\n";
    }
  }
  if (idle > give_up_) {
    for (const End& e : ends_) {
      if (e.reached) continue;
      std::cerr << e.at.topic << " partition " << e.at.partition << " stopped short of offset "
                << e.at.offset << " for " << give_up_.count() << " s (an open transaction?)\n";
    }
    return State::kStuck;
  }
  return State::kReading;
}

EventReader::Result KafkaEventSource::Next(v1::Envelope* event, core::Rejection* rejection) {
  if (watch_) watch_->Resume();
  while (!ends_.empty()) {
    kafka::KafkaStatus error;
    auto record = reader_->Poll(200, &error);
    if (!record) {
      switch (watch_->After(nullptr)) {
        case EndWatch::State::kReading: continue;
        case EndWatch::State::kEnd: return EventReader::Result::kEnd;
        case EndWatch::State::kStuck:
          stuck_ = true;
          return EventReader::Result::kEnd;
      }
    }
    (void)watch_->After(&*record);
    bool past_end = true;
    for (const auto& e : ends_) {
      if (e.topic == record->topic && e.partition == record->partition) {
        past_end = record->offset >= e.offset;
      }
    }
    if (past_end) {
      // This partition is done: stop fetching it while the others finish.
      reader_->Pause(record->topic, record->partition);
      if (watch_->Done()) return EventReader::Result::kEnd;
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
