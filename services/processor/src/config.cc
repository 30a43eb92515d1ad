#include "demerit/processor/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "demerit/core/duplicate_keys.h"

namespace demerit::processor {
namespace {

std::string Where(const std::string& path, const YAML::Node& node) {
  return path + ":" + std::to_string(node.Mark().line + 1) + ":" +
         std::to_string(node.Mark().column + 1);
}

}  // namespace

std::map<std::string, core::Stream> Topics::Inputs() const {
  std::map<std::string, core::Stream> inputs;
  for (int i = 0; i < core::kStreamCount; ++i) {
    auto stream = static_cast<core::Stream>(i);
    inputs.emplace(Input(stream), stream);
  }
  return inputs;
}

std::string Topics::InputOf(const v1::Envelope& event) const {
  core::Stream stream;
  return core::StreamOf(event, &stream) ? Input(stream) : std::string();
}

const std::string& Topics::Input(core::Stream stream) const {
  switch (stream) {
    case core::Stream::kAttendance:
      return attendance;
    case core::Stream::kCalls:
      return calls;
    case core::Stream::kVisits:
      return visits;
    case core::Stream::kCallbacks:
      return callbacks;
    case core::Stream::kObservations:
      return observations;
  }
  return attendance;
}

core::Status LoadConfigFile(const std::string& path, ProcessorConfig* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Status::Error(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(path, text.str(), config);
}

core::Status ParseConfig(const std::string& path, const std::string& text,
                         ProcessorConfig* config) {
  std::vector<std::string> errors = core::FindDuplicateKeys(path, text);
  auto result = [&errors]() -> core::Status {
    if (errors.empty()) return core::Status::Ok();
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
    return core::Status::Error(message);
  };
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors.push_back(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
    return result();
  }
  if (root.IsNull()) {
    if (auto unread = core::UnreadContent(path, text)) errors.push_back(*unread);
    return result();
  }
  if (!root.IsMap()) {
    errors.push_back(path + ": the configuration must be a mapping");
    return result();
  }
  static const char* kHint =
      " (Hint: bootstrap, rules, state, metrics_listen, application_id, instance_id, "
      "commit_interval_ms, cache_mb, topics, kafka)";
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    auto error = [&](const YAML::Node& at, const std::string& message) {
      errors.push_back(Where(path, at) + ": " + message);
    };
    auto scalar = [&](std::string* out) {
      if (!v.IsScalar()) return error(v, key + " must be a value");
      *out = v.Scalar();
    };
    // An integer value from `low` to `high`.
    auto integer = [&](int low, int high, const char* unit, int* out) {
      if (!v.IsScalar()) return error(v, key + " must be a value");
      const std::string& text = v.Scalar();
      int n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || n < low || n > high) {
        return error(v, key + " \"" + text + "\" is not an integer from " + std::to_string(low) +
                            " to " + std::to_string(high) + unit);
      }
      *out = n;
    };
    if (key == "bootstrap") {
      scalar(&config->bootstrap);
    } else if (key == "rules") {
      scalar(&config->rules);
    } else if (key == "state") {
      scalar(&config->state);
    } else if (key == "metrics_listen") {
      scalar(&config->metrics_listen);
    } else if (key == "application_id") {
      scalar(&config->application_id);
    } else if (key == "instance_id") {
      scalar(&config->instance_id);
    } else if (key == "commit_interval_ms") {
      integer(kMinCommitIntervalMs, kMaxCommitIntervalMs, "", &config->commit_interval_ms);
    } else if (key == "cache_mb") {
      integer(16, 1 << 20, " (MiB)", &config->cache_mb);
    } else if (key == "topics") {
      if (!v.IsMap()) {
        error(v, "topics must be a mapping");
        continue;
      }
      std::map<std::string, std::string*> names = {{"attendance", &config->topics.attendance},
                                                   {"calls", &config->topics.calls},
                                                   {"visits", &config->topics.visits},
                                                   {"callbacks", &config->topics.callbacks},
                                                   {"observations", &config->topics.observations},
                                                   {"penalties", &config->topics.penalties},
                                                   {"deadletter", &config->topics.deadletter},
                                                   {"changelog", &config->topics.changelog}};
      for (const auto& t : v) {
        auto it = names.find(t.first.Scalar());
        if (it == names.end()) {
          error(t.first, "unknown topic \"" + t.first.Scalar() +
                             "\" (Hint: attendance, calls, visits, callbacks, observations, "
                             "penalties, deadletter, changelog)");
        } else if (!t.second.IsScalar() || t.second.Scalar().empty()) {
          error(t.second, "a topic name is a non-empty value");
        } else {
          *it->second = t.second.Scalar();
        }
      }
    } else if (key == "kafka") {
      if (!v.IsMap()) {
        error(v, "kafka must map librdkafka properties to values");
        continue;
      }
      for (const auto& p : v) {
        if (!p.second.IsScalar()) {
          error(p.second, "kafka property " + p.first.Scalar() + " must be a value");
        } else {
          config->kafka[p.first.Scalar()] = p.second.Scalar();
        }
      }
    } else {
      error(kv.first, "unknown key \"" + key + "\"" + kHint);
    }
  }
  return result();
}

void ApplyEnvironment(ProcessorConfig* config) {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (const char* v = env("DEMERIT_KAFKA_SASL_USERNAME")) config->kafka["sasl.username"] = v;
  if (const char* v = env("DEMERIT_KAFKA_SASL_PASSWORD")) config->kafka["sasl.password"] = v;
  if (const char* v = env("DEMERIT_KAFKA_SSL_CA_LOCATION")) config->kafka["ssl.ca.location"] = v;
}

}  // namespace demerit::processor
