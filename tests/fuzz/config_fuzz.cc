// The processor configuration loader (LoadConfigFile).
// Input: a configuration file.
// Properties: a configuration that loads, written back as YAML, loads to the
// same settings (when its values are UTF-8); a failure names the file.

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "demerit/processor/config.h"
#include "property.h"

namespace demerit::fuzz {
namespace {

// Two files of this process, removed at exit.
struct TempFiles {
  TempFiles() {
    auto dir = std::filesystem::temp_directory_path();
    std::string stem = (dir / ("demerit-config-fuzz-" + std::to_string(getpid()))).string();
    in = stem + "-in.yaml";
    out = stem + "-out.yaml";
  }
  ~TempFiles() {
    std::error_code ec;
    std::filesystem::remove(in, ec);
    std::filesystem::remove(out, ec);
  }
  std::string in, out;
};

const TempFiles& Temp() {
  static const TempFiles files;
  return files;
}

void Write(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// Whether `s` is well-formed UTF-8 (no overlong forms or surrogates).
bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80                 ? 1
               : c >= 0xc2 && c <= 0xdf ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    unsigned char c1 = static_cast<unsigned char>(n > 1 ? s[i + 1] : 0);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 > 0x8f)) {
      return false;
    }
    i += n;
  }
  return true;
}

// Every setting, in the configuration file's own form.
std::string ToYaml(const processor::ProcessorConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  auto text = [&](const char* key, const std::string& value) {
    out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
  };
  text("bootstrap", c.bootstrap);
  text("rules", c.rules);
  text("state", c.state);
  text("metrics_listen", c.metrics_listen);
  text("application_id", c.application_id);
  text("instance_id", c.instance_id);
  out << YAML::Key << "commit_interval_ms" << YAML::Value << c.commit_interval_ms;
  out << YAML::Key << "cache_mb" << YAML::Value << c.cache_mb;
  out << YAML::Key << "topics" << YAML::Value << YAML::BeginMap;
  text("attendance", c.topics.attendance);
  text("calls", c.topics.calls);
  text("visits", c.topics.visits);
  text("callbacks", c.topics.callbacks);
  text("observations", c.topics.observations);
  text("penalties", c.topics.penalties);
  text("deadletter", c.topics.deadletter);
  text("changelog", c.topics.changelog);
  out << YAML::EndMap;
  out << YAML::Key << "kafka" << YAML::Value << YAML::BeginMap;
  for (const auto& [key, value] : c.kafka) {
    out << YAML::Key << YAML::DoubleQuoted << key << YAML::Value << YAML::DoubleQuoted << value;
  }
  out << YAML::EndMap << YAML::EndMap;
  return out.c_str();
}

// The settings, one a line, for comparing and for showing.
std::string Show(const processor::ProcessorConfig& c) {
  std::string out = "bootstrap=" + c.bootstrap + "\nrules=" + c.rules + "\nstate=" + c.state +
                    "\nmetrics_listen=" + c.metrics_listen +
                    "\napplication_id=" + c.application_id + "\ninstance_id=" + c.instance_id +
                    "\ncommit_interval_ms=" + std::to_string(c.commit_interval_ms) +
                    "\ncache_mb=" + std::to_string(c.cache_mb) + "\n";
  const auto& t = c.topics;
  for (const auto* topic : {&t.attendance, &t.calls, &t.visits, &t.callbacks, &t.observations,
                            &t.penalties, &t.deadletter, &t.changelog}) {
    out += "topic=" + *topic + "\n";
  }
  for (const auto& [key, value] : c.kafka) out += "kafka " + key + "=" + value + "\n";
  return out;
}

void Check(std::string_view text) {
  const std::string& in = Temp().in;
  Write(in, text);
  processor::ProcessorConfig loaded;
  core::Status status = processor::LoadConfigFile(in, &loaded);
  if (!status.ok()) {
    DEMERIT_PROPERTY(status.message().starts_with(in + ":"),
                     "error without the file name: " + status.message());
    return;
  }
  // YAML text is Unicode: a value of other bytes (which yaml-cpp reads as
  // they are) has no form to be written back in.
  if (!IsUtf8(Show(loaded))) return;
  const std::string yaml = ToYaml(loaded);
  const std::string& out = Temp().out;
  Write(out, yaml);
  processor::ProcessorConfig again;
  status = processor::LoadConfigFile(out, &again);
  DEMERIT_PROPERTY(status.ok(), "written back: " + yaml + "\n" + status.message());
  DEMERIT_PROPERTY(Show(loaded) == Show(again), "written back: " + yaml + "\nfirst:\n" +
                                                    Show(loaded) + "second:\n" + Show(again));
}

}  // namespace
}  // namespace demerit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  demerit::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
