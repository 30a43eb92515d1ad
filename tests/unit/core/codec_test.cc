#include "demerit/core/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "demerit/core/time.h"
#include "test_rules.h"

namespace demerit::core {
namespace {

using demerit::testing::ShippedRules;
using google::protobuf::util::MessageDifferencer;

// ---------------------------------------------------------------------------
// JSON lines through ParseEventJson and then ValidateEvent.

// Where a line is expected to stop.
enum class Stage { kParse, kValidate, kAccepted };

struct LineCase {
  const char* name;
  std::string line;
  Stage stage;
  v1::DeadLetterReason reason;  // when rejected
  const char* detail;           // substring of the detail, when rejected
};

// Common fields of a valid event at a shipped site, without the braces.
std::string Head(const std::string& id = "e-1") {
  return "\"event_id\":\"" + id +
         "\",\"site_id\":\"huawei-shenzhen\",\"employee_id\":\"emp-7\","
         "\"occurred_at\":\"2026-11-02T01:05:00Z\"";
}

std::string Attendance(const std::string& extra) {
  return "{\"attendance\":{" + Head() + extra + "}}";
}
std::string Call(const std::string& extra) { return "{\"call\":{" + Head() + extra + "}}"; }

// Two payloads are refused either by the JSON parser ("oneof field 'payload'
// is already set", protobuf 3.21) or by the codec's own count ("more than one
// payload"); either detail is right.
constexpr const char* kTwoPayloads =
    "more than one payload|oneof field 'payload' is already set";

// Whether `detail` contains one of the '|'-separated alternatives.
bool DetailMatches(const std::string& detail, std::string_view alternatives) {
  while (true) {
    size_t bar = alternatives.find('|');
    if (detail.find(alternatives.substr(0, bar)) != std::string::npos) return true;
    if (bar == std::string_view::npos) return false;
    alternatives.remove_prefix(bar + 1);
  }
}

const std::vector<LineCase>& LineCases() {
  static const std::vector<LineCase> cases = {
      // ---- Good: one valid line per stream.
      {"attendance_ok",
       R"({"attendance":{"event_id":"a1","site_id":"service-dallas","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T15:00:00Z","kind":"CLOCK_IN",)"
       R"("scheduled_at":"2026-11-02T15:00:00Z"}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"call_ok",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00.250Z","line":"HOTLINE","direction":"INBOUND",)"
       R"("answered":true,"rings_before_answer":3,"hold_seconds":0,"duration_seconds":95,)"
       R"("hung_up_by":"CUSTOMER","employee_role":"AGENT","greeting_ok":false}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"visit_ok",
       R"({"visit":{"event_id":"v1","site_id":"service-dallas","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T18:00:00Z","locality":"REMOTE",)"
       R"("dispatched_at":"2026-11-02T15:00:00Z","arrived_at":"2026-11-02T16:10:00Z",)"
       R"("appointment_at":"2026-11-02T16:00:00Z","customer_notified_of_delay":false,)"
       R"("service_card_signed":true,"customer_rating":4}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"callback_ok",
       R"({"callback":{"event_id":"cb1","site_id":"jiarun-xinyang","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00+08:00","reached":true,"satisfied":false,)"
       R"("complaint_reasons":["RUDE_STAFF","VEHICLE_NOT_CLEAN"]}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"observation_ok",
       R"({"observation":{"event_id":"o1","site_id":"hall-xinyang","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z","code":"SLIPPERS","inspector_id":"s9",)"
       R"("note":"near the \"call\" desk, {\"visit\":1}"}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"whitespace_and_key_order",
       " { \"call\" : { \"occurred_at\" : \"2026-11-02T01:05:00Z\", \"employee_id\":\"e1\","
       " \"site_id\":\"huawei-shenzhen\", \"event_id\":\"c2\" } } ",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"void_with_target_ok", Attendance(R"(,"void":true,"supersedes_event_id":"e-0")"),
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"correction_ok", Attendance(R"(,"kind":"CLOCK_OUT","supersedes_event_id":"e-0")"),
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"scheduled_exactly_7_days_ok",
       Attendance(R"(,"kind":"CLOCK_IN","scheduled_at":"2026-11-09T01:05:00Z")"), Stage::kAccepted,
       v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"json_field_name_ok",  // the JSON mapping also accepts lowerCamel names
       R"({"call":{"eventId":"c3","siteId":"huawei-shenzhen","employeeId":"e1",)"
       R"("occurredAt":"2026-11-02T01:05:00Z","ringsBeforeAnswer":0}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},

      // ---- Not parseable.
      {"broken_json", R"({"attendance":{"event_id":"a1")", Stage::kParse, v1::UNPARSEABLE,
       "not a valid event"},
      {"not_an_object", "[1,2]", Stage::kParse, v1::UNPARSEABLE, "not a valid event"},
      {"empty_line", "", Stage::kParse, v1::UNPARSEABLE, "not a valid event"},
      {"empty_object", "{}", Stage::kParse, v1::UNPARSEABLE, "no payload"},
      {"unknown_top_level_key", "{\"punch\":{" + Head() + "}}", Stage::kParse, v1::UNPARSEABLE,
       "punch"},
      {"unknown_key_beside_payload", "{\"source\":\"x\",\"call\":{" + Head() + "}}", Stage::kParse,
       v1::UNPARSEABLE, "source"},
      {"unknown_field_in_payload", Call(R"(,"ring_count":3)"), Stage::kParse, v1::UNPARSEABLE,
       "ring_count"},
      {"two_payloads",
       "{\"attendance\":{" + Head() + ",\"kind\":\"CLOCK_IN\"},\"call\":{" + Head("e-2") + "}}",
       Stage::kParse, v1::UNPARSEABLE, kTwoPayloads},
      {"two_payloads_reversed",
       "{\"call\":{" + Head("e-2") + "},\"attendance\":{" + Head() + ",\"kind\":\"CLOCK_IN\"}}",
       Stage::kParse, v1::UNPARSEABLE, kTwoPayloads},
      {"same_payload_twice", "{\"call\":{" + Head() + "},\"call\":{" + Head("e-2") + "}}",
       Stage::kParse, v1::UNPARSEABLE, kTwoPayloads},
      {"unknown_enum_name", Attendance(R"(,"kind":"CLOCK_SIDEWAYS")"), Stage::kParse,
       v1::UNPARSEABLE, "CLOCK_SIDEWAYS"},
      {"bad_timestamp_string",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"yesterday"}})",
       Stage::kParse, v1::UNPARSEABLE, "yesterday"},
      {"timestamp_without_zone",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00"}})",
       Stage::kParse, v1::UNPARSEABLE, "not a valid event"},
      {"string_for_int", Call(R"(,"hold_seconds":"long")"), Stage::kParse, v1::UNPARSEABLE,
       "hold_seconds"},
      {"payload_not_object", R"({"call":5})", Stage::kParse, v1::UNPARSEABLE, "not a valid event"},
      // The protobuf JSON mapping: a bool is true or false, a repeated field a list.
      {"bool_as_string", Call(R"(,"answered":"no")"), Stage::kParse, v1::UNPARSEABLE,
       "(call.answered): invalid value \"no\" for a bool (Hint: true or false"},
      {"bool_as_string_true", Call(R"(,"answered":"true")"), Stage::kParse, v1::UNPARSEABLE,
       "(call.answered): invalid value \"true\" for a bool"},
      {"bool_as_string_camel_name", Call(R"(,"greetingOk":"false")"), Stage::kParse,
       v1::UNPARSEABLE, "(call.greeting_ok): invalid value \"false\" for a bool"},
      {"void_as_string",
       Attendance(R"(,"kind":"CLOCK_IN","void":"true","supersedes_event_id":"e-0")"), Stage::kParse,
       v1::UNPARSEABLE, "(attendance.void): invalid value \"true\" for a bool"},
      {"list_as_single_string",
       R"({"callback":{"event_id":"cb1","site_id":"jiarun-xinyang","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z","complaint_reasons":"RUDE_STAFF"}})",
       Stage::kParse, v1::UNPARSEABLE,
       "(callback.complaint_reasons): a single value for a list (Hint: [\"RUDE_STAFF\"]"},
      {"list_as_single_number",
       R"({"callback":{"event_id":"cb1","site_id":"jiarun-xinyang","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z","complaint_reasons":3}})",
       Stage::kParse, v1::UNPARSEABLE, "(callback.complaint_reasons): a single value for a list"},
      {"bool_null_ok", Call(R"(,"answered":null)"), Stage::kAccepted,
       v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},

      // ---- Parsed but invalid.
      {"unknown_site",
       R"({"call":{"event_id":"c1","site_id":"atlantis","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::UNKNOWN_SITE, "unknown site \"atlantis\""},
      {"missing_event_id",
       R"({"call":{"site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "event_id is missing"},
      {"missing_employee_id",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "employee_id is missing"},
      {"missing_site_id",
       R"({"call":{"event_id":"c1","employee_id":"e1","occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "site_id is missing"},
      {"missing_occurred_at",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1"}})",
       Stage::kValidate, v1::INVALID, "occurred_at is missing"},
      {"occurred_at_1990",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"1990-05-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID,
       "occurred_at 1990-05-01T00:00:00Z is outside 2000-01-01..2100-01-01"},
      {"occurred_at_2150",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2150-01-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID,
       "occurred_at 2150-01-01T00:00:00Z is outside 2000-01-01..2100-01-01"},
      {"occurred_at_just_before_2000",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"1999-12-31T23:59:59Z"}})",
       Stage::kValidate, v1::INVALID, "is outside 2000-01-01..2100-01-01"},
      {"occurred_at_2100_exactly",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2100-01-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID, "is outside 2000-01-01..2100-01-01"},
      // Reported as written, also where nanoseconds since 1970 overflow int64.
      {"occurred_at_year_1",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"0001-01-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID,
       "occurred_at 0001-01-01T00:00:00Z is outside 2000-01-01..2100-01-01"},
      {"occurred_at_year_9999",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"9999-12-31T23:59:59.5Z"}})",
       Stage::kValidate, v1::INVALID,
       "occurred_at 9999-12-31T23:59:59.5Z is outside 2000-01-01..2100-01-01"},
      {"dispatched_at_year_1",
       R"({"visit":{"event_id":"v1","site_id":"service-dallas","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T18:00:00Z","dispatched_at":"0001-01-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID, "dispatched_at 0001-01-01T00:00:00Z is outside"},
      {"other_timestamp_out_of_range",
       R"({"visit":{"event_id":"v1","site_id":"service-dallas","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T18:00:00Z","arrived_at":"1990-01-01T00:00:00Z"}})",
       Stage::kValidate, v1::INVALID, "arrived_at 1990-01-01T00:00:00Z is outside"},
      {"negative_rings", Call(R"(,"rings_before_answer":-1)"), Stage::kValidate, v1::INVALID,
       "rings_before_answer is negative (-1)"},
      {"negative_hold", Call(R"(,"hold_seconds":-5)"), Stage::kValidate, v1::INVALID,
       "hold_seconds is negative (-5)"},
      {"negative_rating",
       R"({"visit":{"event_id":"v1","site_id":"service-dallas","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T18:00:00Z","customer_rating":-2}})",
       Stage::kValidate, v1::INVALID, "customer_rating is negative (-2)"},
      {"unspecified_in_list",
       R"({"callback":{"event_id":"cb1","site_id":"jiarun-xinyang","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z",)"
       R"("complaint_reasons":["RUDE_STAFF","COMPLAINT_REASON_UNSPECIFIED"]}})",
       Stage::kValidate, v1::INVALID, "unknown value 0 in complaint_reasons"},
      {"void_without_supersedes", Attendance(R"(,"kind":"CLOCK_IN","void":true)"), Stage::kValidate,
       v1::INVALID, "void without supersedes_event_id"},
      {"supersedes_itself", Attendance(R"(,"kind":"CLOCK_IN","supersedes_event_id":"e-1")"),
       Stage::kValidate, v1::INVALID, "supersedes_event_id names the event itself"},
      {"event_id_control_char",
       R"({"call":{"event_id":"c\u0001x","site_id":"huawei-shenzhen","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "event_id contains a control character"},
      {"employee_id_newline",
       R"({"call":{"event_id":"c1","site_id":"huawei-shenzhen","employee_id":"e\n1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "employee_id contains a control character"},
      {"site_id_delete_char",
       R"({"call":{"event_id":"c1","site_id":"huawei\u007fshenzhen","employee_id":"e1",)"
       R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "site_id contains a control character"},
      {"supersedes_control_char", Attendance(R"(,"kind":"CLOCK_IN","supersedes_event_id":"\t")"),
       Stage::kValidate, v1::INVALID, "supersedes_event_id contains a control character"},
      {"event_id_too_long",
       R"({"call":{"event_id":")" + std::string(129, 'x') +
           R"(","site_id":"huawei-shenzhen","employee_id":"e1",)"
           R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kValidate, v1::INVALID, "event_id is longer than 128 bytes"},
      {"event_id_128_ok",
       R"({"call":{"event_id":")" + std::string(128, 'x') +
           R"(","site_id":"huawei-shenzhen","employee_id":"e1",)"
           R"("occurred_at":"2026-11-02T01:05:00Z"}})",
       Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"attendance_without_kind", Attendance(""), Stage::kValidate, v1::INVALID,
       "attendance kind is missing"},
      {"scheduled_8_days_later",
       Attendance(R"(,"kind":"CLOCK_IN","scheduled_at":"2026-11-10T01:05:00Z")"), Stage::kValidate,
       v1::INVALID, "scheduled_at is more than 7 days from occurred_at"},
      {"scheduled_8_days_earlier",
       Attendance(R"(,"kind":"CLOCK_OUT","scheduled_at":"2026-10-25T01:05:00Z")"), Stage::kValidate,
       v1::INVALID, "scheduled_at is more than 7 days from occurred_at"},
  };
  return cases;
}

TEST(EventJsonTest, Table) {
  auto rules = ShippedRules();
  auto check = [&](const LineCase& c) {
    SCOPED_TRACE(c.name);
    v1::Envelope event;
    auto parsed = ParseEventJson(c.line, &event);
    if (c.stage == Stage::kParse) {
      ASSERT_TRUE(parsed.has_value()) << "parsed: " << event.ShortDebugString();
      if (std::string_view(c.detail).find("payload") == std::string_view::npos) {
        EXPECT_EQ(parsed->detail.rfind("not a valid event: ", 0), 0u) << parsed->detail;
      }
      EXPECT_EQ(v1::DeadLetterReason_Name(parsed->reason), v1::DeadLetterReason_Name(c.reason));
      EXPECT_TRUE(DetailMatches(parsed->detail, c.detail)) << parsed->detail;
      return;
    }
    ASSERT_FALSE(parsed.has_value()) << parsed->detail;
    auto valid = ValidateEvent(event, *rules);
    if (c.stage == Stage::kValidate) {
      ASSERT_TRUE(valid.has_value()) << "accepted: " << event.ShortDebugString();
      EXPECT_EQ(v1::DeadLetterReason_Name(valid->reason), v1::DeadLetterReason_Name(c.reason));
      EXPECT_TRUE(DetailMatches(valid->detail, c.detail)) << valid->detail;
    } else {
      EXPECT_FALSE(valid.has_value()) << valid->detail;
    }
  };
  for (const LineCase& c : LineCases()) check(c);
}

TEST(EventJsonTest, GoodLinesCarryTheirFields) {
  struct Case {
    const char* name;  // of a good case in LineCases()
    v1::Envelope::PayloadCase payload;
    Stream stream;
    const char* event_id;
    const char* occurred_at;
  };
  const Case cases[] = {
      {"attendance_ok", v1::Envelope::kAttendance, Stream::kAttendance, "a1",
       "2026-11-02T15:00:00Z"},
      {"call_ok", v1::Envelope::kCall, Stream::kCalls, "c1", "2026-11-02T01:05:00.25Z"},
      {"visit_ok", v1::Envelope::kVisit, Stream::kVisits, "v1", "2026-11-02T18:00:00Z"},
      {"callback_ok", v1::Envelope::kCallback, Stream::kCallbacks, "cb1",
       "2026-11-01T17:05:00Z"},
      {"observation_ok", v1::Envelope::kObservation, Stream::kObservations, "o1",
       "2026-11-02T01:05:00Z"},
  };
  auto check = [&](const Case& c) {
    SCOPED_TRACE(c.name);
    const LineCase* line = nullptr;
    for (const LineCase& l : LineCases()) {
      if (std::string(l.name) == c.name) line = &l;
    }
    ASSERT_NE(line, nullptr);
    v1::Envelope event;
    ASSERT_FALSE(ParseEventJson(line->line, &event).has_value());
    EXPECT_EQ(event.payload_case(), c.payload);
    Stream stream;
    ASSERT_TRUE(StreamOf(event, &stream));
    EXPECT_EQ(stream, c.stream);
    EventHeader h = HeaderOf(event);
    EXPECT_EQ(*h.event_id, c.event_id);
    EXPECT_EQ(*h.employee_id, "e1");
    EXPECT_EQ(FormatRfc3339(h.occurred_at), c.occurred_at);
  };
  for (const Case& c : cases) check(c);
  // Spot checks of payload values.
  v1::Envelope event;
  ASSERT_FALSE(ParseEventJson(LineCases()[1].line, &event).has_value());
  EXPECT_EQ(event.call().line(), v1::CallEvent::HOTLINE);
  EXPECT_TRUE(event.call().has_greeting_ok());
  EXPECT_FALSE(event.call().greeting_ok());
  EXPECT_EQ(event.call().rings_before_answer(), 3);
  EXPECT_TRUE(event.call().has_hold_seconds());  // explicit zero keeps presence
  EXPECT_FALSE(event.call().has_private_());
  ASSERT_FALSE(ParseEventJson(LineCases()[3].line, &event).has_value());
  ASSERT_EQ(event.callback().complaint_reasons_size(), 2);
  EXPECT_EQ(event.callback().complaint_reasons(0), v1::CallbackResult::RUDE_STAFF);
  ASSERT_FALSE(ParseEventJson(LineCases()[4].line, &event).has_value());
  EXPECT_EQ(event.observation().note(), "near the \"call\" desk, {\"visit\":1}");
}

TEST(EventJsonTest, ParseClearsThePreviousEvent) {
  v1::Envelope event;
  ASSERT_FALSE(ParseEventJson(LineCases()[1].line, &event).has_value());  // a call
  ASSERT_TRUE(ParseEventJson("{}", &event).has_value());
  EXPECT_EQ(event.payload_case(), v1::Envelope::PAYLOAD_NOT_SET);
}

TEST(EventJsonTest, EventToJsonRoundTrips) {
  auto rules = ShippedRules();
  auto check = [&](const LineCase& c) {
    if (c.stage != Stage::kAccepted) return;
    SCOPED_TRACE(c.name);
    v1::Envelope event;
    ASSERT_FALSE(ParseEventJson(c.line, &event).has_value());
    std::string json = EventToJson(event);
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_NE(json.find("\"event_id\""), std::string::npos) << json;  // proto names
    v1::Envelope back;
    auto again = ParseEventJson(json, &back);
    ASSERT_FALSE(again.has_value()) << again->detail << "\n" << json;
    EXPECT_TRUE(MessageDifferencer::Equals(event, back)) << json;
  };
  for (const LineCase& c : LineCases()) check(c);
}

// ---------------------------------------------------------------------------
// Binary envelopes.

v1::Envelope ValidAttendance() {
  v1::Envelope e;
  auto* a = e.mutable_attendance();
  a->set_event_id("b1");
  a->set_site_id("service-dallas");
  a->set_employee_id("e1");
  a->mutable_occurred_at()->set_seconds(1'793'581'500);  // 2026-11-02T01:05:00Z
  a->set_kind(v1::AttendancePunch::CLOCK_IN);
  return e;
}

// Appends a varint.
void Varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

TEST(EventBinaryTest, Table) {
  auto rules = ShippedRules();
  const std::string valid = ValidAttendance().SerializeAsString();

  // kind = 99 through reflection (proto3 enums are open).
  v1::Envelope kind99 = ValidAttendance();
  {
    auto* a = kind99.mutable_attendance();
    a->GetReflection()->SetEnumValue(a, a->GetDescriptor()->FindFieldByName("kind"), 99);
  }
  // kind = 99 crafted on the wire: an attendance without kind, then field 10
  // (tag 0x50, varint) = 99, wrapped as Envelope field 1 (tag 0x0a, bytes).
  std::string crafted;
  {
    v1::Envelope e = ValidAttendance();
    e.mutable_attendance()->clear_kind();
    std::string inner = e.attendance().SerializeAsString() + "\x50\x63";
    crafted = "\x0a";
    Varint(inner.size(), &crafted);
    crafted += inner;
  }
  // A complaint reason 42 on the wire (field 13, varint, unpacked).
  std::string reason42;
  {
    v1::Envelope e;
    auto* cb = e.mutable_callback();
    cb->set_event_id("cb1");
    cb->set_site_id("jiarun-xinyang");
    cb->set_employee_id("e1");
    cb->mutable_occurred_at()->set_seconds(1'793'581'500);
    std::string inner = cb->SerializeAsString() + "\x68\x2a";
    reason42 = "\x22";
    Varint(inner.size(), &reason42);
    reason42 += inner;
  }
  v1::Envelope negative_nanos = ValidAttendance();
  negative_nanos.mutable_attendance()->mutable_occurred_at()->set_nanos(-1);
  // A visit carrying a call's answered (12) and dropped (19), fields that
  // VisitCompletion does not have: a call written under the visit tag.
  std::string call_as_visit;
  {
    v1::Envelope e;
    auto* v = e.mutable_visit();
    v->set_event_id("v1");
    v->set_site_id("service-dallas");
    v->set_employee_id("e1");
    v->mutable_occurred_at()->set_seconds(1'793'581'500);
    std::string inner = v->SerializeAsString() + std::string("\x60\x01\x98\x01\x01", 5);
    call_as_visit = "\x1a";
    Varint(inner.size(), &call_as_visit);
    call_as_visit += inner;
  }
  // Envelope field 9, which no payload has.
  const std::string envelope_field_9 = valid + std::string("\x48\x01", 2);
  // An occurred_at with a field 3, which Timestamp does not have.
  std::string timestamp_field_3;
  {
    v1::Envelope e = ValidAttendance();
    std::string stamp = e.attendance().occurred_at().SerializeAsString() + "\x18\x07";
    e.mutable_attendance()->clear_occurred_at();
    std::string inner = e.attendance().SerializeAsString() + "\x22";
    Varint(stamp.size(), &inner);
    inner += stamp;
    timestamp_field_3 = "\x0a";
    Varint(inner.size(), &timestamp_field_3);
    timestamp_field_3 += inner;
  }

  struct Case {
    const char* name;
    std::string bytes;
    Stage stage;
    v1::DeadLetterReason reason;
    const char* detail;
  };
  const Case cases[] = {
      {"valid", valid, Stage::kAccepted, v1::DEAD_LETTER_REASON_UNSPECIFIED, ""},
      {"random_bytes", std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),
       Stage::kParse, v1::UNPARSEABLE, "not a binary demerit.v1.Envelope"},
      {"text", "hello, world", Stage::kParse, v1::UNPARSEABLE,
       "not a binary demerit.v1.Envelope"},
      {"truncated", valid.substr(0, valid.size() - 3), Stage::kParse, v1::UNPARSEABLE,
       "not a binary demerit.v1.Envelope"},
      {"truncated_to_header", valid.substr(0, 2), Stage::kParse, v1::UNPARSEABLE,
       "not a binary demerit.v1.Envelope"},
      {"empty", "", Stage::kParse, v1::UNPARSEABLE, "binary envelope without a payload"},
      {"kind_99_reflection", kind99.SerializeAsString(), Stage::kValidate, v1::INVALID,
       "unknown value 99 for kind"},
      {"kind_99_crafted", crafted, Stage::kValidate, v1::INVALID, "unknown value 99 for kind"},
      {"complaint_reason_42", reason42, Stage::kValidate, v1::INVALID,
       "unknown value 42 in complaint_reasons"},
      {"negative_nanos", negative_nanos.SerializeAsString(), Stage::kValidate, v1::INVALID,
       "occurred_at"},
      {"call_fields_in_a_visit", call_as_visit, Stage::kParse, v1::UNPARSEABLE,
       "binary envelope has field 12, which demerit.v1.VisitCompletion does not have"},
      {"envelope_field_9", envelope_field_9, Stage::kParse, v1::UNPARSEABLE,
       "binary envelope has field 9, which demerit.v1.Envelope does not have"},
      {"timestamp_field_3", timestamp_field_3, Stage::kParse, v1::UNPARSEABLE,
       "binary envelope has field 3, which google.protobuf.Timestamp does not have"},
  };
  auto check = [&](const Case& c) {
    SCOPED_TRACE(c.name);
    v1::Envelope event;
    auto parsed = ParseEventBinary(c.bytes, &event);
    if (c.stage == Stage::kParse) {
      ASSERT_TRUE(parsed.has_value()) << event.ShortDebugString();
      EXPECT_EQ(v1::DeadLetterReason_Name(parsed->reason), v1::DeadLetterReason_Name(c.reason));
      EXPECT_TRUE(DetailMatches(parsed->detail, c.detail)) << parsed->detail;
      return;
    }
    ASSERT_FALSE(parsed.has_value()) << parsed->detail;
    auto valid_result = ValidateEvent(event, *rules);
    if (c.stage == Stage::kValidate) {
      ASSERT_TRUE(valid_result.has_value()) << event.ShortDebugString();
      EXPECT_EQ(v1::DeadLetterReason_Name(valid_result->reason),
                v1::DeadLetterReason_Name(c.reason));
      EXPECT_NE(valid_result->detail.find(c.detail), std::string::npos) << valid_result->detail;
    } else {
      EXPECT_FALSE(valid_result.has_value()) << valid_result->detail;
      EXPECT_TRUE(MessageDifferencer::Equals(event, ValidAttendance()));
    }
  };
  for (const Case& c : cases) check(c);
}

// Every message inside every payload (its timestamps) is checked for fields
// its type does not have.
TEST(EventBinaryTest, RejectsUnknownFieldsInEveryTimestamp) {
  const google::protobuf::Descriptor* envelope = v1::Envelope::descriptor();
  int checked = 0;
  for (int i = 0; i < envelope->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* payload_field = envelope->field(i);
    const google::protobuf::Descriptor* payload = payload_field->message_type();
    for (int j = 0; j < payload->field_count(); ++j) {
      const google::protobuf::FieldDescriptor* f = payload->field(j);
      if (f->message_type() == nullptr) continue;
      SCOPED_TRACE(payload->name() + "." + f->name());
      v1::Envelope e;
      google::protobuf::Message* p = e.GetReflection()->MutableMessage(&e, payload_field);
      google::protobuf::Message* inner = p->GetReflection()->MutableMessage(p, f);
      inner->GetReflection()->MutableUnknownFields(inner)->AddVarint(3, 7);
      v1::Envelope back;
      auto parsed = ParseEventBinary(e.SerializeAsString(), &back);
      ASSERT_TRUE(parsed.has_value()) << back.ShortDebugString();
      EXPECT_EQ(parsed->detail.rfind("binary envelope has field 3, which " +
                                         f->message_type()->full_name() + " does not have",
                                     0),
                0u)
          << parsed->detail;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9);
}

// Seconds past the range of Nanos (about 1678..2262) saturate instead of
// overflowing; such an event is rejected for its time like any other.
TEST(EventBinaryTest, TimestampsPastTheRangeOfNanosSaturate) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(10'383'519'392);  // in 2299
  EXPECT_EQ(ToNanos(ts), std::numeric_limits<Nanos>::max());
  ts.set_seconds(std::numeric_limits<int64_t>::max());
  ts.set_nanos(999'999'999);
  EXPECT_EQ(ToNanos(ts), std::numeric_limits<Nanos>::max());
  ts.set_seconds(-10'383'519'392);
  ts.set_nanos(0);
  EXPECT_EQ(ToNanos(ts), std::numeric_limits<Nanos>::min());
  ts.set_seconds(std::numeric_limits<Nanos>::max() / kNanosPerSecond);
  ts.set_nanos(999'999'999);
  EXPECT_EQ(ToNanos(ts), std::numeric_limits<Nanos>::max());  // the nanos carry it over
  ts.set_seconds(1'793'581'500);
  ts.set_nanos(5);
  EXPECT_EQ(ToNanos(ts), 1'793'581'500 * kNanosPerSecond + 5);

  v1::Envelope e = ValidAttendance();
  e.mutable_attendance()->mutable_occurred_at()->set_seconds(10'383'519'392);
  auto r = ValidateEvent(e, *ShippedRules());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reason, v1::INVALID);
  EXPECT_NE(r->detail.find("occurred_at"), std::string::npos) << r->detail;
}

TEST(EventBinaryTest, ValidateRejectsAnEnvelopeWithoutPayload) {
  v1::Envelope empty;
  auto r = ValidateEvent(empty, *ShippedRules());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->reason, v1::UNPARSEABLE);
  EXPECT_EQ(r->detail, "no payload");
}

// ---------------------------------------------------------------------------
// Decisions.

v1::Decision SampleDecision() {
  v1::Decision d;
  d.set_penalty_id("pen-0123abcd");
  d.set_kind(v1::ISSUE);
  d.set_employee_id("e1");
  d.set_site_id("jiarun-xinyang");
  d.set_rule_id("jiarun-aftersales/late-arrival");
  d.set_rule_version("0123456789ab");
  d.set_pack("jiarun-aftersales");
  d.set_window("2026-11");
  d.set_occurrence(2);
  d.set_step(2);
  d.set_amount_minor(2000);
  d.set_currency("CNY");
  d.set_action(v1::WARNING);
  d.add_evidence_event_ids("a2");
  d.add_evidence_event_ids("a1");
  d.mutable_occurred_at()->set_seconds(1'793'581'500);
  d.mutable_occurred_at()->set_nanos(500'000'000);
  d.set_capped(true);
  d.set_capped_minor(9'000'000'000LL);  // beyond 32 bits
  d.set_guardrail("monthly_deduction_cap");
  d.set_reason("late by 5 minutes");
  d.set_cause_event_id("a2");
  d.set_counter("jiarun-aftersales/late-arrival");
  d.set_clause("§2 迟到 20元/次");
  return d;
}

TEST(DecisionJsonTest, EscapesWhatJsonRequiresAndReadsBackTheSame) {
  static constexpr char kReason[] =
      "quote \" backslash \\ newline \n tab \t cr \r bs \b ff \f nul \0 us \x1f del \x7f 迟到 end";
  v1::Decision d = SampleDecision();
  d.set_reason(std::string(kReason, sizeof kReason - 1));
  d.set_guardrail("\"");
  d.set_clause("plain");
  std::string json = DecisionToJson(d);
  const std::string want_reason =
      R"("reason":"quote \" backslash \\ newline \n tab \t cr \r bs \b ff \f nul \u0000 us \u001f )"
      "del \x7f 迟到 end\"";
  EXPECT_NE(json.find(want_reason), std::string::npos) << json;
  EXPECT_NE(json.find(R"("guardrail":"\"")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("clause":"plain")"), std::string::npos) << json;
  v1::Decision back;
  ASSERT_FALSE(ParseDecisionJson(json, &back).has_value()) << json;
  EXPECT_EQ(back.SerializeAsString(), d.SerializeAsString());
}

TEST(DecisionJsonTest, PrintsTimestampsAsProtobufDoes) {
  const struct {
    int64_t seconds;
    int32_t nanos;
    const char* want;
  } cases[] = {
      {1'793'581'500, 0, "2026-11-02T01:05:00Z"},
      {1'793'581'500, 500'000'000, "2026-11-02T01:05:00.500Z"},
      {1'793'581'500, 1'000, "2026-11-02T01:05:00.000001Z"},
      {1'793'581'500, 1, "2026-11-02T01:05:00.000000001Z"},
      {0, 0, "1970-01-01T00:00:00Z"},
      {-1, 999'000'000, "1969-12-31T23:59:59.999Z"},
      {-2'208'988'800, 0, "1900-01-01T00:00:00Z"},
      {253'402'300'799, 0, "9999-12-31T23:59:59Z"},
      // Nanos out of range (only a malformed message has them) are carried
      // into the seconds: the instant the fields add up to.
      {1'793'581'500, 1'500'000'000, "2026-11-02T01:05:01.500Z"},
      {1'793'581'500, -1, "2026-11-02T01:04:59.999999999Z"},
      {1'793'581'500, -2'000'000'000, "2026-11-02T01:04:58Z"},
      {0, 2'147'483'647, "1970-01-01T00:00:02.147483647Z"},
  };
  // At the ends of int64 seconds the carry saturates instead of overflowing.
  for (auto [seconds, nanos] : {std::pair<int64_t, int32_t>{INT64_MAX, 1'500'000'000},
                                std::pair<int64_t, int32_t>{INT64_MIN, -1}}) {
    v1::Decision d = SampleDecision();
    d.mutable_occurred_at()->set_seconds(seconds);
    d.mutable_occurred_at()->set_nanos(nanos);
    std::string json = DecisionToJson(d);
    EXPECT_NE(json.find("\"occurred_at\":\""), std::string::npos) << json;
  }
  for (const auto& c : cases) {
    v1::Decision d = SampleDecision();
    d.mutable_occurred_at()->set_seconds(c.seconds);
    d.mutable_occurred_at()->set_nanos(c.nanos);
    std::string json = DecisionToJson(d);
    EXPECT_NE(json.find(std::string("\"occurred_at\":\"") + c.want + "\""), std::string::npos)
        << json;
    v1::Decision back;
    ASSERT_FALSE(ParseDecisionJson(json, &back).has_value()) << json;
    // The same instant, nanos in range.
    const int64_t carry =
        c.nanos >= 0 ? c.nanos / 1'000'000'000 : (c.nanos + 1) / 1'000'000'000 - 1;
    EXPECT_EQ(back.occurred_at().seconds(), c.seconds + carry) << c.want;
    EXPECT_EQ(back.occurred_at().nanos(), c.nanos - carry * 1'000'000'000) << c.want;
  }
}

TEST(DecisionJsonTest, PrintsEveryFieldWithProtoNames) {
  const struct {
    const char* name;
    v1::Decision decision;
    std::vector<std::string> fragments;
  } cases[] = {
      {"full",
       SampleDecision(),
       {"\"penalty_id\":\"pen-0123abcd\"", "\"kind\":\"ISSUE\"", "\"amount_minor\":\"2000\"",
        "\"capped_minor\":\"9000000000\"", "\"occurrence\":2", "\"action\":\"WARNING\"",
        "\"evidence_event_ids\":[\"a2\",\"a1\"]", "\"occurred_at\":\"2026-11-02T01:05:00.500Z\"",
        "\"capped\":true", "\"reverses_penalty_id\":\"\"", "\"rule_version\":\"0123456789ab\"",
        "\"cause_event_id\":\"a2\"", "\"clause\":\"§2 迟到 20元/次\""}},
      // Defaults are printed too, so readers see every field.
      {"empty",
       v1::Decision(),
       {"\"penalty_id\":\"\"", "\"kind\":\"DECISION_KIND_UNSPECIFIED\"", "\"amount_minor\":\"0\"",
        "\"occurrence\":0", "\"step\":0", "\"action\":\"NONE\"", "\"capped\":false",
        "\"capped_minor\":\"0\"", "\"evidence_event_ids\":[]", "\"guardrail\":\"\"",
        "\"counter\":\"\"", "\"window\":\"\""}},
  };
  auto check = [&](const auto& c) {
    SCOPED_TRACE(c.name);
    std::string json = DecisionToJson(c.decision);
    EXPECT_EQ(json.find('\n'), std::string::npos) << json;
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.back(), '}');
    for (const std::string& f : c.fragments) {
      EXPECT_NE(json.find(f), std::string::npos) << f << "\n" << json;
    }
    // lowerCamelCase names must not appear.
    EXPECT_EQ(json.find("penaltyId"), std::string::npos) << json;
    EXPECT_EQ(json.find("amountMinor"), std::string::npos) << json;
    // Every scalar and repeated field of the schema is named.
    const auto* d = v1::Decision::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
          !d->field(i)->is_repeated()) {
        continue;  // an unset message is left out
      }
      EXPECT_NE(json.find("\"" + d->field(i)->name() + "\":"), std::string::npos)
          << d->field(i)->name() << "\n" << json;
    }
    v1::Decision back;
    auto r = ParseDecisionJson(json, &back);
    ASSERT_FALSE(r.has_value()) << r->detail;
    EXPECT_TRUE(MessageDifferencer::Equals(back, c.decision)) << back.ShortDebugString();
  };
  for (const auto& c : cases) check(c);
}

TEST(DecisionJsonTest, ParseRejectsBadLines) {
  const struct {
    const char* line;
    const char* detail;
  } cases[] = {
      {"", "not a valid decision"},
      {"{", "not a valid decision"},
      {R"({"penalty_id":5x})", "not a valid decision"},
      {R"({"penalty":"p"})", "not a valid decision"},  // unknown field
      {R"({"kind":"PARDON"})", "not a valid decision"},
      {R"({"amount_minor":"lots"})", "not a valid decision"},
      {R"({"capped":"yes"})", "(capped): invalid value \"yes\" for a bool"},
      {R"({"evidence_event_ids":"e1"})", "(evidence_event_ids): a single value for a list"},
      {R"({"capped" : "yes"})", "(capped): invalid value \"yes\" for a bool"},
      {R"({"reason":"\"capped\"","capped":1})", "not a valid decision"},
      {R"({"evidenceEventIds":"e1"})", "(evidence_event_ids): a single value for a list"},
      {R"({"c\u0061pped":"no"})", "(capped): invalid value \"no\" for a bool"},
  };
  auto check = [&](const auto& c) {
    SCOPED_TRACE(c.line);
    v1::Decision d = SampleDecision();
    auto r = ParseDecisionJson(c.line, &d);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->reason, v1::UNPARSEABLE);
    EXPECT_NE(r->detail.find(c.detail), std::string::npos) << r->detail;
  };
  for (const auto& c : cases) check(c);
  // Int64 may be written as a number or a string.
  v1::Decision d;
  ASSERT_FALSE(ParseDecisionJson(R"({"amount_minor":2500,"capped_minor":"7"})", &d).has_value());
  EXPECT_EQ(d.amount_minor(), 2500);
  EXPECT_EQ(d.capped_minor(), 7);
  EXPECT_EQ(d.penalty_id(), "");  // cleared, not merged
}

// ---------------------------------------------------------------------------
// Length-delimited framing.

TEST(DelimitedTest, AppendedMessagesReadBack) {
  std::vector<v1::Decision> messages;
  messages.push_back(SampleDecision());
  messages.push_back(v1::Decision());  // empty: a zero length
  v1::Decision big = SampleDecision();
  big.set_reason(std::string(300, 'r'));  // length needs a two-byte varint
  messages.push_back(big);
  v1::Decision reversal;
  reversal.set_kind(v1::REVERSAL);
  reversal.set_reverses_penalty_id("pen-0123abcd");
  messages.push_back(reversal);

  std::string out = "prefix";  // appends, never overwrites
  for (const auto& m : messages) AppendDelimited(m, &out);
  ASSERT_EQ(out.substr(0, 6), "prefix");

  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(out.data()) + 6,
                                            static_cast<int>(out.size() - 6));
  size_t expected_bytes = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE(i);
    uint32_t size = 0;
    ASSERT_TRUE(in.ReadVarint32(&size));
    EXPECT_EQ(size, messages[i].ByteSizeLong());
    expected_bytes += (size < 128 ? 1 : size < 16384 ? 2 : 3) + size;
    auto limit = in.PushLimit(static_cast<int>(size));
    v1::Decision back;
    ASSERT_TRUE(back.ParseFromCodedStream(&in));
    EXPECT_TRUE(in.ConsumedEntireMessage());
    in.PopLimit(limit);
    EXPECT_TRUE(MessageDifferencer::Equals(back, messages[i])) << back.ShortDebugString();
  }
  EXPECT_EQ(out.size() - 6, expected_bytes);
  EXPECT_EQ(in.CurrentPosition(), static_cast<int>(expected_bytes));
  uint32_t extra;
  EXPECT_FALSE(in.ReadVarint32(&extra));  // nothing after the last message

  // Envelopes frame the same way.
  std::string events;
  AppendDelimited(ValidAttendance(), &events);
  std::string body = ValidAttendance().SerializeAsString();
  ASSERT_LT(body.size(), 128u);
  EXPECT_EQ(static_cast<unsigned char>(events[0]), body.size());
  v1::Envelope back;
  ASSERT_FALSE(ParseEventBinary(std::string_view(events).substr(1), &back).has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(back, ValidAttendance()));
}

}  // namespace
}  // namespace demerit::core
