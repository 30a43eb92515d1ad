#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "demerit/core/status.h"

namespace demerit::core {

// Instants are nanoseconds since the Unix epoch, UTC.
using Nanos = int64_t;
constexpr Nanos kNanosPerSecond = 1'000'000'000;
constexpr Nanos kNanosPerDay = 86'400 * kNanosPerSecond;

struct CivilDay {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
  friend bool operator==(const CivilDay&, const CivilDay&) = default;
};

struct CivilTime {
  CivilDay day;
  int64_t seconds_of_day = 0;
};

// Days since 1970-01-01 of a civil day (proleptic Gregorian).
int64_t DaysFromCivil(const CivilDay& day);
CivilDay CivilFromDays(int64_t days);

std::string FormatDay(const CivilDay& day);    // 2026-11-29
std::string FormatMonth(const CivilDay& day);  // 2026-11
std::string FormatYear(const CivilDay& day);   // 2026
std::string FormatIsoWeek(const CivilDay& day);  // 2026-W48

// An IANA time zone with daylight-saving rules, from the system's tz database.
class Zone {
 public:
  static StatusOr<Zone> Find(std::string_view name);

  const std::string& name() const { return name_; }
  CivilTime ToCivil(Nanos instant) const;
  // The instant at `seconds_of_day` on local `day`. A local time skipped by a
  // daylight-saving change is read with the offset in force before the change
  // (02:30 in a 02:00->03:00 gap is the instant the clocks show 03:30); a
  // repeated local time is its first instance. Past the range of Nanos
  // (about 1678..2262), the earliest or the latest Nanos.
  Nanos ToInstant(const CivilDay& day, int64_t seconds_of_day) const;

 private:
  Zone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_;  // const date::time_zone*
};

// RFC 3339 with a Z or numeric offset; fraction up to nanoseconds.
StatusOr<Nanos> ParseRfc3339(std::string_view text);
// UTC, "Z", fraction only when non-zero.
std::string FormatRfc3339(Nanos instant);
// Appends YYYY-MM-DDTHH:MM:SS of Unix `seconds` in UTC.
void AppendDateTime(int64_t seconds, std::string* out);

// The longest duration a rule may write: 3660 days (ten years and more), the
// longest rolling window.
constexpr int64_t kMaxDurationSeconds = 3660 * 86'400;
constexpr const char* kMaxDurationText = "3660d";

// Parses a non-negative duration: integer seconds, or an integer with a unit
// s, m, h or d; at most kMaxDurationSeconds.
StatusOr<int64_t> ParseDurationSeconds(std::string_view text);

}  // namespace demerit::core
