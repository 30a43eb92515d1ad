#include "demerit/core/facts.h"

#include <google/protobuf/descriptor.h>

#include <limits>

namespace demerit::core {
namespace {

using v1::AttendancePunch;
using v1::CallbackResult;
using v1::CallEvent;
using v1::Observation;
using v1::VisitCompletion;

// Fact ids by stream; the order must match the tables in FactsOf().
enum AttendanceFact { kKind, kLateSeconds, kEarlySeconds, kMinutesLate, kMinutesEarly, kScheduled };
enum CallFact {
  kLine,
  kDirection,
  kAnswered,
  kRings,
  kHold,
  kDuration,
  kHungUpBy,
  kPrivate,
  kSpeakerphone,
  kDropped,
  kCalledBack,
  kRole,
  kGreetingOk
};
enum VisitFact { kLocality, kNotified, kCardSigned, kRating, kArrivalDelay, kAppointmentDelay };
enum CallbackFact { kReached, kWrongNumber, kSatisfied, kComplaints };
enum ObservationFact { kCode };

std::vector<FactSpec> MakeFacts(Stream stream) {
  auto b = [](const char* name) { return FactSpec{name, FactType::kBool}; };
  auto i = [](const char* name) { return FactSpec{name, FactType::kInt}; };
  auto e = [](const char* name, const google::protobuf::EnumDescriptor* d) {
    return FactSpec{name, FactType::kEnum, d};
  };
  switch (stream) {
    case Stream::kAttendance:
      return {e("kind", AttendancePunch::Kind_descriptor()), i("late_seconds"),
              i("early_seconds"), i("minutes_late"), i("minutes_early"), b("scheduled")};
    case Stream::kCalls:
      return {e("line", CallEvent::Line_descriptor()),
              e("direction", CallEvent::Direction_descriptor()),
              b("answered"),
              i("rings_before_answer"),
              i("hold_seconds"),
              i("duration_seconds"),
              e("hung_up_by", CallEvent::Party_descriptor()),
              b("private"),
              b("speakerphone"),
              b("dropped"),
              i("called_back_within_seconds"),
              e("employee_role", CallEvent::Role_descriptor()),
              b("greeting_ok")};
    case Stream::kVisits:
      return {e("locality", VisitCompletion::Locality_descriptor()),
              b("customer_notified_of_delay"),
              b("service_card_signed"),
              i("customer_rating"),
              i("arrival_delay_seconds"),
              i("appointment_delay_seconds")};
    case Stream::kCallbacks:
      return {b("reached"), b("wrong_number"), b("satisfied"),
              FactSpec{"complaint_reasons", FactType::kEnumSet,
                       CallbackResult::ComplaintReason_descriptor()}};
    case Stream::kObservations:
      return {e("code", Observation::Code_descriptor())};
  }
  return {};
}

FactValue Opt(bool has, int64_t v) { return has ? FactValue{true, v} : FactValue{}; }
FactValue Enum(int v) { return v != 0 ? FactValue{true, v} : FactValue{}; }

}  // namespace

std::string_view StreamName(Stream stream) {
  static constexpr std::string_view kNames[] = {"attendance", "calls", "visits", "callbacks",
                                                "observations"};
  return kNames[static_cast<int>(stream)];
}

bool StreamFromName(std::string_view name, Stream* stream) {
  for (int s = 0; s < kStreamCount; ++s) {
    if (StreamName(static_cast<Stream>(s)) == name) {
      *stream = static_cast<Stream>(s);
      return true;
    }
  }
  return false;
}

bool StreamOf(const v1::Envelope& envelope, Stream* stream) {
  switch (envelope.payload_case()) {
    case v1::Envelope::kAttendance: *stream = Stream::kAttendance; return true;
    case v1::Envelope::kCall: *stream = Stream::kCalls; return true;
    case v1::Envelope::kVisit: *stream = Stream::kVisits; return true;
    case v1::Envelope::kCallback: *stream = Stream::kCallbacks; return true;
    case v1::Envelope::kObservation: *stream = Stream::kObservations; return true;
    case v1::Envelope::PAYLOAD_NOT_SET: return false;
  }
  return false;
}

const std::vector<FactSpec>& FactsOf(Stream stream) {
  static const std::array<std::vector<FactSpec>, kStreamCount> kTables = {
      MakeFacts(Stream::kAttendance), MakeFacts(Stream::kCalls), MakeFacts(Stream::kVisits),
      MakeFacts(Stream::kCallbacks), MakeFacts(Stream::kObservations)};
  return kTables[static_cast<int>(stream)];
}

int FindFact(Stream stream, std::string_view name) {
  const auto& facts = FactsOf(stream);
  for (size_t i = 0; i < facts.size(); ++i) {
    if (facts[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// Saturates past the range of Nanos (a time from an unchecked message: an
// event before ValidateEvent, a decision log).
Nanos ToNanos(const google::protobuf::Timestamp& ts) {
  Nanos out;
  if (__builtin_mul_overflow(ts.seconds(), kNanosPerSecond, &out) ||
      __builtin_add_overflow(out, Nanos{ts.nanos()}, &out)) {
    return ts.seconds() < 0 ? std::numeric_limits<Nanos>::min() : std::numeric_limits<Nanos>::max();
  }
  return out;
}

namespace {

template <typename T>
EventHeader Header(const T& m) {
  return EventHeader{&m.event_id(), &m.site_id(), &m.employee_id(), ToNanos(m.occurred_at()),
                     &m.supersedes_event_id(), m.void_()};
}

}  // namespace

EventHeader HeaderOf(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kAttendance: return Header(e.attendance());
    case v1::Envelope::kCall: return Header(e.call());
    case v1::Envelope::kVisit: return Header(e.visit());
    case v1::Envelope::kCallback: return Header(e.callback());
    case v1::Envelope::kObservation: return Header(e.observation());
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  static const std::string kEmpty;
  return EventHeader{&kEmpty, &kEmpty, &kEmpty, 0, &kEmpty, false};
}

Nanos ScheduledTime(const v1::Envelope& envelope, const ShiftClock& shift) {
  if (!envelope.has_attendance()) return HeaderOf(envelope).occurred_at;
  const AttendancePunch& p = envelope.attendance();
  if (p.has_scheduled_at()) return ToNanos(p.scheduled_at());
  Nanos at = ToNanos(p.occurred_at());
  return p.kind() == AttendancePunch::CLOCK_OUT ? shift.ShiftOf(at, false).end
                                                : shift.ShiftOf(at, true).start;
}

FactValues ComputeFacts(const v1::Envelope& envelope, const ShiftClock& shift) {
  FactValues f{};
  switch (envelope.payload_case()) {
    case v1::Envelope::kAttendance: {
      const AttendancePunch& p = envelope.attendance();
      f[kKind] = Enum(p.kind());
      f[kScheduled] = FactValue{true, p.has_scheduled_at()};
      Nanos at = ToNanos(p.occurred_at());
      Nanos scheduled = ScheduledTime(envelope, shift);
      // Whole seconds, rounded away from "on time": 09:00:00.2 is one second late.
      auto ceil_seconds = [](Nanos n) {
        return n / kNanosPerSecond + (n % kNanosPerSecond > 0 ? 1 : 0);
      };
      if (p.kind() == AttendancePunch::CLOCK_IN) {
        int64_t late = ceil_seconds(at - scheduled);
        f[kLateSeconds] = {true, late};
        f[kMinutesLate] = {true, late / 60};
      } else if (p.kind() == AttendancePunch::CLOCK_OUT) {
        int64_t early = ceil_seconds(scheduled - at);
        f[kEarlySeconds] = {true, early};
        f[kMinutesEarly] = {true, early / 60};
      }
      break;
    }
    case v1::Envelope::kCall: {
      const CallEvent& c = envelope.call();
      f[kLine] = Enum(c.line());
      f[kDirection] = Enum(c.direction());
      f[kAnswered] = Opt(c.has_answered(), c.answered());
      f[kRings] = Opt(c.has_rings_before_answer(), c.rings_before_answer());
      f[kHold] = Opt(c.has_hold_seconds(), c.hold_seconds());
      f[kDuration] = Opt(c.has_duration_seconds(), c.duration_seconds());
      f[kHungUpBy] = Enum(c.hung_up_by());
      f[kPrivate] = Opt(c.has_private_(), c.private_());
      f[kSpeakerphone] = Opt(c.has_speakerphone(), c.speakerphone());
      f[kDropped] = Opt(c.has_dropped(), c.dropped());
      f[kCalledBack] = Opt(c.has_called_back_within_seconds(), c.called_back_within_seconds());
      f[kRole] = Enum(c.employee_role());
      f[kGreetingOk] = Opt(c.has_greeting_ok(), c.greeting_ok());
      break;
    }
    case v1::Envelope::kVisit: {
      const VisitCompletion& v = envelope.visit();
      f[kLocality] = Enum(v.locality());
      f[kNotified] = Opt(v.has_customer_notified_of_delay(), v.customer_notified_of_delay());
      f[kCardSigned] = Opt(v.has_service_card_signed(), v.service_card_signed());
      f[kRating] = Opt(v.has_customer_rating(), v.customer_rating());
      if (v.has_arrived_at() && v.has_dispatched_at()) {
        f[kArrivalDelay] = {true, (ToNanos(v.arrived_at()) - ToNanos(v.dispatched_at())) /
                                      kNanosPerSecond};
      }
      if (v.has_arrived_at() && v.has_appointment_at()) {
        f[kAppointmentDelay] = {true, (ToNanos(v.arrived_at()) - ToNanos(v.appointment_at())) /
                                          kNanosPerSecond};
      }
      break;
    }
    case v1::Envelope::kCallback: {
      const CallbackResult& c = envelope.callback();
      f[kReached] = Opt(c.has_reached(), c.reached());
      f[kWrongNumber] = Opt(c.has_wrong_number(), c.wrong_number());
      f[kSatisfied] = Opt(c.has_satisfied(), c.satisfied());
      int64_t mask = 0;
      for (int reason : c.complaint_reasons()) {
        if (reason > 0 && reason < 64) mask |= int64_t{1} << reason;
      }
      f[kComplaints] = {true, mask};
      break;
    }
    case v1::Envelope::kObservation:
      f[kCode] = Enum(envelope.observation().code());
      break;
    case v1::Envelope::PAYLOAD_NOT_SET:
      break;
  }
  return f;
}

}  // namespace demerit::core
