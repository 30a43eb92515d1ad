#include "demerit/processor/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace demerit::processor {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/demerit-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsWithoutAFile) {
  ProcessorConfig c;
  EXPECT_EQ(c.topics.attendance, "attendance.punches");
  EXPECT_EQ(c.topics.changelog, "demerit.changelog");
  EXPECT_EQ(c.commit_interval_ms, 100);
  EXPECT_EQ(c.application_id, "demerit");
}

TEST(Config, ReadsEveryKey) {
  std::string path = WriteTemp(R"(
bootstrap: k1:9092,k2:9092
rules: /etc/demerit/rules
state: /var/lib/demerit
metrics_listen: 127.0.0.1:9999
application_id: payroll-demerit
instance_id: demerit-2
commit_interval_ms: 250
topics:
  calls: site.calls
  penalties: payroll.penalties
kafka:
  security.protocol: SASL_SSL
  linger.ms: 10
)");
  ProcessorConfig c;
  ASSERT_TRUE(LoadConfigFile(path, &c).ok());
  EXPECT_EQ(c.bootstrap, "k1:9092,k2:9092");
  EXPECT_EQ(c.rules, "/etc/demerit/rules");
  EXPECT_EQ(c.state, "/var/lib/demerit");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9999");
  EXPECT_EQ(c.application_id, "payroll-demerit");
  EXPECT_EQ(c.instance_id, "demerit-2");
  EXPECT_EQ(c.commit_interval_ms, 250);
  EXPECT_EQ(c.topics.calls, "site.calls");
  EXPECT_EQ(c.topics.penalties, "payroll.penalties");
  EXPECT_EQ(c.topics.visits, "visits.completions");
  EXPECT_EQ(c.kafka.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c.kafka.at("linger.ms"), "10");
  unlink(path.c_str());
}

TEST(Config, BadFilesNameThePlaceAndWhatIsAllowed) {
  struct Case {
    const char* text;
    const char* expect;  // a substring of the error
  } cases[] = {
      {"bootstrap: x\nbrokers: y\n", ":2:1: unknown key \"brokers\" (Hint: bootstrap, rules"},
      {"commit_interval_ms: soon\n", ":1:21: commit_interval_ms \"soon\" is not an integer from 1"},
      {"commit_interval_ms: 0\n", "is not an integer from 1 to 60000"},
      {"topics:\n  payroll: p\n", ":2:3: unknown topic \"payroll\" (Hint: attendance, calls"},
      {"topics: [a, b]\n", "topics must be a mapping"},
      {"kafka:\n  sasl.mechanism: [a]\n", "kafka property sasl.mechanism must be a value"},
      {"bootstrap: [a, b]\n", "bootstrap must be a value"},
      {"bootstrap: [unclosed\n", "not valid YAML"},
      {"- a\n- b\n", "the configuration must be a mapping"},
      {"bootstrap: a\nbootstrap: b\n",
       ":2:1: duplicate key \"bootstrap\", first at line 1 column 1"},
      {"topics:\n  calls: a\n  calls: b\n", ":3:3: duplicate key \"calls\""},
      {"kafka:\n  linger.ms: 1\n  linger.ms: 2\n", ":3:3: duplicate key \"linger.ms\""},
  };
  for (const auto& c : cases) {
    std::string path = WriteTemp(c.text);
    ProcessorConfig config;
    core::Status s = LoadConfigFile(path, &config);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(s.message().rfind(path, 0), 0u) << "names the file: " << s.message();
    unlink(path.c_str());
  }
  ProcessorConfig config;
  EXPECT_NE(LoadConfigFile("/nonexistent/demerit.yaml", &config).message().find("cannot read"),
            std::string::npos);
}

TEST(Config, EveryProblemIsReportedWithItsPlace) {
  std::string path = WriteTemp(
      "brokers: x\n"              // 1
      "bootstrap: y\n"            // 2
      "zone: z\n"                 // 3
      "topics:\n"                 // 4
      "  payroll: p\n"            // 5
      "  audit: q\n"              // 6
      "commit_interval_ms: -5\n"  // 7
      "bootstrap: w\n");          // 8
  ProcessorConfig config;
  core::Status s = LoadConfigFile(path, &config);
  ASSERT_FALSE(s.ok());
  std::vector<std::string> lines;
  std::istringstream in(s.message());
  for (std::string line; std::getline(in, line);) lines.push_back(line.substr(path.size()));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       ":8:1: duplicate key \"bootstrap\", first at line 2 column 1 (Hint: a key "
                       "appears once in a mapping; merge the two entries or remove one)",
                       ":1:1: unknown key \"brokers\" (Hint: bootstrap, rules, state, "
                       "metrics_listen, application_id, instance_id, commit_interval_ms, cache_mb, "
                       "topics, kafka)",
                       ":3:1: unknown key \"zone\" (Hint: bootstrap, rules, state, metrics_listen, "
                       "application_id, instance_id, commit_interval_ms, cache_mb, topics, kafka)",
                       ":5:3: unknown topic \"payroll\" (Hint: attendance, calls, visits, "
                       "callbacks, observations, penalties, deadletter, changelog)",
                       ":6:3: unknown topic \"audit\" (Hint: attendance, calls, visits, callbacks, "
                       "observations, penalties, deadletter, changelog)",
                       ":7:21: commit_interval_ms \"-5\" is not an integer from 1 to 60000"}))
      << s.message();
  unlink(path.c_str());
}

TEST(Config, MalformedFilesEndWithAnError) {
  // yaml-cpp's event parser reported one more document for ever after this
  // one (found by the config fuzz target): loading it must end.
  const std::string text = ",zcacms: 60000\ntopics: {\"c\"}\n";
  auto done = std::async(std::launch::async, [&] {
    ProcessorConfig config;
    return ParseConfig("hang.yaml", text, &config);
  });
  if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::cerr << "ParseConfig did not return\n";
    std::abort();
  }
  EXPECT_FALSE(done.get().ok());
}

TEST(Config, SecretsComeFromTheEnvironment) {
  setenv("DEMERIT_KAFKA_SASL_USERNAME", "u", 1);
  setenv("DEMERIT_KAFKA_SASL_PASSWORD", "p", 1);
  unsetenv("DEMERIT_KAFKA_SSL_CA_LOCATION");
  ProcessorConfig c;
  ApplyEnvironment(&c);
  EXPECT_EQ(c.kafka.at("sasl.username"), "u");
  EXPECT_EQ(c.kafka.at("sasl.password"), "p");
  EXPECT_EQ(c.kafka.count("ssl.ca.location"), 0u);
  unsetenv("DEMERIT_KAFKA_SASL_USERNAME");
  unsetenv("DEMERIT_KAFKA_SASL_PASSWORD");
}

}  // namespace
}  // namespace demerit::processor
