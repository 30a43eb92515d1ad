// ParseEventJson reads plain event lines directly and leaves all others to
// protobuf's JSON parser. Every line must come out exactly as protobuf alone
// reads it: the same rejection text, or the same envelope bytes.

#include "event_json.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "demerit/core/codec.h"
#include "test_rules.h"

namespace demerit::core {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// What a parse leaves: the rejection, and the envelope's bytes either way.
std::string Outcome(const std::optional<Rejection>& rejection, const v1::Envelope& event) {
  std::string outcome = rejection ? "rejected (" + v1::DeadLetterReason_Name(rejection->reason) +
                                        "): " + rejection->detail
                                  : "accepted";
  return outcome + "; envelope " + event.ShortDebugString();
}

// Whether ParseEventJson and protobuf alone read `line` alike; sets `*plain`
// to whether the direct reader took it.
::testing::AssertionResult SameAsProtobuf(std::string_view line, bool* plain = nullptr) {
  v1::Envelope direct, reference;
  std::optional<Rejection> a = ParseEventJson(line, &direct);
  std::optional<Rejection> b = ParseEventJsonWithProtobuf(line, &reference);
  if (plain != nullptr) {
    v1::Envelope scratch;
    *plain = ParsePlainEventJson(line, &scratch);
  }
  std::string got = Outcome(a, direct), want = Outcome(b, reference);
  if (got != want || direct.SerializeAsString() != reference.SerializeAsString()) {
    return ::testing::AssertionFailure()
           << "line: " << line << "\n  ParseEventJson: " << got << "\n  protobuf:       " << want;
  }
  return ::testing::AssertionSuccess();
}

const std::vector<std::string>& GeneratedLines() {
  static const std::vector<std::string> lines = [] {
    auto events = cli::GenerateEvents(cli::GenOptions{.employees = 40, .days = 10, .seed = 7},
                                      *testing::ShippedRules());
    if (!events.ok()) throw std::runtime_error(events.status().message());
    std::vector<std::string> out;
    for (const auto& e : *events) out.push_back(EventToJson(e));
    return out;
  }();
  return lines;
}

TEST(EventJsonTest, GeneratedLinesTakeTheDirectReader) {
  const auto& lines = GeneratedLines();
  ASSERT_GT(lines.size(), 2000u);
  std::set<v1::Envelope::PayloadCase> payloads;
  for (const std::string& line : lines) {
    bool plain = false;
    ASSERT_TRUE(SameAsProtobuf(line, &plain));
    ASSERT_TRUE(plain) << line;
    v1::Envelope e;
    ASSERT_FALSE(ParseEventJson(line, &e).has_value());
    payloads.insert(e.payload_case());
  }
  EXPECT_EQ(payloads.size(), 5u);
}

// Envelopes with every field of a payload set at random (ids of letters and
// digits, times in 1900..2199), as EventToJson prints them: the direct reader
// takes them all.
TEST(EventJsonTest, EveryFieldTakesTheDirectReader) {
  std::mt19937_64 rng(11);
  auto pick = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  };
  const auto* payload = v1::Envelope::descriptor()->FindOneofByName("payload");
  for (int round = 0; round < 3000; ++round) {
    v1::Envelope e;
    const FieldDescriptor* which = payload->field(static_cast<int>(pick(0, 4)));
    Message* m = e.GetReflection()->MutableMessage(&e, which);
    const Reflection* r = m->GetReflection();
    for (int i = 0; i < m->GetDescriptor()->field_count(); ++i) {
      const FieldDescriptor* f = m->GetDescriptor()->field(i);
      if (pick(0, 3) == 0) continue;  // absent
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string s;
          for (int64_t n = pick(0, 20); n > 0; --n) s += "abcXYZ019-_ ."[pick(0, 12)];
          r->SetString(m, f, s);
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL:
          r->SetBool(m, f, pick(0, 1) == 1);
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          r->SetInt32(
              m, f,
              static_cast<int32_t>(pick(0, 2) == 0 ? pick(INT32_MIN, INT32_MAX) : pick(-5, 5)));
          break;
        case FieldDescriptor::CPPTYPE_ENUM: {
          const auto* values = f->enum_type();
          for (int64_t n = f->is_repeated() ? pick(0, 4) : 1; n > 0; --n) {
            const auto* v = values->value(static_cast<int>(pick(0, values->value_count() - 1)));
            if (f->is_repeated()) {
              r->AddEnum(m, f, v);
            } else {
              r->SetEnum(m, f, v);
            }
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          auto* ts = static_cast<google::protobuf::Timestamp*>(r->MutableMessage(m, f));
          ts->set_seconds(pick(-2'208'988'800, 7'258'118'399));  // 1900..2199
          int64_t nanos[] = {0, pick(0, 999) * 1'000'000, pick(0, 999'999) * 1000,
                             pick(0, 999'999'999)};
          ts->set_nanos(static_cast<int32_t>(nanos[pick(0, 3)]));
          break;
        }
        default:
          FAIL() << "no random value for " << f->full_name();
      }
    }
    std::string line = EventToJson(e);
    bool plain = false;
    ASSERT_TRUE(SameAsProtobuf(line, &plain));
    ASSERT_TRUE(plain) << line;
    v1::Envelope back;
    ASSERT_TRUE(ParsePlainEventJson(line, &back));
    ASSERT_EQ(back.SerializeAsString(), e.SerializeAsString()) << line;
  }
}

// Hand-written lines, each a variant of a plain one.
TEST(EventJsonTest, VariantsReadAsProtobufReadsThem) {
  const std::string head = R"("event_id":"e1","site_id":"huawei-shenzhen","employee_id":"emp-7",)"
                           R"("occurred_at":"2026-11-02T01:05:00Z")";
  auto call = [&](const std::string& extra) { return R"({"call":{)" + head + extra + "}}"; };
  auto at = [&](const std::string& time) {
    return R"({"attendance":{"event_id":"a","occurred_at":")" + time + R"("}})";
  };
  const std::vector<std::string> lines = {
      // Whitespace, key order, an empty payload.
      " { \"call\" : { \"line\" : \"HOTLINE\" ,\"event_id\":\"x\" } } \r\n",
      "\t{\"call\":{\"event_id\":\"x\"\n}}\t",
      "{\"call\":{\"event_id\":\"x\"}}\v",
      "\f{\"call\":{\"event_id\":\"x\"}}",
      R"({"call":{}})",
      R"({"call":{ }})",
      R"({"observation":{}})",
      // Not an event, broken, trailing garbage, trailing commas.
      "",
      " ",
      "{}",
      "[]",
      "null",
      "{\"call\":{}",
      R"({"call":{}}})",
      R"({"call":{}} x)",
      R"({"call":{}}{"call":{}})",
      R"({"call":{},})",
      call(","),
      call(",}"),
      R"({"call":[]})",
      R"({"call":null})",
      R"({"call":"x"})",
      R"({"call":{"event_id":"x"})",
      R"({"call":{"event_id":"x"}})" + std::string("\0", 1),
      // Two payloads, unknown keys, other key spellings.
      R"({"call":{},"visit":{}})",
      R"({"call":{},"call":{}})",
      R"({"call":{"event_id":"x"},"source":1})",
      R"({"source":1,"call":{}})",
      R"({"Call":{}})",
      R"({call:{}})",
      R"({'call':{}})",
      R"({"call":{event_id:"x"}})",
      R"({"call":{"eventId":"x"}})",
      R"({"call":{"ring_count":3}})",
      R"({"call":{"rings_before_answer":1,"ringsBeforeAnswer":2}})",
      R"({"c\u0061ll":{}})",
      R"({"call":{"event\u005fid":"x"}})",
      R"({"attendance":{"call":{}}})",
      // Duplicate keys and nulls.
      call(R"(,"event_id":"e2")"),
      call(R"(,"answered":true,"answered":false)"),
      call(R"(,"occurred_at":"2026-11-02T01:06:00Z")"),
      call(R"(,"line":"HOTLINE","line":"MOBILE")"),
      call(R"(,"event_id":null)"),
      call(R"(,"line":null)"),
      call(R"(,"answered":null)"),
      call(R"(,"hold_seconds":null)"),
      // Strings for bools, a single value for a list.
      call(R"(,"answered":"no")"),
      call(R"(,"answered":"true")"),
      call(R"(,"answered":"false")"),
      call(R"(,"greetingOk":"yes")"),
      call(R"(,"answered":1)"),
      R"({"callback":{"complaint_reasons":"RUDE_STAFF"}})",
      R"({"callback":{"complaint_reasons":3}})",
      R"({"callback":{"complaintReasons":"OTHER"}})",
      R"({"call":{"occurred_at":null}})",
      R"({"callback":{"complaint_reasons":null}})",
      R"({"callback":{"complaint_reasons":["RUDE_STAFF"],"complaint_reasons":["OTHER"]}})",
      // Strings: escapes, UTF-8, control characters.
      call(R"(,"employee_role":"AGENT")").replace(9, 0, " "),
      R"({"observation":{"note":"a\"b"}})",
      R"({"observation":{"note":"a\\b"}})",
      R"({"observation":{"note":"a\nb\t\/\b\f\r"}})",
      R"({"observation":{"note":"\u00e9\u4e2d"}})",
      R"({"observation":{"note":"\ud83d\ude00"}})",
      R"({"observation":{"note":"\ud83d"}})",
      R"({"observation":{"note":"\ude00"}})",
      R"({"observation":{"note":"\u0000"}})",
      R"({"observation":{"note":"\x"}})",
      R"({"observation":{"note":"\u12"}})",
      "{\"observation\":{\"note\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}}",
      "{\"observation\":{\"note\":\"\xef\xbf\xbf\xef\xbf\xbe\xf4\x8f\xbf\xbf\"}}",
      "{\"observation\":{\"note\":\"\xed\xa0\x80\"}}",
      "{\"observation\":{\"note\":\"\xc0\x80\"}}",
      "{\"observation\":{\"note\":\"\xc3\"}}",
      "{\"observation\":{\"note\":\"\xff\"}}",
      "{\"observation\":{\"note\":\"\xf4\x90\x80\x80\"}}",
      "{\"observation\":{\"note\":\"\xe0\x80\xaf\"}}",
      "{\"observation\":{\"note\":\"\x80\"}}",
      "{\"observation\":{\"note\":\"a\x01"
      "b\"}}",
      "{\"observation\":{\"note\":\"a\x7f"
      "b\"}}",
      "{\"observation\":{\"note\":\"a\tb\"}}",
      "{\"observation\":{\"note\":\"a\nb\"}}",
      "{\"observation\":{\"note\":\"x\"}}\xff",
      R"({"observation":{"note":'x'}})",
      R"({"observation":{"note":5}})",
      R"({"observation":{"note":true}})",
      R"({"observation":{"note":"unterminated}})",
      // Numbers.
      call(R"(,"hold_seconds":0)"),
      call(R"(,"hold_seconds":-0)"),
      call(R"(,"hold_seconds":-7)"),
      call(R"(,"hold_seconds":5.0)"),
      call(R"(,"hold_seconds":5e0)"),
      call(R"(,"hold_seconds":5E0)"),
      call(R"(,"hold_seconds":0.5)"),
      call(R"(,"hold_seconds":05)"),
      call(R"(,"hold_seconds":-05)"),
      call(R"(,"hold_seconds":"5")"),
      call(R"(,"hold_seconds":" 5")"),
      call(R"(,"hold_seconds":+5)"),
      call(R"(,"hold_seconds":2147483647)"),
      call(R"(,"hold_seconds":2147483648)"),
      call(R"(,"hold_seconds":-2147483648)"),
      call(R"(,"hold_seconds":-2147483649)"),
      call(R"(,"hold_seconds":99999999999999999999)"),
      call(R"(,"hold_seconds":1e400)"),
      call(R"(,"hold_seconds":0x10)"),
      call(R"(,"hold_seconds":5x)"),
      call(R"(,"hold_seconds":5-3)"),
      call(R"(,"hold_seconds":5 6)"),
      call(R"(,"hold_seconds":-)"),
      call(R"(,"hold_seconds":true)"),
      call(R"(,"hold_seconds":[5])"),
      call(R"(,"hold_seconds":{})"),
      // Enums.
      call(R"(,"line":"HOTLINE")"),
      call(R"(,"line":"LINE_UNSPECIFIED")"),
      call(R"(,"line":2)"),
      call(R"(,"line":99)"),
      call(R"(,"line":-1)"),
      call(R"(,"line":"2")"),
      call(R"(,"line":"99")"),
      call(R"(,"line":"hotline")"),
      call(R"(,"line":"Hotline")"),
      call(R"(,"line":"HOT_LINE")"),
      call(R"(,"line":"CLOCK_IN")"),
      call(R"(,"line":"")"),
      call(R"(,"line":true)"),
      call(R"(,"line":2.0)"),
      R"({"callback":{"complaint_reasons":[]}})",
      R"({"callback":{"complaint_reasons":[ "OTHER" , "RUDE_STAFF" ]}})",
      R"({"callback":{"complaint_reasons":["OTHER",]}})",
      R"({"callback":{"complaint_reasons":[,]}})",
      R"({"callback":{"complaint_reasons":[3,"OTHER"]}})",
      R"({"callback":{"complaint_reasons":["NOPE"]}})",
      R"({"callback":{"complaint_reasons":"OTHER"}})",
      R"({"callback":{"complaint_reasons":[null]}})",
      R"({"callback":{"complaint_reasons":[["OTHER"]]}})",
      R"({"callback":{"complaint_reasons":["COMPLAINT_REASON_UNSPECIFIED"]}})",
      // Bools.
      call(R"(,"answered":true)"),
      call(R"(,"answered":false)"),
      call(R"(,"answered":"true")"),
      call(R"(,"answered":1)"),
      call(R"(,"answered":0)"),
      call(R"(,"answered":True)"),
      call(R"(,"answered":truex)"),
      call(R"(,"answered":tru)"),
      call(R"(,"void":true)"),
      // Timestamps: fractions.
      at("2026-11-02T01:05:00Z"),
      at("2026-11-02T01:05:00.5Z"),
      at("2026-11-02T01:05:00.123Z"),
      at("2026-11-02T01:05:00.123456Z"),
      at("2026-11-02T01:05:00.123456789Z"),
      at("2026-11-02T01:05:00.1234567891Z"),
      at("2026-11-02T01:05:00.Z"),
      at("2026-11-02T01:05:00.000Z"),
      // Offsets.
      at("2026-11-02T01:05:00+08:00"),
      at("2026-11-02T01:05:00.25-05:30"),
      at("2026-11-02T01:05:00+23:59"),
      at("2026-11-02T01:05:00-00:00"),
      at("2026-11-02T01:05:00+24:00"),
      at("2026-11-02T01:05:00+08:60"),
      at("2026-11-02T01:05:00+0800"),
      at("2026-11-02T01:05:00+08"),
      // Other spellings.
      at("2026-11-02t01:05:00Z"),
      at("2026-11-02T01:05:00z"),
      at("2026-11-02 01:05:00Z"),
      at("2026-11-02T01:05:00"),
      at("2026-11-02T01:05Z"),
      at("2026-1-02T01:05:00Z"),
      at("2026-11-2T01:05:00Z"),
      at("26-11-02T01:05:00Z"),
      at("+2026-11-02T01:05:00Z"),
      at(""),
      at("now"),
      // Days and times that do not exist.
      at("2026-11-02T24:00:00Z"),
      at("2026-11-02T23:60:00Z"),
      at("2026-11-02T23:59:60Z"),
      at("2026-02-29T00:00:00Z"),
      at("2028-02-29T00:00:00Z"),
      at("2100-02-29T00:00:00Z"),
      at("2000-02-29T00:00:00Z"),
      at("2026-04-31T00:00:00Z"),
      at("2026-00-10T00:00:00Z"),
      at("2026-13-10T00:00:00Z"),
      at("2026-11-00T00:00:00Z"),
      // The ends of protobuf's range (0001..9999) and of the direct reader's.
      at("0000-01-01T00:00:00Z"),
      at("0001-01-01T00:00:00Z"),
      at("0001-01-01T00:00:00+01:00"),
      at("0001-01-01T00:00:00-01:00"),
      at("9999-12-31T23:59:59Z"),
      at("9999-12-31T23:59:59-01:00"),
      at("9999-12-31T23:59:59+01:00"),
      // 1900..2199.
      at("1899-12-31T23:59:59Z"),
      at("1900-01-01T00:00:00Z"),
      at("1900-01-01T00:00:00+01:00"),
      at("1969-12-31T23:59:59.5Z"),
      at("1970-01-01T00:00:00Z"),
      at("2199-12-31T23:59:59.999999999Z"),
      at("2199-12-31T23:59:59-01:00"),
      at("2200-01-01T00:00:00Z"),
      // Not a string.
      R"({"attendance":{"occurred_at":1793581500}})",
      R"({"attendance":{"occurred_at":{"seconds":1793581500}}})",
  };
  for (const std::string& line : lines) EXPECT_TRUE(SameAsProtobuf(line));
}

// Generated lines with random edits: bytes inserted, deleted or replaced by
// ones that matter to JSON, members reordered, dropped, repeated or renamed,
// values replaced by values of other types.
TEST(EventJsonTest, MutatedLinesReadAsProtobufReadsThem) {
  const std::vector<std::string> bytes = {" ",
                                          "\t",
                                          "\n",
                                          "\r",
                                          "\v",
                                          "\"",
                                          "\\",
                                          "{",
                                          "}",
                                          "[",
                                          "]",
                                          ",",
                                          ":",
                                          "0",
                                          "5",
                                          "-",
                                          ".",
                                          "e",
                                          "x",
                                          "Z",
                                          "T",
                                          "n",
                                          std::string(1, '\0'),
                                          "\x1f",
                                          "\x7f",
                                          "\x80",
                                          "\xc3",
                                          "\xff",
                                          "\\u00e9"};
  const std::vector<std::string> values = {"null",
                                           "true",
                                           "false",
                                           "0",
                                           "-0",
                                           "7",
                                           "-7",
                                           "5.0",
                                           "5e0",
                                           "2147483648",
                                           "\"5\"",
                                           "\"\"",
                                           "\"x\"",
                                           "\"HOTLINE\"",
                                           "\"CLOCK_OUT\"",
                                           "\"REMOTE\"",
                                           "\"OTHER\"",
                                           "\"ONLINE_GAMING\"",
                                           "\"INBOUND\"",
                                           "\"EMPLOYEE\"",
                                           "\"CLERK\"",
                                           "\"hotline\"",
                                           "1",
                                           "99",
                                           "{}",
                                           "[]",
                                           "[\"OTHER\",\"RUDE_STAFF\"]",
                                           "[2]",
                                           "\"2026-11-02T01:05:00+08:00\"",
                                           "\"2026-11-02T01:05:00.123456789Z\"",
                                           "\"2026-11-02T01:05:00.1234567890Z\"",
                                           "\"2026-11-02T25:05:00Z\"",
                                           "\"a\\nb\"",
                                           "\"\\u00e9\"",
                                           "\"\xc3\xa9\""};
  const std::vector<std::string> keys = {"event_id",
                                         "eventId",
                                         "site_id",
                                         "employee_id",
                                         "occurred_at",
                                         "occurredAt",
                                         "supersedes_event_id",
                                         "void",
                                         "kind",
                                         "scheduled_at",
                                         "line",
                                         "answered",
                                         "hold_seconds",
                                         "holdSeconds",
                                         "hung_up_by",
                                         "private",
                                         "note",
                                         "code",
                                         "locality",
                                         "arrived_at",
                                         "customer_rating",
                                         "complaint_reasons",
                                         "complaintReasons",
                                         "reached",
                                         "unknown",
                                         "call"};
  std::mt19937_64 rng(5);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };

  // The members of a generated line's payload: `{"P":{m1,m2,...}}`, where no
  // member holds a comma outside a string or array.
  auto split = [](const std::string& line, std::string* prefix, std::vector<std::string>* members) {
    size_t open = line.find('{', 1);
    if (open == std::string::npos || line.size() < open + 3) return false;
    *prefix = line.substr(0, open + 1);
    members->clear();
    std::string body = line.substr(open + 1, line.size() - open - 3);
    bool in_string = false;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c == '"') in_string = !in_string;
      if (in_string) continue;
      if (c == '[') ++depth;
      if (c == ']') --depth;
      if (c == ',' && depth == 0) {
        members->push_back(body.substr(start, i - start));
        start = i + 1;
      }
    }
    if (!body.empty()) members->push_back(body.substr(start));
    return true;
  };

  const auto& lines = GeneratedLines();
  int plain = 0, total = 0;
  for (size_t n = 0; n < 20000; ++n) {
    std::string line = lines[pick(lines.size())];
    for (size_t edits = 1 + pick(3); edits > 0 && !line.empty(); --edits) {
      size_t at = pick(line.size() + 1);
      switch (pick(9)) {
        case 0:
          line.insert(at, bytes[pick(bytes.size())]);
          break;
        case 1:
          line.erase(std::min(at, line.size() - 1), 1 + pick(3));
          break;
        case 2:
          line.replace(std::min(at, line.size() - 1), 1, bytes[pick(bytes.size())]);
          break;
        case 3:
          line.resize(at);
          break;
        default: {
          std::string prefix;
          std::vector<std::string> members;
          if (!split(line, &prefix, &members) || members.empty()) break;
          size_t m = pick(members.size());
          size_t colon = members[m].find(':');
          if (colon == std::string::npos) break;
          switch (pick(5)) {
            case 0:
              std::shuffle(members.begin(), members.end(), rng);
              break;
            case 1:
              members.erase(members.begin() + static_cast<ptrdiff_t>(m));
              break;
            case 2:
              members.push_back(members[m]);
              break;
            case 3:
              members[m] = "\"" + keys[pick(keys.size())] + "\"" + members[m].substr(colon);
              break;
            case 4:
              members[m] = members[m].substr(0, colon + 1) + values[pick(values.size())];
              break;
          }
          line = prefix;
          for (size_t i = 0; i < members.size(); ++i) line += (i > 0 ? "," : "") + members[i];
          line += "}}";
          if (pick(20) == 0) line.insert(line.size() - 1, ",\"visit\":{}");
        }
      }
    }
    bool taken = false;
    ASSERT_TRUE(SameAsProtobuf(line, &taken));
    plain += taken ? 1 : 0;
    ++total;
  }
  // Both readers had their share.
  EXPECT_GT(plain, total / 10);
  EXPECT_LT(plain, total * 9 / 10);
}

}  // namespace
}  // namespace demerit::core
