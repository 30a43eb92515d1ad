#include "demerit/core/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cstdio>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "demerit/core/facts.h"
#include "event_json.h"

namespace demerit::core {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxIdLength = 128;
// Events must lie between 2000-01-01 and 2100-01-01.
constexpr int64_t kMinSeconds = 946'684'800;
constexpr int64_t kMaxSeconds = 4'102'444'800;

Rejection Invalid(std::string detail) { return Rejection{v1::INVALID, std::move(detail)}; }

std::optional<Rejection> CheckId(const std::string& id, const char* field, bool required) {
  if (id.empty()) {
    if (required) return Invalid(std::string(field) + " is missing");
    return std::nullopt;
  }
  if (id.size() > kMaxIdLength) {
    return Invalid(std::string(field) + " is longer than " + std::to_string(kMaxIdLength) +
                   " bytes");
  }
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7f) return Invalid(std::string(field) + " contains a control character");
  }
  return std::nullopt;
}

// A timestamp as written, from its own seconds and nanos: nanoseconds since
// 1970 (Nanos) hold only the years 1678..2261, a Timestamp 0001..9999.
std::string FormatTimestampAsWritten(const google::protobuf::Timestamp& ts) {
  std::string out;
  AppendDateTime(ts.seconds(), &out);
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return out + "Z with nanos " + std::to_string(ts.nanos());
  }
  if (ts.nanos() != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09d", ts.nanos());
    std::string_view f(fraction);
    while (f.back() == '0') f.remove_suffix(1);
    out += f;
  }
  return out + "Z";
}

std::optional<Rejection> CheckTime(const google::protobuf::Timestamp& ts, const char* field) {
  if (ts.seconds() < kMinSeconds || ts.seconds() >= kMaxSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999'999'999) {
    return Invalid(std::string(field) + " " + FormatTimestampAsWritten(ts) +
                   " is outside 2000-01-01..2100-01-01");
  }
  return std::nullopt;
}

std::optional<Rejection> CheckEnum(bool valid, int value, const char* field) {
  if (!valid) return Invalid("unknown value " + std::to_string(value) + " for " + field);
  return std::nullopt;
}

std::optional<Rejection> CheckCount(bool has, int32_t value, const char* field) {
  if (has && value < 0) {
    return Invalid(std::string(field) + " is negative (" + std::to_string(value) + ")");
  }
  return std::nullopt;
}

// Every enum field must hold a known value, every count a non-negative one,
// and every timestamp a sane one. Written out per message (not by reflection):
// this runs for every event.
std::optional<Rejection> CheckFields(const v1::Envelope& e) {
  std::optional<Rejection> bad;
  switch (e.payload_case()) {
    case v1::Envelope::kAttendance: {
      const auto& p = e.attendance();
      if ((bad = CheckEnum(v1::AttendancePunch::Kind_IsValid(p.kind()), p.kind(), "kind"))) break;
      if (p.has_scheduled_at()) bad = CheckTime(p.scheduled_at(), "scheduled_at");
      break;
    }
    case v1::Envelope::kCall: {
      const auto& c = e.call();
      if ((bad = CheckEnum(v1::CallEvent::Line_IsValid(c.line()), c.line(), "line")) ||
          (bad = CheckEnum(v1::CallEvent::Direction_IsValid(c.direction()), c.direction(),
                           "direction")) ||
          (bad = CheckEnum(v1::CallEvent::Party_IsValid(c.hung_up_by()), c.hung_up_by(),
                           "hung_up_by")) ||
          (bad = CheckEnum(v1::CallEvent::Role_IsValid(c.employee_role()), c.employee_role(),
                           "employee_role")) ||
          (bad = CheckCount(c.has_rings_before_answer(), c.rings_before_answer(),
                            "rings_before_answer")) ||
          (bad = CheckCount(c.has_hold_seconds(), c.hold_seconds(), "hold_seconds")) ||
          (bad = CheckCount(c.has_duration_seconds(), c.duration_seconds(), "duration_seconds")) ||
          (bad = CheckCount(c.has_called_back_within_seconds(), c.called_back_within_seconds(),
                            "called_back_within_seconds"))) {
        break;
      }
      break;
    }
    case v1::Envelope::kVisit: {
      const auto& v = e.visit();
      if ((bad = CheckEnum(v1::VisitCompletion::Locality_IsValid(v.locality()), v.locality(),
                           "locality")) ||
          (bad = CheckCount(v.has_customer_rating(), v.customer_rating(), "customer_rating")) ||
          (v.has_dispatched_at() && (bad = CheckTime(v.dispatched_at(), "dispatched_at"))) ||
          (v.has_arrived_at() && (bad = CheckTime(v.arrived_at(), "arrived_at"))) ||
          (v.has_appointment_at() && (bad = CheckTime(v.appointment_at(), "appointment_at")))) {
        break;
      }
      break;
    }
    case v1::Envelope::kCallback:
      for (int reason : e.callback().complaint_reasons()) {
        if (reason == 0 || !v1::CallbackResult::ComplaintReason_IsValid(reason)) {
          return Invalid("unknown value " + std::to_string(reason) + " in complaint_reasons");
        }
      }
      break;
    case v1::Envelope::kObservation:
      bad = CheckEnum(v1::Observation::Code_IsValid(e.observation().code()),
                      e.observation().code(), "code");
      break;
    case v1::Envelope::PAYLOAD_NOT_SET:
      break;
  }
  return bad;
}

// The payload's occurred_at, or nullptr when it is missing.
const google::protobuf::Timestamp* OccurredAt(const v1::Envelope& e) {
  auto of = [](const auto& m) { return m.has_occurred_at() ? &m.occurred_at() : nullptr; };
  switch (e.payload_case()) {
    case v1::Envelope::kAttendance: return of(e.attendance());
    case v1::Envelope::kCall: return of(e.call());
    case v1::Envelope::kVisit: return of(e.visit());
    case v1::Envelope::kCallback: return of(e.callback());
    case v1::Envelope::kObservation: return of(e.observation());
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return nullptr;
}

const Message* Payload(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kAttendance: return &e.attendance();
    case v1::Envelope::kCall: return &e.call();
    case v1::Envelope::kVisit: return &e.visit();
    case v1::Envelope::kCallback: return &e.callback();
    case v1::Envelope::kObservation: return &e.observation();
    case v1::Envelope::PAYLOAD_NOT_SET: return nullptr;
  }
  return nullptr;
}

// The first of `m` and its timestamps that holds fields its type does not
// have (protobuf keeps them as unknown fields), or nullptr.
template <typename... Stamps>
const Message* WithUnknownFields(const Message& m, const Stamps&... stamps) {
  for (const Message* part : {&m, static_cast<const Message*>(&stamps)...}) {
    if (!part->GetReflection()->GetUnknownFields(*part).empty()) return part;
  }
  return nullptr;
}

// The same of an envelope: itself, its payload or a timestamp of the payload.
const Message* WithUnknownFields(const v1::Envelope& e) {
  if (!e.GetReflection()->GetUnknownFields(e).empty()) return &e;
  switch (e.payload_case()) {
    case v1::Envelope::kAttendance: {
      const auto& p = e.attendance();
      return WithUnknownFields(p, p.occurred_at(), p.scheduled_at());
    }
    case v1::Envelope::kCall: return WithUnknownFields(e.call(), e.call().occurred_at());
    case v1::Envelope::kVisit: {
      const auto& p = e.visit();
      return WithUnknownFields(p, p.occurred_at(), p.dispatched_at(), p.arrived_at(),
                               p.appointment_at());
    }
    case v1::Envelope::kCallback:
      return WithUnknownFields(e.callback(), e.callback().occurred_at());
    case v1::Envelope::kObservation:
      return WithUnknownFields(e.observation(), e.observation().occurred_at());
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return nullptr;
}

}  // namespace

namespace {

// Counts the payload keys at the top level of a JSON object. The protobuf
// parser reports a second oneof member too, but less clearly.
int CountPayloadKeys(std::string_view line) {
  int depth = 0, payloads = 0;
  bool in_string = false, reading_key = false, expect_key = false;
  std::string key;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') {
        if (reading_key && i + 1 < line.size()) key += line[i + 1];
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (reading_key) {
          reading_key = false;
          if (key == "attendance" || key == "call" || key == "visit" || key == "callback" ||
              key == "observation") {
            ++payloads;
          }
        }
      } else if (reading_key) {
        key += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        reading_key = depth == 1 && expect_key;
        key.clear();
        break;
      case '{':
      case '[':
        ++depth;
        expect_key = c == '{';
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        expect_key = depth == 1;
        break;
      case ':':
        expect_key = false;
        break;
      default:
        break;
    }
  }
  return payloads;
}

// What protobuf's JSON parser (3.21) accepts beyond the protobuf JSON mapping:
// a string for a bool ("no", "true": it reads any text) and a single value
// for a repeated field. Returns the first such value of `line`, which
// protobuf has accepted for `type`, in protobuf's form of message: the field
// path in parentheses, proto names.
std::optional<std::string> BeyondJsonMapping(std::string_view line, const Descriptor* type) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  std::optional<std::string> found;
  std::function<void(const nlohmann::json&, const Descriptor*, const std::string&)> walk =
      [&](const nlohmann::json& object, const Descriptor* message, const std::string& path) {
        if (!object.is_object()) return;
        for (const auto& [key, value] : object.items()) {
          const FieldDescriptor* f = message->FindFieldByName(key);
          if (f == nullptr) f = message->FindFieldByCamelcaseName(key);
          if (f == nullptr || value.is_null() || found) continue;
          const std::string name = path.empty() ? f->name() : path + "." + f->name();
          if (f->is_repeated() && !value.is_array()) {
            found = "(" + name + "): a single value for a list (Hint: [" + value.dump() + "])";
          } else if (f->type() == FieldDescriptor::TYPE_BOOL && !value.is_boolean() &&
                     !value.is_array()) {
            found = "(" + name + "): invalid value " + value.dump() +
                    " for a bool (Hint: true or false, without quotes)";
          } else if (f->type() == FieldDescriptor::TYPE_MESSAGE &&
                     f->message_type()->file()->package() != "google.protobuf") {
            walk(value, f->message_type(), name);
          }
        }
      };
  if (!json.is_discarded()) walk(json, type, "");
  return found;
}

// Whether a decision line may hold what BeyondJsonMapping looks for: a key of
// a bool or repeated field (by either name) followed by anything but what the
// mapping allows there, or an escape that could spell such a key. A fast
// filter: decision logs are read whole, and their lines, as DecisionToJson
// writes them, pass it.
bool MayGoBeyondJsonMappingOfDecision(std::string_view line) {
  static const std::vector<std::pair<std::string, bool>> keys = [] {  // (quoted key, repeated)
    std::vector<std::pair<std::string, bool>> out;
    const Descriptor* d = v1::Decision::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!f->is_repeated() && f->type() != FieldDescriptor::TYPE_BOOL) continue;
      out.emplace_back("\"" + f->name() + "\"", f->is_repeated());
      if (f->camelcase_name() != f->name()) {
        out.emplace_back("\"" + f->camelcase_name() + "\"", f->is_repeated());
      }
    }
    return out;
  }();
  if (line.find("\\u") != std::string_view::npos) return true;
  for (const auto& [key, repeated] : keys) {
    for (size_t at = line.find(key); at != std::string_view::npos; at = line.find(key, at + 1)) {
      size_t value = line.find_first_not_of(" \t\r\n:", at + key.size());
      if (value == std::string_view::npos) return true;
      const char c = line[value];
      if (c == 'n' || (repeated ? c == '[' : c == 't' || c == 'f')) continue;
      return true;
    }
  }
  return false;
}

// The parser's message on one line, with the allowed values of an enum.
std::string CleanParseError(std::string message) {
  size_t nl = message.find('\n');
  if (nl != std::string::npos) message.resize(nl);
  while (!message.empty() && (message.back() == ' ' || message.back() == '.')) message.pop_back();
  static const std::string kMarker = "for type type.googleapis.com/";
  size_t at = message.find(kMarker);
  if (at != std::string::npos) {
    std::string type = message.substr(at + kMarker.size());
    message.resize(at);
    while (!message.empty() && message.back() == ' ') message.pop_back();
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    if (const auto* e = pool->FindEnumTypeByName(type)) {
      std::string names;
      for (int i = 0; i < e->value_count(); ++i) {
        if (e->value(i)->number() == 0) continue;
        names += (names.empty() ? "" : ", ") + e->value(i)->name();
      }
      message += " (Hint: " + names + ")";
    }
  }
  return message;
}

}  // namespace

std::optional<Rejection> ParseEventJson(std::string_view line, v1::Envelope* out) {
  out->Clear();
  // Protobuf's JSON parser reads about 56,000 lines a second, a fifth of the
  // speed of binary input; the lines of event files take the direct reader.
  if (ParsePlainEventJson(line, out)) return std::nullopt;
  return ParseEventJsonWithProtobuf(line, out);
}

std::optional<Rejection> ParseEventJsonWithProtobuf(std::string_view line, v1::Envelope* out) {
  out->Clear();
  if (CountPayloadKeys(line) > 1) {
    return Rejection{v1::UNPARSEABLE,
                     "more than one payload (Hint: a line holds exactly one of attendance, call, "
                     "visit, callback, observation)"};
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), out, options);
  if (!status.ok()) {
    return Rejection{v1::UNPARSEABLE,
                     "not a valid event: " + CleanParseError(std::string(status.message()))};
  }
  if (auto beyond = BeyondJsonMapping(line, v1::Envelope::descriptor())) {
    out->Clear();
    return Rejection{v1::UNPARSEABLE, "not a valid event: " + *beyond};
  }
  if (out->payload_case() == v1::Envelope::PAYLOAD_NOT_SET) {
    return Rejection{v1::UNPARSEABLE,
                     "no payload (Hint: one of attendance, call, visit, callback, observation)"};
  }
  return std::nullopt;
}

std::optional<Rejection> ParseEventBinary(std::string_view bytes, v1::Envelope* out) {
  out->Clear();
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Rejection{v1::UNPARSEABLE, "not a binary demerit.v1.Envelope"};
  }
  if (out->payload_case() == v1::Envelope::PAYLOAD_NOT_SET) {
    return Rejection{v1::UNPARSEABLE, "binary envelope without a payload"};
  }
  // Fields the schema does not have would be dropped unseen: another
  // message's fields (a call under the visit tag), or a newer schema's.
  if (const Message* m = WithUnknownFields(*out)) {
    return Rejection{
        v1::UNPARSEABLE,
        "binary envelope has field " +
            std::to_string(m->GetReflection()->GetUnknownFields(*m).field(0).number()) +
            ", which " + m->GetDescriptor()->full_name() +
            " does not have (Hint: another event type's message, or a newer events.proto)"};
  }
  return std::nullopt;
}

std::optional<Rejection> ParseStreamRecord(Stream stream, std::string_view bytes,
                                           v1::Envelope* out) {
  out->Clear();
  google::protobuf::Message* payload = nullptr;
  switch (stream) {
    case Stream::kAttendance: payload = out->mutable_attendance(); break;
    case Stream::kCalls: payload = out->mutable_call(); break;
    case Stream::kVisits: payload = out->mutable_visit(); break;
    case Stream::kCallbacks: payload = out->mutable_callback(); break;
    case Stream::kObservations: payload = out->mutable_observation(); break;
  }
  if (!payload->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Rejection{v1::UNPARSEABLE, "not a binary " + payload->GetDescriptor()->full_name()};
  }
  // Fields this message does not have: another stream's message on this topic.
  if (!payload->GetReflection()->GetUnknownFields(*payload).empty()) {
    return Rejection{v1::WRONG_TOPIC, "record has fields that " +
                                          payload->GetDescriptor()->full_name() +
                                          " does not (another stream's message?)"};
  }
  return std::nullopt;
}

std::string SerializeStreamRecord(const v1::Envelope& event) {
  const Message* payload = Payload(event);
  return payload == nullptr ? std::string() : payload->SerializeAsString();
}

std::optional<Rejection> ValidateEvent(const v1::Envelope& event, const RuleSet& rules) {
  const Message* payload = Payload(event);
  if (payload == nullptr) return Rejection{v1::UNPARSEABLE, "no payload"};
  EventHeader h = HeaderOf(event);
  if (auto bad = CheckId(*h.event_id, "event_id", true)) return bad;
  if (auto bad = CheckId(*h.employee_id, "employee_id", true)) return bad;
  if (auto bad = CheckId(*h.site_id, "site_id", true)) return bad;
  if (auto bad = CheckId(*h.supersedes_event_id, "supersedes_event_id", false)) return bad;
  if (*h.supersedes_event_id == *h.event_id) {
    return Invalid("supersedes_event_id names the event itself");
  }
  if (h.is_void && h.supersedes_event_id->empty()) {
    return Invalid("void without supersedes_event_id (Hint: a void withdraws the event it names)");
  }
  const google::protobuf::Timestamp* occurred_at = OccurredAt(event);
  if (occurred_at == nullptr) return Invalid("occurred_at is missing");
  if (auto bad = CheckTime(*occurred_at, "occurred_at")) return bad;
  if (auto bad = CheckFields(event)) return bad;
  if (rules.FindSite(*h.site_id) == nullptr) {
    return Rejection{v1::UNKNOWN_SITE, "unknown site \"" + *h.site_id + "\""};
  }
  if (event.has_attendance()) {
    const auto& p = event.attendance();
    if (p.kind() == v1::AttendancePunch::KIND_UNSPECIFIED && !h.is_void) {
      return Invalid("attendance kind is missing (Hint: CLOCK_IN or CLOCK_OUT)");
    }
    if (p.has_scheduled_at()) {
      Nanos gap = ToNanos(p.scheduled_at()) - h.occurred_at;
      if (gap > 7 * kNanosPerDay || gap < -7 * kNanosPerDay) {
        return Invalid("scheduled_at is more than 7 days from occurred_at");
      }
    }
  }
  return std::nullopt;
}

namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the characters not yet appended
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);  // the plain characters before, in one go
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// Appends `n` as exactly `width` decimal digits (0 <= n < 10^width).
void AppendDigits(std::string* out, int64_t n, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i, n /= 10) buf[i] = static_cast<char>('0' + n % 10);
  out->append(buf, width);
}

// Protobuf's JSON form of a Timestamp: fraction of 0, 3, 6 or 9 digits.
// Nanos outside [0, 10^9), which only a malformed message carries, are
// carried into the seconds: the instant the two fields add up to.
void AppendTimestampJson(const google::protobuf::Timestamp& ts, std::string* out) {
  int64_t carry = ts.nanos() / 1'000'000'000;
  int nanos = ts.nanos() % 1'000'000'000;
  if (nanos < 0) {
    carry -= 1;
    nanos += 1'000'000'000;
  }
  int64_t seconds;
  if (__builtin_add_overflow(ts.seconds(), carry, &seconds)) {
    seconds = carry > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  out->push_back('"');
  AppendDateTime(seconds, out);
  if (nanos != 0) {
    out->push_back('.');
    if (nanos % 1'000'000 == 0) {
      AppendDigits(out, nanos / 1'000'000, 3);
    } else if (nanos % 1000 == 0) {
      AppendDigits(out, nanos / 1000, 6);
    } else {
      AppendDigits(out, nanos, 9);
    }
  }
  out->append("Z\"");
}

class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }
  void String(std::string_view key, std::string_view v) {
    Key(key);
    AppendJsonString(v, out_);
  }
  void Int32(std::string_view key, int32_t v) {
    Key(key);
    AppendNumber(v);
  }
  // int64 as a string, as protobuf prints it.
  void Int64(std::string_view key, int64_t v) {
    Key(key);
    out_->push_back('"');
    AppendNumber(v);
    out_->push_back('"');
  }
  void Bool(std::string_view key, bool v) {
    Key(key);
    out_->append(v ? "true" : "false");
  }
  void Timestamp(std::string_view key, const google::protobuf::Timestamp& ts) {
    Key(key);
    AppendTimestampJson(ts, out_);
  }
  // The key of a value the caller appends.
  void Key(std::string_view key) {  // a field name: nothing to escape
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
  }
  void Close() { out_->push_back('}'); }

 private:
  void AppendNumber(int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_->append(buf, end);
  }
  std::string* out_;
  bool first_ = true;
};

}  // namespace

// The protobuf JSON mapping (proto field names, every field printed, int64 as
// strings, enums by name), written directly: this is the replay's hot output
// path, and the generic printer is several times slower.
std::string DecisionToJson(const v1::Decision& d) {
  std::string out;
  out.reserve(1024);
  JsonObject o(&out);
  o.String("penalty_id", d.penalty_id());
  o.String("kind", v1::DecisionKind_Name(d.kind()));
  o.String("reverses_penalty_id", d.reverses_penalty_id());
  o.String("employee_id", d.employee_id());
  o.String("site_id", d.site_id());
  o.String("rule_id", d.rule_id());
  o.String("rule_version", d.rule_version());
  o.String("pack", d.pack());
  o.String("window", d.window());
  o.Int32("occurrence", d.occurrence());
  o.Int32("step", d.step());
  o.Int64("amount_minor", d.amount_minor());
  o.String("currency", d.currency());
  o.String("action", v1::Action_Name(d.action()));
  o.Key("evidence_event_ids");
  out.push_back('[');
  for (int i = 0; i < d.evidence_event_ids_size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(d.evidence_event_ids(i), &out);
  }
  out.push_back(']');
  if (d.has_occurred_at()) o.Timestamp("occurred_at", d.occurred_at());
  o.Bool("capped", d.capped());
  o.Int64("capped_minor", d.capped_minor());
  o.String("guardrail", d.guardrail());
  o.String("reason", d.reason());
  o.String("cause_event_id", d.cause_event_id());
  o.String("counter", d.counter());
  o.String("clause", d.clause());
  o.Close();
  return out;
}

std::optional<Rejection> ParseDecisionJson(std::string_view line, v1::Decision* out) {
  out->Clear();
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), out);
  if (!status.ok()) {
    return Rejection{v1::UNPARSEABLE,
                     "not a valid decision: " + CleanParseError(std::string(status.message()))};
  }
  if (auto beyond = MayGoBeyondJsonMappingOfDecision(line)
                        ? BeyondJsonMapping(line, v1::Decision::descriptor())
                        : std::nullopt) {
    out->Clear();
    return Rejection{v1::UNPARSEABLE, "not a valid decision: " + *beyond};
  }
  return std::nullopt;
}

std::string EventToJson(const v1::Envelope& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(event, &out, options);
  return out;
}

void AppendDelimited(const google::protobuf::MessageLite& message, std::string* out) {
  size_t size = message.ByteSizeLong();
  uint8_t header[10];
  uint8_t* end =
      google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                                   header);
  out->append(reinterpret_cast<char*>(header), end - header);
  size_t at = out->size();
  out->resize(at + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
}

}  // namespace demerit::core
