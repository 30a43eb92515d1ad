#include "demerit/processor/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>

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
    case core::Stream::kAttendance: return attendance;
    case core::Stream::kCalls: return calls;
    case core::Stream::kVisits: return visits;
    case core::Stream::kCallbacks: return callbacks;
    case core::Stream::kObservations: return observations;
  }
  return attendance;
}

core::Status LoadConfigFile(const std::string& path, ProcessorConfig* config) {
  YAML::Node root;
  try {
    std::ifstream in(path);
    if (!in) return core::Status::Error(path + ": cannot read the configuration file");
    root = YAML::Load(in);
  } catch (const YAML::Exception& e) {
    return core::Status::Error(path + ":" + std::to_string(e.mark.line + 1) +
                               ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return core::Status::Ok();
  if (!root.IsMap()) return core::Status::Error(path + ": the configuration must be a mapping");
  static const char* kHint =
      " (Hint: bootstrap, rules, state, metrics_listen, application_id, instance_id, "
      "commit_interval_ms, cache_mb, topics, kafka)";
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    auto scalar = [&](std::string* out) -> core::Status {
      if (!v.IsScalar()) return core::Status::Error(Where(path, v) + ": " + key + " must be a value");
      *out = v.Scalar();
      return core::Status::Ok();
    };
    core::Status s;
    if (key == "bootstrap") {
      s = scalar(&config->bootstrap);
    } else if (key == "rules") {
      s = scalar(&config->rules);
    } else if (key == "state") {
      s = scalar(&config->state);
    } else if (key == "metrics_listen") {
      s = scalar(&config->metrics_listen);
    } else if (key == "application_id") {
      s = scalar(&config->application_id);
    } else if (key == "instance_id") {
      s = scalar(&config->instance_id);
    } else if (key == "commit_interval_ms") {
      std::string text;
      s = scalar(&text);
      if (s.ok()) {
        try {
          size_t used = 0;
          int ms = std::stoi(text, &used);
          if (used != text.size() || ms < 1 || ms > 60000) throw std::invalid_argument(text);
          config->commit_interval_ms = ms;
        } catch (const std::exception&) {
          s = core::Status::Error(Where(path, v) + ": commit_interval_ms \"" + text +
                                  "\" is not an integer from 1 to 60000");
        }
      }
    } else if (key == "cache_mb") {
      std::string text;
      s = scalar(&text);
      if (s.ok()) {
        try {
          size_t used = 0;
          int mb = std::stoi(text, &used);
          if (used != text.size() || mb < 16 || mb > 1 << 20) throw std::invalid_argument(text);
          config->cache_mb = mb;
        } catch (const std::exception&) {
          s = core::Status::Error(Where(path, v) + ": cache_mb \"" + text +
                                  "\" is not an integer from 16 to 1048576 (MiB)");
        }
      }
    } else if (key == "topics") {
      if (!v.IsMap()) return core::Status::Error(Where(path, v) + ": topics must be a mapping");
      std::map<std::string, std::string*> names = {
          {"attendance", &config->topics.attendance},
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
          return core::Status::Error(Where(path, t.first) + ": unknown topic \"" +
                                     t.first.Scalar() +
                                     "\" (Hint: attendance, calls, visits, callbacks, "
                                     "observations, penalties, deadletter, changelog)");
        }
        if (!t.second.IsScalar() || t.second.Scalar().empty()) {
          return core::Status::Error(Where(path, t.second) + ": a topic name is a non-empty value");
        }
        *it->second = t.second.Scalar();
      }
    } else if (key == "kafka") {
      if (!v.IsMap()) {
        return core::Status::Error(Where(path, v) +
                                   ": kafka must map librdkafka properties to values");
      }
      for (const auto& p : v) {
        if (!p.second.IsScalar()) {
          return core::Status::Error(Where(path, p.second) + ": kafka property " +
                                     p.first.Scalar() + " must be a value");
        }
        config->kafka[p.first.Scalar()] = p.second.Scalar();
      }
    } else {
      return core::Status::Error(Where(path, kv.first) + ": unknown key \"" + key + "\"" + kHint);
    }
    if (!s.ok()) return s;
  }
  return core::Status::Ok();
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
