#include "event_json.h"

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "demerit/core/time.h"

namespace demerit::core {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The JSON forms read here. A field of any other type (none today) is left to
// protobuf, as is a field whose setter SetField does not list.
enum class Shape { kString, kBool, kInt32, kEnum, kEnumList, kTimestamp };

struct EnumName {
  std::string_view name;
  int number;
};

struct FieldShape {
  std::string_view name;  // the proto name
  int number;
  Shape shape;
  std::vector<EnumName> values;  // of kEnum and kEnumList
};

// Taken from the descriptors, so that a field's JSON form always follows its
// type in events.proto.
std::vector<FieldShape> ShapesOf(const Descriptor* message) {
  std::vector<FieldShape> shapes;
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* f = message->field(i);
    if (f->number() >= 64) continue;  // ReadPayload's set of seen fields
    FieldShape s{f->name(), f->number(), Shape::kString, {}};
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING: s.shape = Shape::kString; break;
      case FieldDescriptor::TYPE_BOOL: s.shape = Shape::kBool; break;
      case FieldDescriptor::TYPE_INT32: s.shape = Shape::kInt32; break;
      case FieldDescriptor::TYPE_ENUM:
        s.shape = f->is_repeated() ? Shape::kEnumList : Shape::kEnum;
        for (int v = 0; v < f->enum_type()->value_count(); ++v) {
          const auto* value = f->enum_type()->value(v);
          s.values.push_back({value->name(), value->number()});
        }
        break;
      case FieldDescriptor::TYPE_MESSAGE:
        if (f->message_type()->full_name() != "google.protobuf.Timestamp") continue;
        s.shape = Shape::kTimestamp;
        break;
      default: continue;
    }
    if (f->is_repeated() && s.shape != Shape::kEnumList) continue;
    shapes.push_back(std::move(s));
  }
  return shapes;
}

struct PayloadShapes {
  std::vector<FieldShape> attendance = ShapesOf(v1::AttendancePunch::descriptor());
  std::vector<FieldShape> call = ShapesOf(v1::CallEvent::descriptor());
  std::vector<FieldShape> visit = ShapesOf(v1::VisitCompletion::descriptor());
  std::vector<FieldShape> callback = ShapesOf(v1::CallbackResult::descriptor());
  std::vector<FieldShape> observation = ShapesOf(v1::Observation::descriptor());
};

const PayloadShapes& Shapes() {
  static const PayloadShapes shapes;
  return shapes;
}

// One value as read; which member holds it depends on the field's shape.
struct Value {
  std::string_view text;
  bool flag = false;
  int32_t number = 0;  // kInt32, and an enum's number
  int64_t seconds = 0;
  int32_t nanos = 0;
};

void SetTime(google::protobuf::Timestamp* ts, const Value& v) {
  ts->set_seconds(v.seconds);
  ts->set_nanos(v.nanos);
}

// The generated setters, by field number. Returns false for a number it does
// not know, which leaves the line to protobuf.
template <typename M>
bool SetHeaderField(M* m, int number, const Value& v) {
  switch (number) {
    case 1: m->set_event_id(v.text.data(), v.text.size()); return true;
    case 2: m->set_site_id(v.text.data(), v.text.size()); return true;
    case 3: m->set_employee_id(v.text.data(), v.text.size()); return true;
    case 4: SetTime(m->mutable_occurred_at(), v); return true;
    case 5: m->set_supersedes_event_id(v.text.data(), v.text.size()); return true;
    case 6: m->set_void_(v.flag); return true;
    default: return false;
  }
}

bool SetField(v1::AttendancePunch* m, int number, const Value& v) {
  switch (number) {
    case 10: m->set_kind(static_cast<v1::AttendancePunch::Kind>(v.number)); return true;
    case 11: SetTime(m->mutable_scheduled_at(), v); return true;
    default: return SetHeaderField(m, number, v);
  }
}

bool SetField(v1::CallEvent* m, int number, const Value& v) {
  switch (number) {
    case 10: m->set_line(static_cast<v1::CallEvent::Line>(v.number)); return true;
    case 11: m->set_direction(static_cast<v1::CallEvent::Direction>(v.number)); return true;
    case 12: m->set_answered(v.flag); return true;
    case 13: m->set_rings_before_answer(v.number); return true;
    case 14: m->set_hold_seconds(v.number); return true;
    case 15: m->set_duration_seconds(v.number); return true;
    case 16: m->set_hung_up_by(static_cast<v1::CallEvent::Party>(v.number)); return true;
    case 17: m->set_private_(v.flag); return true;
    case 18: m->set_speakerphone(v.flag); return true;
    case 19: m->set_dropped(v.flag); return true;
    case 20: m->set_called_back_within_seconds(v.number); return true;
    case 21: m->set_employee_role(static_cast<v1::CallEvent::Role>(v.number)); return true;
    case 22: m->set_greeting_ok(v.flag); return true;
    default: return SetHeaderField(m, number, v);
  }
}

bool SetField(v1::VisitCompletion* m, int number, const Value& v) {
  switch (number) {
    case 10: m->set_locality(static_cast<v1::VisitCompletion::Locality>(v.number)); return true;
    case 11: SetTime(m->mutable_dispatched_at(), v); return true;
    case 12: SetTime(m->mutable_arrived_at(), v); return true;
    case 13: SetTime(m->mutable_appointment_at(), v); return true;
    case 14: m->set_customer_notified_of_delay(v.flag); return true;
    case 15: m->set_service_card_signed(v.flag); return true;
    case 16: m->set_customer_rating(v.number); return true;
    default: return SetHeaderField(m, number, v);
  }
}

// complaint_reasons (13) is called once per element.
bool SetField(v1::CallbackResult* m, int number, const Value& v) {
  switch (number) {
    case 10: m->set_reached(v.flag); return true;
    case 11: m->set_wrong_number(v.flag); return true;
    case 12: m->set_satisfied(v.flag); return true;
    case 13:
      m->add_complaint_reasons(static_cast<v1::CallbackResult::ComplaintReason>(v.number));
      return true;
    default: return SetHeaderField(m, number, v);
  }
}

bool SetField(v1::Observation* m, int number, const Value& v) {
  switch (number) {
    case 10: m->set_code(static_cast<v1::Observation::Code>(v.number)); return true;
    case 11: m->set_inspector_id(v.text.data(), v.text.size()); return true;
    case 12: m->set_note(v.text.data(), v.text.size()); return true;
    default: return SetHeaderField(m, number, v);
  }
}

// Length of the well-formed UTF-8 sequence that starts with the byte >= 0x80
// at `p`, or 0 (overlong forms, surrogates and code points past U+10FFFF
// are not well-formed).
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  auto follows = [&](size_t i, unsigned char low = 0x80, unsigned char high = 0xbf) {
    return p + i < end && p[i] >= low && p[i] <= high;
  };
  unsigned char c = p[0];
  if (c >= 0xc2 && c <= 0xdf) return follows(1) ? 2 : 0;
  if (c == 0xe0) return follows(1, 0xa0) && follows(2) ? 3 : 0;
  if (c == 0xed) return follows(1, 0x80, 0x9f) && follows(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return follows(1) && follows(2) ? 3 : 0;
  if (c == 0xf0) return follows(1, 0x90) && follows(2) && follows(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return follows(1) && follows(2) && follows(3) ? 4 : 0;
  if (c == 0xf4) return follows(1, 0x80, 0x8f) && follows(2) && follows(3) ? 4 : 0;
  return 0;
}

// A timestamp, read as protobuf reads it (seconds, and nanos of the first
// nine fraction digits), on the strings where ParseRfc3339 agrees with
// protobuf: a capital T and Z, no leap second, no more than nine fraction
// digits, a year in 1900..2199 (well inside the range of Nanos).
bool ParseTimestamp(std::string_view s, int64_t* seconds, int32_t* nanos) {
  if (s.size() < 20 || s[10] != 'T' || s[17] == '6' || s.back() == 'z') return false;
  if (!s.starts_with("19") && !s.starts_with("20") && !s.starts_with("21")) return false;
  if (s[19] == '.') {
    size_t end = s.find_first_not_of("0123456789", 20);
    if (end == std::string_view::npos || end - 20 > 9) return false;
  }
  StatusOr<Nanos> t = ParseRfc3339(s);
  if (!t.ok()) return false;
  *seconds = *t / kNanosPerSecond;
  *nanos = static_cast<int32_t>(*t % kNanosPerSecond);
  if (*nanos < 0) {
    *nanos += static_cast<int32_t>(kNanosPerSecond);
    *seconds -= 1;
  }
  return true;
}

// A position in a line. Each read skips the JSON whitespace before its token
// and returns false, consuming an unspecified part, when the token is not of
// the plain form ParsePlainEventJson accepts.
class Cursor {
 public:
  explicit Cursor(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

  bool Consume(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != static_cast<unsigned char>(c)) return false;
    ++p_;
    return true;
  }

  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }

  bool String(std::string_view* s) {
    if (!Consume('"')) return false;
    const unsigned char* start = p_;
    while (p_ < end_) {
      unsigned char c = *p_;
      if (c == '"') {
        *s = std::string_view(reinterpret_cast<const char*>(start), p_ - start);
        ++p_;
        return true;
      }
      if (c < 0x20 || c == '\\') return false;
      if (c < 0x80) {
        ++p_;
        continue;
      }
      size_t n = Utf8Length(p_, end_);
      if (n == 0) return false;
      p_ += n;
    }
    return false;
  }

  bool Bool(bool* b) {
    SkipSpace();
    if (Keyword("true")) {
      *b = true;
      return true;
    }
    *b = false;
    return Keyword("false");
  }

  // No sign but '-', no leading zero, no "-0", no fraction or exponent.
  bool Int32(int32_t* v) {
    SkipSpace();
    bool negative = p_ < end_ && *p_ == '-';
    const unsigned char* digits = p_ + (negative ? 1 : 0);
    const unsigned char* q = digits;
    int64_t value = 0;
    while (q < end_ && *q >= '0' && *q <= '9' && q - digits < 11) value = value * 10 + (*q++ - '0');
    if (q == digits || q - digits > 10 || (*digits == '0' && (q - digits > 1 || negative))) {
      return false;
    }
    if (negative) value = -value;
    if (value < INT32_MIN || value > INT32_MAX) return false;
    *v = static_cast<int32_t>(value);
    p_ = q;
    return true;
  }

  bool Enum(const std::vector<EnumName>& values, int32_t* number) {
    std::string_view name;
    if (!String(&name)) return false;
    for (const EnumName& v : values) {
      if (v.name == name) {
        *number = v.number;
        return true;
      }
    }
    return false;
  }

  bool Timestamp(int64_t* seconds, int32_t* nanos) {
    std::string_view text;
    return String(&text) && ParseTimestamp(text, seconds, nanos);
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Keyword(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

// Reads one field's value and stores it in `m`.
template <typename M>
bool ReadField(Cursor& in, const FieldShape& f, M* m) {
  Value v;
  switch (f.shape) {
    case Shape::kString:
      if (!in.String(&v.text)) return false;
      break;
    case Shape::kBool:
      if (!in.Bool(&v.flag)) return false;
      break;
    case Shape::kInt32:
      if (!in.Int32(&v.number)) return false;
      break;
    case Shape::kEnum:
      if (!in.Enum(f.values, &v.number)) return false;
      break;
    case Shape::kTimestamp:
      if (!in.Timestamp(&v.seconds, &v.nanos)) return false;
      break;
    case Shape::kEnumList:
      if (!in.Consume('[')) return false;
      if (in.Consume(']')) return true;
      do {
        if (!in.Enum(f.values, &v.number) || !SetField(m, f.number, v)) return false;
      } while (in.Consume(','));
      return in.Consume(']');
  }
  return SetField(m, f.number, v);
}

// A payload object. A key that is not a field's proto name (a lowerCamel
// name too), or that repeats, leaves the line to protobuf, which reports or
// resolves it in its own way.
template <typename M>
bool ReadPayload(Cursor& in, const std::vector<FieldShape>& shapes, M* m) {
  if (!in.Consume('{')) return false;
  if (in.Consume('}')) return true;
  uint64_t seen = 0;
  do {
    std::string_view key;
    if (!in.String(&key) || !in.Consume(':')) return false;
    const FieldShape* field = nullptr;
    for (const FieldShape& f : shapes) {
      if (f.name == key) {
        field = &f;
        break;
      }
    }
    if (field == nullptr) return false;
    uint64_t bit = uint64_t{1} << field->number;
    if ((seen & bit) != 0) return false;
    seen |= bit;
    if (!ReadField(in, *field, m)) return false;
  } while (in.Consume(','));
  return in.Consume('}');
}

}  // namespace

bool ParsePlainEventJson(std::string_view line, v1::Envelope* out) {
  Cursor in(line);
  std::string_view key;
  if (!in.Consume('{') || !in.String(&key) || !in.Consume(':')) return false;
  const PayloadShapes& shapes = Shapes();
  bool read = false;
  if (key == "attendance") {
    read = ReadPayload(in, shapes.attendance, out->mutable_attendance());
  } else if (key == "call") {
    read = ReadPayload(in, shapes.call, out->mutable_call());
  } else if (key == "visit") {
    read = ReadPayload(in, shapes.visit, out->mutable_visit());
  } else if (key == "callback") {
    read = ReadPayload(in, shapes.callback, out->mutable_callback());
  } else if (key == "observation") {
    read = ReadPayload(in, shapes.observation, out->mutable_observation());
  }
  return read && in.Consume('}') && in.AtEnd();
}

}  // namespace demerit::core
