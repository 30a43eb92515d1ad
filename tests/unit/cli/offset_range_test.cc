#include <gtest/gtest.h>

#include "kafka_source.h"

namespace demerit::cli {
namespace {

TEST(ParseOffsetRanges, GoodAndBadSpecs) {
  struct Case {
    std::string spec;
    bool ok;
    std::string topic;
    int32_t partition;
    std::optional<int64_t> from, to;
    std::string error;  // a part of the message
  };
  const Case cases[] = {
      {"demerit.calls:0:100-250", true, "demerit.calls", 0, 100, 250, ""},
      {"demerit.calls:2:-250", true, "demerit.calls", 2, std::nullopt, 250, ""},
      {"demerit.calls:2:100-", true, "demerit.calls", 2, 100, std::nullopt, ""},
      {"demerit.calls:*:-", true, "demerit.calls", -1, std::nullopt, std::nullopt, ""},
      {"demerit.calls:1:7-7", true, "demerit.calls", 1, 7, 7, ""},
      {"demerit.calls:0:9-3", false, "", 0, {}, {}, "FROM 9 is after TO 3"},
      {"demerit.calls:0:5", false, "", 0, {}, {}, "no - between FROM and TO"},
      {"demerit.calls:x:1-2", false, "", 0, {}, {}, "partition \"x\" is not a number or *"},
      {"demerit.calls:-1:1-2", false, "", 0, {}, {}, "is not a number or *"},
      {"demerit.calls:0:1-b", false, "", 0, {}, {}, "offset \"b\" is not a number"},
      {"demerit.calls", false, "", 0, {}, {}, "not TOPIC:PARTITION:FROM-TO"},
      {":0:1-2", false, "", 0, {}, {}, "not TOPIC:PARTITION:FROM-TO"},
      {"", false, "", 0, {}, {}, "not TOPIC:PARTITION:FROM-TO"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    auto ranges = ParseOffsetRanges({c.spec});
    ASSERT_EQ(ranges.ok(), c.ok) << ranges.status().message();
    if (!c.ok) {
      EXPECT_NE(ranges.status().message().find(c.error), std::string::npos)
          << ranges.status().message();
      EXPECT_NE(ranges.status().message().find("Hint:"), std::string::npos);
      continue;
    }
    ASSERT_EQ(ranges->size(), 1u);
    const OffsetRange& r = ranges->front();
    EXPECT_EQ(r.topic, c.topic);
    EXPECT_EQ(r.partition, c.partition);
    EXPECT_EQ(r.from, c.from);
    EXPECT_EQ(r.to, c.to);
  }
}

TEST(ParseOffsetRanges, CommaSeparatedAndRepeated) {
  auto ranges = ParseOffsetRanges({"a:0:1-2,a:1:-3", "b:*:4-"});
  ASSERT_TRUE(ranges.ok()) << ranges.status().message();
  ASSERT_EQ(ranges->size(), 3u);
  EXPECT_EQ((*ranges)[1].spec, "a:1:-3");
  EXPECT_EQ((*ranges)[2].topic, "b");
  EXPECT_FALSE(ParseOffsetRanges({"a:0:1-2,"}).ok());
}

// Two input topics of two partitions: a holds [0, 10) and [5, 20), b [0, 0) and [0, 8).
std::vector<InputPartition> Inputs() {
  return {{"a", 0, 0, 10, 4}, {"a", 1, 5, 20, -1}, {"b", 0, 0, 0, -1}, {"b", 1, 0, 8, 8}};
}

std::string Spans(const core::StatusOr<std::vector<PartitionSpan>>& spans) {
  if (!spans.ok()) return "error: " + spans.status().message();
  std::string text;
  for (const auto& s : spans.value()) {
    text += s.topic + ":" + std::to_string(s.partition) + ":" + std::to_string(s.from) + "-" +
            std::to_string(s.to) + " ";
  }
  return text;
}

TEST(ResolveSpans, GoodAndBadBounds) {
  struct Case {
    std::vector<std::string> specs;
    bool to_committed;
    std::string want;  // the spans, or the start of the error
  };
  const Case cases[] = {
      {{}, false, "a:0:0-10 a:1:5-20 b:1:0-8 "},
      {{"a:0:2-6"}, false, "a:0:2-6 a:1:5-20 b:1:0-8 "},
      {{"a:*:-7"}, false, "a:0:0-7 a:1:5-7 b:1:0-8 "},
      {{"a:1:0-0", "b:*:3-3"}, false, "a:0:0-10 "},
      {{}, true, "a:0:0-4 b:1:0-8 "},
      {{"a:0:1-"}, true, "a:0:1-4 b:1:0-8 "},
      {{"c:0:1-2"}, false, "error: --offsets \"c:0:1-2\": c is not an input topic (Hint: a, b)"},
      {{"a:2:1-2"}, false, "error: --offsets \"a:2:1-2\": a has no partition 2"},
      {{"a:1:2-9"}, false, "error: --offsets \"a:1:2-9\": a partition 1 starts at offset 5"},
      {{"a:0:2-11"}, false, "error: --offsets \"a:0:2-11\": a partition 0 ends at offset 10"},
      {{"a:0:11-"}, false, "error: --offsets \"a:0:11-\": a partition 0 ends at offset 10"},
      {{"a:*:1-2", "a:1:3-4"}, false, "error: --offsets: a partition 1 is bounded twice"},
  };
  for (const auto& c : cases) {
    auto ranges = ParseOffsetRanges(c.specs);
    ASSERT_TRUE(ranges.ok()) << ranges.status().message();
    std::string got = Spans(ResolveSpans(Inputs(), *ranges, c.to_committed, "g"));
    EXPECT_EQ(got.substr(0, c.want.size()), c.want) << got;
  }
}

TEST(ResolveSpans, AGroupWithoutOffsetsIsAnError) {
  std::vector<InputPartition> inputs = {{"a", 0, 0, 10, -1}, {"a", 1, 0, 10, -1}};
  auto spans = ResolveSpans(inputs, {}, true, "nobody");
  ASSERT_FALSE(spans.ok());
  EXPECT_NE(spans.status().message().find("\"nobody\" has committed no offset"), std::string::npos);
}

}  // namespace
}  // namespace demerit::cli
