#include "demerit/core/time.h"

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <charconv>
#include <cstdio>
#include <limits>

namespace demerit::core {
namespace {

const date::time_zone* Tz(const void* zone) { return static_cast<const date::time_zone*>(zone); }

using SysNanos = date::sys_time<std::chrono::nanoseconds>;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t DaysFromCivil(const CivilDay& day) {
  date::year_month_day ymd{date::year{day.year}, date::month{day.month}, date::day{day.day}};
  return date::sys_days{ymd}.time_since_epoch().count();
}

CivilDay CivilFromDays(int64_t days) {
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  return CivilDay{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day())};
}

std::string FormatDay(const CivilDay& day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", day.year, day.month, day.day);
  return buf;
}

std::string FormatMonth(const CivilDay& day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", day.year, day.month);
  return buf;
}

std::string FormatYear(const CivilDay& day) { return std::to_string(day.year); }

std::string FormatIsoWeek(const CivilDay& day) {
  iso_week::year_weeknum_weekday week{date::sys_days{date::days{DaysFromCivil(day)}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02u", static_cast<int>(week.year()),
                static_cast<unsigned>(week.weeknum()));
  return buf;
}

StatusOr<Zone> Zone::Find(std::string_view name) {
  try {
    const date::time_zone* zone = date::locate_zone(name);
    return Zone(std::string(name), zone);
  } catch (const std::exception& e) {
    return Status::Error("unknown time zone \"" + std::string(name) +
                         "\" (Hint: an IANA name such as Asia/Shanghai or Europe/Berlin)");
  }
}

CivilTime Zone::ToCivil(Nanos instant) const {
  SysNanos sys{std::chrono::nanoseconds{instant}};
  auto info = Tz(zone_)->get_info(std::chrono::time_point_cast<std::chrono::seconds>(
      date::floor<std::chrono::seconds>(sys)));
  int64_t local_seconds =
      FloorDiv(instant, kNanosPerSecond) + static_cast<int64_t>(info.offset.count());
  int64_t days = FloorDiv(local_seconds, 86'400);
  return CivilTime{CivilFromDays(days), local_seconds - days * 86'400};
}

Nanos Zone::ToInstant(const CivilDay& day, int64_t seconds_of_day) const {
  int64_t local_seconds = DaysFromCivil(day) * 86'400 + seconds_of_day;
  date::local_seconds local{std::chrono::seconds{local_seconds}};
  auto info = Tz(zone_)->get_info(local);
  int64_t offset = 0;
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      offset = info.first.offset.count();
      break;
    case date::local_info::nonexistent:
      offset = info.first.offset.count();
      break;
  }
  // Saturated past the range of Nanos: a rule in force from 4040 never is.
  Nanos instant;
  if (__builtin_mul_overflow(local_seconds - offset, kNanosPerSecond, &instant)) {
    return local_seconds < 0 ? std::numeric_limits<Nanos>::min()
                             : std::numeric_limits<Nanos>::max();
  }
  return instant;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

StatusOr<Nanos> ParseRfc3339(std::string_view s) {
  auto bad = [&](const char* why) {
    return Status::Error("bad timestamp \"" + std::string(s) + "\": " + why +
                         " (Hint: RFC 3339 such as 2026-11-02T01:05:00Z)");
  };
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se)) {
    return bad("not of the form YYYY-MM-DDTHH:MM:SS");
  }
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad("no such date or time");
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad("empty fraction");
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad("bad UTC offset");
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("missing time zone designator (Z or +hh:mm)");
  }
  if (pos != s.size()) return bad("trailing characters");
  if (se == 60) se = 59;  // leap second: the last second of the minute
  int64_t seconds = static_cast<int64_t>(date::sys_days{ymd}.time_since_epoch().count()) * 86'400 +
                    h * 3600 + mi * 60 + se - offset;
  Nanos instant;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &instant) ||
      __builtin_add_overflow(instant, nanos, &instant)) {
    return bad(
        "outside 1678..2261, the years nanoseconds since 1970 hold "
        "(1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)");
  }
  return instant;
}

void AppendDateTime(int64_t seconds, std::string* out) {
  const int64_t days = FloorDiv(seconds, 86'400);
  // Not seconds - days * 86'400, which overflows at the ends of int64.
  const int64_t sod = seconds % 86'400 + (seconds % 86'400 < 0 ? 86'400 : 0);
  const CivilDay day = CivilFromDays(days);
  if (day.year < 0 || day.year > 9999) {
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", day.year, day.month,
                          day.day, static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                          static_cast<int>(sod % 60));
    out->append(buf, n);
    return;
  }
  // Digits written directly: decision output formats one per decision.
  char buf[19];
  auto put = [&](int at, int64_t n, int width) {
    for (int i = at + width - 1; i >= at; --i, n /= 10) buf[i] = static_cast<char>('0' + n % 10);
  };
  put(0, day.year, 4);
  buf[4] = '-';
  put(5, day.month, 2);
  buf[7] = '-';
  put(8, day.day, 2);
  buf[10] = 'T';
  put(11, sod / 3600, 2);
  buf[13] = ':';
  put(14, sod / 60 % 60, 2);
  buf[16] = ':';
  put(17, sod % 60, 2);
  out->append(buf, sizeof buf);
}

std::string FormatRfc3339(Nanos instant) {
  int64_t seconds = FloorDiv(instant, kNanosPerSecond);
  int64_t nanos = instant - seconds * kNanosPerSecond;
  std::string out;
  AppendDateTime(seconds, &out);
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

StatusOr<int64_t> ParseDurationSeconds(std::string_view text) {
  auto bad = [&] {
    return Status::Error("bad duration \"" + std::string(text) +
                         "\" (Hint: seconds as an integer, or 90s, 10m, 1h, 2d; at most " +
                         kMaxDurationText + ", " + std::to_string(kMaxDurationSeconds) +
                         " seconds)");
  };
  if (text.empty()) return bad();
  int64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's': unit = 1; digits.remove_suffix(1); break;
    case 'm': unit = 60; digits.remove_suffix(1); break;
    case 'h': unit = 3600; digits.remove_suffix(1); break;
    case 'd': unit = 86'400; digits.remove_suffix(1); break;
    default: break;
  }
  int64_t value = 0;
  if (digits.empty() || digits[0] < '0' || digits[0] > '9') return bad();
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return bad();
  // Compared before multiplying: value * unit could overflow.
  if (value > kMaxDurationSeconds / unit) return bad();
  return value * unit;
}

}  // namespace demerit::core
