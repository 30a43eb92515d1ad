#pragma once

// Facts: the values of one event that rule conditions read, input fields and
// derived ones (minutes late, arrival delay, ...), by stream.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demerit/core/time.h"
#include "demerit/v1/events.pb.h"

namespace google::protobuf {
class EnumDescriptor;
}

namespace demerit::core {

enum class Stream { kAttendance = 0, kCalls, kVisits, kCallbacks, kObservations };
constexpr int kStreamCount = 5;

// "attendance", "calls", ... as used in rule files and topic names.
std::string_view StreamName(Stream stream);
bool StreamFromName(std::string_view name, Stream* stream);
// The stream of an envelope's payload; false when it has none.
bool StreamOf(const v1::Envelope& envelope, Stream* stream);

enum class FactType { kBool, kInt, kEnum, kEnumSet };

struct FactSpec {
  std::string name;
  FactType type;
  const google::protobuf::EnumDescriptor* enum_type = nullptr;  // kEnum, kEnumSet
};

// The facts a stream offers; a fact's index in this list is its id.
const std::vector<FactSpec>& FactsOf(Stream stream);
int FindFact(Stream stream, std::string_view name);

struct FactValue {
  bool present = false;
  int64_t value = 0;  // bool as 0/1, enum by number, enum set as a bit mask
};
constexpr int kMaxFacts = 16;
using FactValues = std::array<FactValue, kMaxFacts>;

// One shift: its start and end instants.
struct Shift {
  Nanos start;
  Nanos end;
};

// What attendance facts need of the site: its scheduled shift.
struct ShiftClock {
  virtual ~ShiftClock() = default;
  // The shift that a punch at `at` belongs to: a clock-in (`clock_in`) the
  // one whose start is nearest, a clock-out the one whose end is nearest; on
  // a tie a clock-in takes the later shift and a clock-out the earlier one.
  virtual Shift ShiftOf(Nanos at, bool clock_in) const = 0;
};

// The common fields of any payload.
struct EventHeader {
  const std::string* event_id;
  const std::string* site_id;
  const std::string* employee_id;
  Nanos occurred_at;
  const std::string* supersedes_event_id;
  bool is_void;
};
EventHeader HeaderOf(const v1::Envelope& envelope);

// REQUIRES: the envelope has passed ValidateEvent().
FactValues ComputeFacts(const v1::Envelope& envelope, const ShiftClock& shift);

// For an attendance punch: its scheduled start or end (scheduled_at, else the
// site's default shift). For other streams: occurred_at.
Nanos ScheduledTime(const v1::Envelope& envelope, const ShiftClock& shift);

// Seconds and nanos as one count, saturated past the range of Nanos.
Nanos ToNanos(const google::protobuf::Timestamp& ts);

}  // namespace demerit::core
