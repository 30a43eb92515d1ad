// The commands that talk to Kafka: process, topics, produce, tail.

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "commands.h"
#include "decision_table.h"
#include "demerit/core/codec.h"
#include "demerit/kafka/client.h"
#include "demerit/processor/processor.h"
#include "demerit/processor/rule_files.h"
#include "event_reader.h"
#include "kafka_source.h"
#include "output.h"

namespace demerit::cli {
namespace {

processor::Signals g_signals;

void OnSignal(int signal) {
  if (signal == SIGHUP) {
    g_signals.reload = true;
  } else {
    g_signals.stop = true;
  }
}

int ConfigError(const core::Status& s) {
  std::cerr << s.message() << "\n";
  return kExitUsage;
}

kafka::ClientConfig Client(const processor::ProcessorConfig& c) {
  return kafka::ClientConfig{c.bootstrap, c.kafka};
}

}  // namespace

// The settings of a Kafka command (defaults, --config, --bootstrap, the
// environment), or the exit code: 4 when --config cannot be read, 2 when it is
// not valid.
int KafkaSettings(const KafkaOptions& o, processor::ProcessorConfig* config) {
  if (!o.config_file.empty()) {
    auto text = processor::ReadFile(o.config_file);
    if (!text.ok()) {
      std::cerr << o.config_file
                << ": cannot read the configuration file (Hint: the YAML file of --config)\n";
      return kExitIo;
    }
    if (auto s = processor::ParseConfig(o.config_file, *text, config); !s.ok()) {
      return ConfigError(s);
    }
  }
  if (!o.bootstrap.empty()) config->bootstrap = o.bootstrap;
  processor::ApplyEnvironment(config);
  return kExitOk;
}

int RunProcess(const ProcessOptions& o) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  if (!o.rules.empty()) config.rules = o.rules;
  if (!o.state.empty()) config.state = o.state;
  if (!o.metrics_listen.empty()) config.metrics_listen = o.metrics_listen;
  if (!o.instance_id.empty()) config.instance_id = o.instance_id;
  if (!o.application_id.empty()) config.application_id = o.application_id;
  if (o.commit_interval_ms != 0) config.commit_interval_ms = o.commit_interval_ms;
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  return processor::RunProcessor(config, g_signals);
}

int RunTopics(const TopicsOptions& o) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  if (o.partitions < 1 || o.replication < 1) {
    std::cerr << "--partitions and --replication must be at least 1\n";
    return kExitUsage;
  }
  auto admin = kafka::Admin::Connect(Client(config));
  if (!admin.ok()) {
    std::cerr << admin.status().message() << "\n";
    return processor::kProcessKafka;
  }
  const processor::Topics& t = config.topics;
  struct Wanted {
    std::string name;
    bool compact;
    bool must_match;  // partition count must equal --partitions (co-partitioned)
  };
  std::vector<Wanted> wanted = {{t.attendance, false, true},   {t.calls, false, true},
                                {t.visits, false, true},       {t.callbacks, false, true},
                                {t.observations, false, true}, {t.penalties, false, false},
                                {t.deadletter, false, false},  {t.changelog, true, true}};
  std::vector<std::string> names;
  for (const auto& w : wanted) names.push_back(w.name);
  auto layouts = (*admin)->Layouts(names, 10000);
  if (!layouts.ok()) {
    std::cerr << layouts.status().message() << "\n";
    return processor::kProcessKafka;
  }
  int problems = 0;
  std::vector<std::string> created;
  for (const auto& w : wanted) {
    auto it = layouts->find(w.name);
    if (it == layouts->end()) {
      bool existed = false;
      std::map<std::string, std::string> configs;
      if (w.compact) {
        configs = {{"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "60000"},
                   {"delete.retention.ms", "604800000"}};
      }
      if (auto s = (*admin)->CreateTopic(w.name, o.partitions, o.replication, configs, 30000,
                                         &existed);
          !s.ok()) {
        std::cout << "FAILED  " << w.name << ": " << s.message() << "\n";
        ++problems;
      } else if (existed) {
        // Created a moment ago and not yet in the metadata: checked below.
        std::cout << "ok      " << w.name << ": exists\n";
        created.push_back(w.name);
      } else {
        created.push_back(w.name);
        std::cout << "created " << w.name << ": " << o.partitions
                  << " partitions, replication factor " << o.replication
                  << (w.compact ? ", compacted" : "") << "\n";
      }
      continue;
    }
    // Every way an existing topic differs from what was asked for.
    const kafka::TopicLayout& layout = it->second;
    std::vector<std::string> notes;
    if (w.must_match && layout.partitions != o.partitions) {
      notes.push_back("has " + std::to_string(layout.partitions) + " partitions, expected " +
                      std::to_string(o.partitions) + " (co-partitioning)");
    }
    if (layout.replication < o.replication) {
      notes.push_back("replication factor " + std::to_string(layout.replication) +
                      ", expected at least " + std::to_string(o.replication));
    }
    if (w.compact) {
      auto cfg = (*admin)->TopicConfig(w.name, 10000);
      if (!cfg.ok()) {
        notes.push_back(cfg.status().message());
      } else if ((*cfg)["cleanup.policy"].find("compact") == std::string::npos) {
        notes.push_back("cleanup.policy is \"" + (*cfg)["cleanup.policy"] + "\", expected compact");
      }
    }
    if (notes.empty()) {
      std::cout << "ok      " << w.name << ": " << layout.partitions
                << " partitions, replication factor " << layout.replication
                << (w.compact ? ", compacted" : "") << "\n";
    } else {
      std::string joined;
      for (const auto& n : notes) joined += (joined.empty() ? "" : "; ") + n;
      std::cout << "WRONG   " << w.name << ": " << joined << "\n";
      ++problems;
    }
  }
  // Wait until the metadata shows what was created, so that a processor
  // started next finds it; then check what had been missing from the metadata.
  for (int attempt = 0; !created.empty() && attempt < 60; ++attempt) {
    auto now = (*admin)->PartitionCounts(created, 10000);
    if (now.ok() && now->size() == created.size()) {
      for (const auto& w : wanted) {
        if (!now->count(w.name)) continue;
        if (w.must_match && now->at(w.name) != o.partitions) {
          std::cout << "WRONG   " << w.name << ": has " << now->at(w.name)
                    << " partitions, expected " << o.partitions << " (co-partitioning)\n";
          ++problems;
        }
      }
      created.clear();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // metadata has no notification
  }
  if (!created.empty()) {
    std::cout << "FAILED  topics not visible after creation\n";
    ++problems;
  }
  if (problems > 0) {
    std::cerr << problems << " topic" << (problems == 1 ? " is" : "s are")
              << " not as asked for (Hint: demerit does not change existing topics: alter or "
                 "recreate them with the Kafka tools)\n";
    return processor::kProcessKafka;
  }
  return kExitOk;
}

int RunProduce(const ProduceOptions& o) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  InputFormat format = InputFormat::kNdjson;
  if (o.input_format == "pb" ||
      (o.input_format == "auto" && (o.events.ends_with(".pb") || o.events.ends_with(".bin")))) {
    format = InputFormat::kBinary;
  }
  auto reader = EventReader::Open(o.events, format);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return kExitIo;
  }
  auto producer = kafka::Producer::Create(Client(config));
  if (!producer.ok()) {
    std::cerr << producer.status().message() << "\n";
    return processor::kProcessKafka;
  }
  int64_t produced = 0, bad = 0;
  v1::Envelope event;
  core::Rejection rejection;
  while (true) {
    auto r = (*reader)->Next(&event, &rejection);
    if (r == EventReader::Result::kEnd) break;
    if (r == EventReader::Result::kBad) {
      ++bad;
      std::cerr << o.events << ": record " << (*reader)->record() << ": " << rejection.detail
                << "\n";
      continue;
    }
    const std::string& key = *core::HeaderOf(event).employee_id;
    if (auto s = (*producer)->Produce(config.topics.InputOf(event), key,
                                      core::SerializeStreamRecord(event));
        !s.ok()) {
      std::cerr << s.message() << "\n";
      return processor::kProcessKafka;
    }
    ++produced;
  }
  if (auto s = (*producer)->Flush(60000); !s.ok()) {
    std::cerr << s.message() << "\n";
    return processor::kProcessKafka;
  }
  std::cerr << "produced " << produced << " events, " << bad << " bad records skipped\n";
  return bad > 0 ? kExitRejected : kExitOk;
}

int RunTail(const TailOptions& o) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  const processor::Topics& topics = config.topics;
  const std::string topic = o.topic.empty() ? topics.penalties : o.topic;
  // Each of demerit's topics holds one kind of record: decoded as that kind.
  const std::map<std::string, core::Stream> inputs = topics.Inputs();
  const auto input = inputs.find(topic);
  const bool dead_letters = topic == topics.deadletter;
  if (topic == topics.changelog) {
    std::cerr << "tail: " << topic << " holds the processor's state records (binary, keyed by "
              << "state key), not decisions or events (Hint: tail reads " << topics.penalties
              << ", " << topics.deadletter << " and the input topics)\n";
    return kExitUsage;
  }
  if (topic != topics.penalties && !dead_letters && input == inputs.end()) {
    std::string known = topics.penalties + ", " + topics.deadletter;
    for (const auto& [name, stream] : inputs) known += ", " + name;
    std::cerr << "tail: " << topic << " is not one of demerit's topics (Hint: --topic one of "
              << known << "; the names come from the configuration's topics:)\n";
    return kExitUsage;
  }
  auto admin = kafka::Admin::Connect(Client(config));
  if (!admin.ok()) {
    std::cerr << admin.status().message() << "\n";
    return processor::kProcessKafka;
  }
  auto counts = (*admin)->PartitionCounts({topic}, 10000);
  if (!counts.ok()) {
    std::cerr << counts.status().message() << "\n";
    return processor::kProcessKafka;
  }
  if (!counts->count(topic)) {
    std::cerr << "no topic " << topic << "\n";
    return processor::kProcessKafka;
  }
  auto reader = kafka::PartitionReader::Create(Client(config));
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return processor::kProcessKafka;
  }
  int partitions = counts->at(topic);
  std::vector<kafka::TopicPartition> assignment;
  std::vector<kafka::TopicPartition> ends;  // with --exit-at-end
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, committed_end = 0, end = 0;
    if (auto s = (*reader)->Watermarks(topic, p, &low, &committed_end, 10000); !s.ok()) {
      std::cerr << s.message() << "\n";
      return processor::kProcessKafka;
    }
    // The end includes transactions open now: waited for, not cut off.
    if (auto s = (*reader)->UncommittedEnd(topic, p, &end, 10000); !s.ok()) {
      std::cerr << s.message() << "\n";
      return processor::kProcessKafka;
    }
    int64_t start = o.from_beginning ? low : committed_end;
    assignment.push_back({topic, p, start});
    if (o.exit_at_end && end > start) ends.push_back({topic, p, end});
  }
  if (auto s = (*reader)->Assign(assignment); !s.ok()) {
    std::cerr << s.message() << "\n";
    return processor::kProcessKafka;
  }
  int64_t as_of_ms = std::numeric_limits<int64_t>::max();
  if (!o.as_of.empty()) {
    auto t = core::ParseRfc3339(o.as_of);
    if (!t.ok()) {
      std::cerr << "--as-of: " << t.status().message() << "\n";
      return kExitUsage;
    }
    as_of_ms = *t / 1'000'000;
  }
  EndWatch watch(reader->get(), ends);
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  auto out = Output::Open(o.out);
  if (!out.ok()) {
    std::cerr << out.status().message() << "\n";
    return kExitIo;
  }
  int64_t printed = 0;
  bool stuck = false;
  while (!(o.exit_at_end && watch.Done()) && !(*out)->failed()) {
    kafka::KafkaStatus error;
    auto record = (*reader)->Poll(200, &error);
    if (!error.ok()) std::cerr << "consumer: " << error.message << "\n";
    EndWatch::State state = watch.After(record ? &*record : nullptr);
    if (!record) {
      if (!o.exit_at_end || state == EndWatch::State::kReading) continue;
      stuck = state == EndWatch::State::kStuck;
      break;
    }
    if (record->timestamp_ms > as_of_ms) continue;
    std::string line;
    const std::string where =
        topic + "/" + std::to_string(record->partition) + "@" + std::to_string(record->offset);
    if (input != inputs.end()) {
      v1::Envelope event;
      std::optional<core::Rejection> bad =
          record->has_value
              ? core::ParseStreamRecord(input->second, record->value, &event)
              : std::optional<core::Rejection>(core::Rejection{v1::UNPARSEABLE, "empty record"});
      if (bad) {
        std::cerr << where << ": not a " << core::StreamName(input->second)
                  << " event: " << bad->detail << "\n";
        continue;
      }
      line = core::EventToJson(event);
    } else if (dead_letters) {
      v1::DeadLetter d;
      if (!d.ParseFromString(record->value) ||
          !google::protobuf::util::MessageToJsonString(d, &line, json).ok()) {
        std::cerr << where << ": not a dead letter\n";
        continue;
      }
    } else {
      v1::Decision d;
      if (!d.ParseFromString(record->value)) {
        std::cerr << where << ": not a decision\n";
        continue;
      }
      line = core::DecisionToJson(d);
    }
    line += '\n';
    (*out)->Write(line);
    ++printed;
  }
  // A failed write ends the read: explain, export and audit read the topic
  // through a file, and a short one would decide on part of it.
  if (auto s = (*out)->Close(); !s.ok()) return OutputFailed(**out, s);
  std::cerr << "read " << printed << " records from " << topic << "\n";
  if (stuck) {
    std::cerr << topic << " could not be read to its end\n";
    return processor::kProcessKafka;
  }
  return kExitOk;
}

int ReadPenaltiesToFile(const KafkaOptions& kafka, const std::string& as_of,
                        std::string* path) {
  char name[] = "/tmp/demerit-penalties-XXXXXX";
  int fd = mkstemp(name);
  if (fd < 0) {
    std::cerr << "cannot create a temporary file\n";
    return kExitIo;
  }
  close(fd);
  *path = name;
  TailOptions tail;
  tail.kafka = kafka;
  tail.from_beginning = true;
  tail.exit_at_end = true;
  tail.as_of = as_of;
  tail.out = *path;
  return RunTail(tail);
}

int RunLag(const LagOptions& o) {
  processor::ProcessorConfig config;
  if (int code = KafkaSettings(o.kafka, &config); code != kExitOk) return code;
  const std::string group = o.group.empty() ? config.application_id : o.group;
  auto admin = kafka::Admin::Connect(Client(config));
  if (!admin.ok()) {
    std::cerr << admin.status().message() << "\n";
    return processor::kProcessKafka;
  }
  const processor::Topics& t = config.topics;
  std::vector<std::string> inputs = {t.attendance, t.calls, t.visits, t.callbacks, t.observations};
  auto counts = (*admin)->PartitionCounts(inputs, 10000);
  if (!counts.ok()) {
    std::cerr << counts.status().message() << "\n";
    return processor::kProcessKafka;
  }
  std::string missing;
  for (const auto& name : inputs) {
    if (!counts->count(name)) missing += (missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) {
    std::cerr << "lag: missing topics: " << missing
              << " (Hint: demerit topics --bootstrap ADDR --partitions N creates them; topic names "
                 "come from the configuration's topics:)\n";
    return processor::kProcessKafka;
  }
  // A consumer of the group that never subscribes: it reads the group's offsets only.
  auto consumer = kafka::Consumer::Create(Client(config), group, nullptr);
  if (!consumer.ok()) {
    std::cerr << consumer.status().message() << "\n";
    return processor::kProcessKafka;
  }
  std::vector<kafka::TopicPartition> parts;
  for (const auto& [topic, n] : *counts) {
    for (int p = 0; p < n; ++p) parts.push_back({topic, p, -1});
  }
  auto committed = (*consumer)->Committed(parts, 10000);
  if (!committed.ok()) {
    std::cerr << committed.status().message() << "\n";
    return processor::kProcessKafka;
  }
  int64_t total = 0;
  size_t uncommitted = 0;
  for (const auto& tp : *committed) {
    int64_t low = 0, high = 0;
    if (auto s = (*consumer)->Watermarks(tp.topic, tp.partition, &low, &high, 10000); !s.ok()) {
      std::cerr << s.message() << "\n";
      return processor::kProcessKafka;
    }
    // Without a committed offset the group starts at the partition's first
    // record (auto.offset.reset=earliest): all of it is still to do.
    if (tp.offset < 0) ++uncommitted;
    int64_t position = tp.offset < 0 ? low : tp.offset;
    int64_t lag = std::max<int64_t>(0, high - position);
    total += lag;
    if (!o.total_only) {
      std::cout << tp.topic << "\t" << tp.partition << "\tcommitted " << tp.offset << "\tend "
                << high << "\tlag " << lag << "\n";
    }
  }
  if (uncommitted == committed->size()) {
    std::cerr << "lag: group " << group << " has committed no offsets: the lag counts from the "
              << "start of each partition (Hint: a processor of another --application-id, or "
              << "--group, is a different group)\n";
  } else if (uncommitted > 0) {
    std::cerr << "lag: group " << group << " has committed no offset on " << uncommitted << " of "
              << committed->size() << " partitions (committed -1): their lag counts from the "
              << "start of the partition\n";
  }
  std::cout << total << "\n";
  return kExitOk;
}

}  // namespace demerit::cli
