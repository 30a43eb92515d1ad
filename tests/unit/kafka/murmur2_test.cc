// Our murmur2 partitioner must choose the partition librdkafka's
// murmur2_random (and the Java client) choose for the same key.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "demerit/kafka/client.h"

namespace demerit::kafka {
namespace {

TEST(Murmur2Partition, AgreesWithLibrdkafka) {
  std::vector<std::string> keys = {"", "a", "ab", "abc", "abcd", "li.wei", "emp-0", "emp-1234",
                                   "zhang.min", "张敏", "employee-with-a-rather-long-identifier"};
  for (int i = 0; i < 200; ++i) keys.push_back("emp-" + std::to_string(i * 7919));
  for (const auto& key : keys) {
    for (int32_t partitions : {1, 2, 3, 4, 7, 12, 64}) {
      int32_t theirs = rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(),
                                                        partitions, nullptr, nullptr);
      if (key.empty()) continue;  // murmur2_random picks at random for an empty key
      EXPECT_EQ(Murmur2Partition(key, partitions), theirs) << key << " / " << partitions;
    }
  }
}

}  // namespace
}  // namespace demerit::kafka
