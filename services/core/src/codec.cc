#include "demerit/core/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

#include "demerit/core/facts.h"

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

std::optional<Rejection> CheckTime(const google::protobuf::Timestamp& ts, const char* field) {
  if (ts.seconds() < kMinSeconds || ts.seconds() >= kMaxSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999'999'999) {
    return Invalid(std::string(field) + " " + FormatRfc3339(ToNanos(ts)) +
                   " is outside 2000-01-01..2100-01-01");
  }
  return std::nullopt;
}

// Every enum field must hold a known, specified value, and every integer a
// non-negative one, and every timestamp a sane one.
std::optional<Rejection> CheckFields(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      if (f->type() == FieldDescriptor::TYPE_ENUM) {
        for (int j = 0; j < r->FieldSize(m, f); ++j) {
          int v = r->GetRepeatedEnumValue(m, f, j);
          if (v == 0 || f->enum_type()->FindValueByNumber(v) == nullptr) {
            return Invalid("unknown value " + std::to_string(v) + " in " + f->name());
          }
        }
      }
      continue;
    }
    if (f->has_presence() && !r->HasField(m, f)) continue;
    switch (f->type()) {
      case FieldDescriptor::TYPE_ENUM: {
        int v = r->GetEnumValue(m, f);
        if (v != 0 && f->enum_type()->FindValueByNumber(v) == nullptr) {
          return Invalid("unknown value " + std::to_string(v) + " for " + f->name());
        }
        break;
      }
      case FieldDescriptor::TYPE_INT32:
        if (r->GetInt32(m, f) < 0) {
          return Invalid(f->name() + " is negative (" + std::to_string(r->GetInt32(m, f)) + ")");
        }
        break;
      case FieldDescriptor::TYPE_MESSAGE:
        if (f->message_type()->full_name() == "google.protobuf.Timestamp") {
          const auto& ts = static_cast<const google::protobuf::Timestamp&>(r->GetMessage(m, f));
          if (auto bad = CheckTime(ts, f->name().c_str())) return bad;
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
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
  return std::nullopt;
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
  const Reflection* r = payload->GetReflection();
  const FieldDescriptor* occurred = payload->GetDescriptor()->FindFieldByName("occurred_at");
  if (!r->HasField(*payload, occurred)) return Invalid("occurred_at is missing");
  if (auto bad = CheckFields(*payload)) return bad;
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

std::string DecisionToJson(const v1::Decision& decision) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(decision, &out, options);
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
