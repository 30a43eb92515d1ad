#include "demerit/core/time.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace demerit::core {
namespace {

constexpr Nanos kSec = kNanosPerSecond;
// 2026-11-02T01:05:00Z, computed independently (python datetime).
constexpr Nanos k20261102T0105Z = 1'793'581'500 * kSec;

// ---------------------------------------------------------------------------
// ParseRfc3339

struct ParseGood {
  const char* text;
  Nanos want;
};

const ParseGood kParseGood[] = {
    {"2026-11-02T01:05:00Z", k20261102T0105Z},
    {"2026-11-02t01:05:00z", k20261102T0105Z},  // lower-case designators
    {"2026-11-02 01:05:00Z", k20261102T0105Z},  // space separator
    {"2026-11-02T09:05:00+08:00", k20261102T0105Z},
    {"2026-11-01T20:05:00-05:00", k20261102T0105Z},
    {"2026-11-02T01:05:00+00:00", k20261102T0105Z},
    {"2026-11-02T01:35:00+00:30", k20261102T0105Z},
    {"2026-11-02T01:05:00.5Z", k20261102T0105Z + 500'000'000},
    {"2026-11-02T01:05:00.05Z", k20261102T0105Z + 50'000'000},
    {"2026-11-02T01:05:00.123Z", k20261102T0105Z + 123'000'000},
    {"2026-11-02T01:05:00.123456Z", k20261102T0105Z + 123'456'000},
    {"2026-11-02T01:05:00.123456789Z", k20261102T0105Z + 123'456'789},
    {"2026-11-02T01:05:00.000000001Z", k20261102T0105Z + 1},
    {"2026-11-02T09:05:00.25+08:00", k20261102T0105Z + 250'000'000},
    {"1970-01-01T00:00:00Z", 0},
    {"1969-12-31T23:59:59Z", -kSec},
    {"2000-01-01T00:00:00Z", 946'684'800 * kSec},
    {"2038-01-19T03:14:07Z", 2'147'483'647 * kSec},  // the last 32-bit second
    {"2024-02-29T00:00:00Z", 1'709'164'800 * kSec},  // leap day
    // A leap second reads as the last second of its minute.
    {"2016-12-31T23:59:60Z", 1'483'228'799 * kSec},
};

TEST(ParseRfc3339Test, Good) {
  auto check = [&](const ParseGood& c) {
    SCOPED_TRACE(c.text);
    auto got = ParseRfc3339(c.text);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, c.want);
  };
  for (const ParseGood& c : kParseGood) check(c);
}

// Instants past 2038-01-19T03:14:07Z (2^31 - 1 seconds) must not wrap around;
// events are accepted up to 2100 and effective_from may name any such time.
const ParseGood kParseAfter2038[] = {
    {"2038-01-19T03:14:08Z", 2'147'483'648 * kSec},
    {"2040-01-01T00:00:00Z", 2'208'988'800 * kSec},
    {"2050-06-15T12:00:00+02:00", 2'538'900'000 * kSec},
    {"2099-12-31T23:59:59Z", 4'102'444'799 * kSec},
    {"2100-01-01T00:00:00Z", 4'102'444'800 * kSec},
};

TEST(ParseRfc3339Test, After2038) {
  auto check = [&](const ParseGood& c) {
    SCOPED_TRACE(c.text);
    auto got = ParseRfc3339(c.text);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, c.want) << "parsed as " << FormatRfc3339(*got);
    // And back: formatting is right, so the round trip shows the parser.
    auto back = ParseRfc3339(FormatRfc3339(c.want));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, c.want);
  };
  for (const ParseGood& c : kParseAfter2038) check(c);
}

struct ParseBad {
  const char* text;
  const char* why;  // substring of the message
};

const ParseBad kParseBad[] = {
    {"", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"garbage", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"2026-11-02", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"2026/11/02T01:05:00Z", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"2026-11-02X01:05:00Z", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"2026-11-02T1:05:00Z", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"26-11-02T01:05:00Z", "not of the form YYYY-MM-DDTHH:MM:SS"},
    {"2026-11-02T01:05:00", "missing time zone designator"},
    {"2026-11-02T01:05:00.5", "missing time zone designator"},
    {"2026-11-02T01:05:00 UTC", "missing time zone designator"},
    {"2026-13-02T01:05:00Z", "no such date or time"},
    {"2026-00-10T01:05:00Z", "no such date or time"},
    {"2026-02-30T00:00:00Z", "no such date or time"},
    {"2025-02-29T00:00:00Z", "no such date or time"},  // not a leap year
    {"2026-04-31T00:00:00Z", "no such date or time"},
    {"2026-11-02T24:00:00Z", "no such date or time"},
    {"2026-11-02T01:60:00Z", "no such date or time"},
    {"2026-11-02T01:05:61Z", "no such date or time"},
    {"2026-11-02T01:05:00ZZ", "trailing characters"},
    {"2026-11-02T01:05:00Zjunk", "trailing characters"},
    {"2026-11-02T01:05:00+08:00x", "trailing characters"},
    {"2026-11-02T01:05:00Z ", "trailing characters"},
    {"2026-11-02T01:05:00.Z", "empty fraction"},
    {"2026-11-02T01:05:00.+08:00", "empty fraction"},
    // Past what nanoseconds since 1970 hold (1677-09-21..2262-04-11): refused, not wrapped.
    {"9999-01-01T00:00:00Z", "outside 1678..2261"},
    {"0001-01-01T00:00:00Z", "outside 1678..2261"},
    {"2262-04-12T00:00:00Z", "outside 1678..2261"},
    {"1677-09-21T00:00:00Z", "outside 1678..2261"},
    {"2026-11-02T01:05:00+08", "bad UTC offset"},
    {"2026-11-02T01:05:00+8:00", "bad UTC offset"},
    {"2026-11-02T01:05:00+0800", "bad UTC offset"},
    {"2026-11-02T01:05:00+24:00", "bad UTC offset"},
    {"2026-11-02T01:05:00+08:60", "bad UTC offset"},
    {"2026-11-02T01:05:00+08:0", "bad UTC offset"},
};

TEST(ParseRfc3339Test, Bad) {
  auto check = [&](const ParseBad& c) {
    SCOPED_TRACE(c.text);
    auto got = ParseRfc3339(c.text);
    ASSERT_FALSE(got.ok()) << "parsed as " << FormatRfc3339(got.value());
    const std::string& msg = got.status().message();
    EXPECT_NE(msg.find(c.why), std::string::npos) << msg;
    // Every message quotes the input and shows an example.
    EXPECT_NE(msg.find("bad timestamp \"" + std::string(c.text) + "\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("Hint: RFC 3339"), std::string::npos) << msg;
  };
  for (const ParseBad& c : kParseBad) check(c);
}

// ---------------------------------------------------------------------------
// FormatRfc3339

struct FormatCase {
  Nanos instant;
  const char* text;
};

const FormatCase kFormatCases[] = {
    {0, "1970-01-01T00:00:00Z"},
    {k20261102T0105Z, "2026-11-02T01:05:00Z"},
    {k20261102T0105Z + 500'000'000, "2026-11-02T01:05:00.5Z"},
    {k20261102T0105Z + 123'000'000, "2026-11-02T01:05:00.123Z"},
    {k20261102T0105Z + 123'456'789, "2026-11-02T01:05:00.123456789Z"},
    {k20261102T0105Z + 1, "2026-11-02T01:05:00.000000001Z"},
    {-1, "1969-12-31T23:59:59.999999999Z"},
    {-kSec, "1969-12-31T23:59:59Z"},
    {-kNanosPerDay, "1969-12-31T00:00:00Z"},
    {2'147'483'647 * kSec, "2038-01-19T03:14:07Z"},
    {4'102'444'799 * kSec, "2099-12-31T23:59:59Z"},
};

TEST(FormatRfc3339Test, Formats) {
  for (const FormatCase& c : kFormatCases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(FormatRfc3339(c.instant), c.text);
  }
}

// At the ends of int64 seconds (only a malformed message has them) the time
// of day is still the right one, computed without overflowing.
TEST(FormatRfc3339Test, AppendDateTimeAtTheEndsOfInt64) {
  for (auto [seconds, time] :
       {std::pair<int64_t, const char*>{std::numeric_limits<int64_t>::min(), "T08:29:52"},
        std::pair<int64_t, const char*>{std::numeric_limits<int64_t>::max(), "T15:30:07"}}) {
    std::string out;
    AppendDateTime(seconds, &out);
    EXPECT_TRUE(out.ends_with(time)) << seconds << ": " << out;
  }
}

TEST(FormatRfc3339Test, RoundTrip) {
  auto check = [&](const FormatCase& c) {
    if (c.instant > 2'147'483'647 * kSec) return;  // see ParseRfc3339Test.After2038
    SCOPED_TRACE(c.text);
    auto back = ParseRfc3339(FormatRfc3339(c.instant));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, c.instant);
  };
  for (const FormatCase& c : kFormatCases) check(c);
  // Offsets are normalised to UTC.
  auto check_parsed = [&](const ParseGood& c) {
    if (std::string(c.text).find(":60") != std::string::npos) return;  // leap second
    SCOPED_TRACE(c.text);
    auto parsed = ParseRfc3339(c.text);
    ASSERT_TRUE(parsed.ok());
    auto again = ParseRfc3339(FormatRfc3339(*parsed));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *parsed);
    EXPECT_EQ(FormatRfc3339(*parsed).back(), 'Z');
  };
  for (const ParseGood& c : kParseGood) check_parsed(c);
}

// ---------------------------------------------------------------------------
// ParseDurationSeconds

struct DurationCase {
  const char* text;
  bool ok;
  int64_t seconds;
};

const DurationCase kDurationCases[] = {
    {"600", true, 600},
    {"0", true, 0},
    {"90s", true, 90},
    {"10m", true, 600},
    {"1h", true, 3600},
    {"2d", true, 172'800},
    {"0s", true, 0},
    {"", false, 0},
    {"h", false, 0},
    {"s", false, 0},
    {"1x", false, 0},
    {"-", false, 0},
    {"1.5h", false, 0},
    {" 1h", false, 0},
    {"1h ", false, 0},
    {"1hh", false, 0},
    {"1H", false, 0},
    {"10ms", false, 0},
    {"1h30m", false, 0},
    {"99999999999999999999", false, 0},  // does not fit
    {"3660d", true, 316'224'000},        // the largest duration
    {"316224000", true, 316'224'000},
    {"5270400m", true, 316'224'000},
    {"3661d", false, 0},
    {"316224001", false, 0},
    {"87841h", false, 0},
    {"106751991167301d", false, 0},  // seconds would not fit in int64
    {"9223372036854775807m", false, 0},
};

TEST(ParseDurationSecondsTest, Table) {
  auto check = [&](const DurationCase& c) {
    SCOPED_TRACE(std::string("\"") + c.text + "\"");
    auto got = ParseDurationSeconds(c.text);
    ASSERT_EQ(got.ok(), c.ok);
    if (c.ok) {
      EXPECT_EQ(*got, c.seconds);
    } else {
      EXPECT_NE(got.status().message().find("bad duration \"" + std::string(c.text) + "\""),
                std::string::npos)
          << got.status().message();
      EXPECT_NE(got.status().message().find("Hint: seconds as an integer"), std::string::npos);
    }
  };
  for (const DurationCase& c : kDurationCases) check(c);
}

// ---------------------------------------------------------------------------
// Zone::Find

TEST(ZoneTest, Find) {
  struct Case {
    const char* name;
    bool ok;
  };
  const Case cases[] = {
      {"Asia/Shanghai", true},    {"Europe/Berlin", true},  {"America/Chicago", true},
      {"UTC", true},              {"Mars/Base", false},     {"", false},
      {"asia/shanghai_x", false}, {"Europe/Berlin ", false},
  };
  auto check = [&](const Case& c) {
    SCOPED_TRACE(std::string("\"") + c.name + "\"");
    auto zone = Zone::Find(c.name);
    ASSERT_EQ(zone.ok(), c.ok);
    if (c.ok) {
      EXPECT_EQ(zone->name(), c.name);
    } else {
      const std::string& msg = zone.status().message();
      EXPECT_NE(msg.find("unknown time zone \"" + std::string(c.name) + "\""), std::string::npos)
          << msg;
      EXPECT_NE(msg.find("Hint: an IANA name"), std::string::npos) << msg;
    }
  };
  for (const Case& c : cases) check(c);
}

Zone MustFind(const char* name) {
  auto zone = Zone::Find(name);
  if (!zone.ok()) {
    ADD_FAILURE() << zone.status().message();
    return *Zone::Find("UTC");
  }
  return *zone;
}

// ---------------------------------------------------------------------------
// Zone::ToCivil

struct ToCivilCase {
  const char* zone;
  const char* instant;  // RFC 3339
  CivilDay day;
  int64_t seconds_of_day;
};

constexpr int64_t H = 3600;

const ToCivilCase kToCivilCases[] = {
    // Standard and daylight time in Chicago.
    {"America/Chicago", "2026-01-15T15:00:00Z", {2026, 1, 15}, 9 * H},
    {"America/Chicago", "2026-07-15T14:00:00Z", {2026, 7, 15}, 9 * H},
    // Spring forward 2026-03-08: 01:59:59 CST is followed by 03:00:00 CDT.
    {"America/Chicago", "2026-03-08T07:59:59Z", {2026, 3, 8}, 1 * H + 59 * 60 + 59},
    {"America/Chicago", "2026-03-08T08:00:00Z", {2026, 3, 8}, 3 * H},
    {"America/Chicago", "2026-03-08T06:00:00Z", {2026, 3, 8}, 0},
    {"America/Chicago", "2026-03-08T05:59:59Z", {2026, 3, 7}, 24 * H - 1},
    // Fall back 2026-11-01: 01:30 happens twice, CDT then CST.
    {"America/Chicago", "2026-11-01T06:30:00Z", {2026, 11, 1}, 1 * H + 30 * 60},
    {"America/Chicago", "2026-11-01T06:59:59Z", {2026, 11, 1}, 1 * H + 59 * 60 + 59},
    {"America/Chicago", "2026-11-01T07:00:00Z", {2026, 11, 1}, 1 * H},
    {"America/Chicago", "2026-11-01T07:30:00Z", {2026, 11, 1}, 1 * H + 30 * 60},
    {"America/Chicago", "2026-11-01T08:00:00Z", {2026, 11, 1}, 2 * H},
    // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; 2026-10-25 03:00
    // CEST -> 02:00 CET at 01:00Z.
    {"Europe/Berlin", "2026-03-29T00:59:59Z", {2026, 3, 29}, 1 * H + 59 * 60 + 59},
    {"Europe/Berlin", "2026-03-29T01:00:00Z", {2026, 3, 29}, 3 * H},
    {"Europe/Berlin", "2026-10-25T00:30:00Z", {2026, 10, 25}, 2 * H + 30 * 60},
    {"Europe/Berlin", "2026-10-25T01:00:00Z", {2026, 10, 25}, 2 * H},
    {"Europe/Berlin", "2026-10-25T01:30:00Z", {2026, 10, 25}, 2 * H + 30 * 60},
    {"Europe/Berlin", "2026-01-15T08:00:00Z", {2026, 1, 15}, 9 * H},
    {"Europe/Berlin", "2026-07-15T07:00:00Z", {2026, 7, 15}, 9 * H},
    // Shanghai: UTC+8 all year, local date runs ahead of UTC.
    {"Asia/Shanghai", "2026-01-15T01:00:00Z", {2026, 1, 15}, 9 * H},
    {"Asia/Shanghai", "2026-07-15T01:00:00Z", {2026, 7, 15}, 9 * H},
    {"Asia/Shanghai", "2026-03-08T08:00:00Z", {2026, 3, 8}, 16 * H},
    {"Asia/Shanghai", "2026-12-31T16:00:00Z", {2027, 1, 1}, 0},
    {"Asia/Shanghai", "2026-12-31T15:59:59Z", {2026, 12, 31}, 24 * H - 1},
    // Sub-second instants and instants before the epoch floor correctly.
    {"UTC", "1969-12-31T23:59:59.5Z", {1969, 12, 31}, 24 * H - 1},
    {"UTC", "1970-01-01T00:00:00.999Z", {1970, 1, 1}, 0},
};

TEST(ZoneTest, ToCivil) {
  auto check = [&](const ToCivilCase& c) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.instant);
    Zone zone = MustFind(c.zone);
    auto at = ParseRfc3339(c.instant);
    ASSERT_TRUE(at.ok()) << at.status().message();
    CivilTime civil = zone.ToCivil(*at);
    EXPECT_EQ(FormatDay(civil.day), FormatDay(c.day));
    EXPECT_EQ(civil.seconds_of_day, c.seconds_of_day);
  };
  for (const ToCivilCase& c : kToCivilCases) check(c);
}

// ---------------------------------------------------------------------------
// Zone::ToInstant

struct ToInstantCase {
  const char* zone;
  CivilDay day;
  int64_t seconds_of_day;
  const char* want;  // RFC 3339, UTC
};

const ToInstantCase kToInstantCases[] = {
    // 09:00 in Chicago: 15:00Z in winter (CST, -6), 14:00Z in summer (CDT, -5).
    {"America/Chicago", {2026, 1, 15}, 9 * H, "2026-01-15T15:00:00Z"},
    {"America/Chicago", {2026, 7, 15}, 9 * H, "2026-07-15T14:00:00Z"},
    // Spring-forward day: midnight is still CST, 09:00 is already CDT.
    {"America/Chicago", {2026, 3, 8}, 0, "2026-03-08T06:00:00Z"},
    {"America/Chicago", {2026, 3, 8}, 1 * H + 59 * 60 + 59, "2026-03-08T07:59:59Z"},
    {"America/Chicago", {2026, 3, 8}, 3 * H, "2026-03-08T08:00:00Z"},
    {"America/Chicago", {2026, 3, 8}, 9 * H, "2026-03-08T14:00:00Z"},
    // Skipped: 02:00 and 02:30 never happen on 2026-03-08. Per the header they
    // are read with the offset in force before the jump (CST, -6), so they
    // land 30 minutes after the jump (02:30 CST = 03:30 CDT).
    {"America/Chicago", {2026, 3, 8}, 2 * H, "2026-03-08T08:00:00Z"},
    {"America/Chicago", {2026, 3, 8}, 2 * H + 30 * 60, "2026-03-08T08:30:00Z"},
    // Fall-back day: 01:30 happens twice; the first (CDT, -5) is chosen.
    {"America/Chicago", {2026, 11, 1}, 0, "2026-11-01T05:00:00Z"},
    {"America/Chicago", {2026, 11, 1}, 1 * H + 30 * 60, "2026-11-01T06:30:00Z"},
    {"America/Chicago", {2026, 11, 1}, 2 * H, "2026-11-01T08:00:00Z"},
    {"America/Chicago", {2026, 11, 1}, 9 * H, "2026-11-01T15:00:00Z"},
    // Berlin.
    {"Europe/Berlin", {2026, 1, 15}, 9 * H, "2026-01-15T08:00:00Z"},
    {"Europe/Berlin", {2026, 7, 15}, 9 * H, "2026-07-15T07:00:00Z"},
    {"Europe/Berlin", {2026, 3, 29}, 1 * H + 59 * 60, "2026-03-29T00:59:00Z"},
    {"Europe/Berlin", {2026, 3, 29}, 2 * H + 30 * 60, "2026-03-29T01:30:00Z"},  // skipped
    {"Europe/Berlin", {2026, 3, 29}, 3 * H, "2026-03-29T01:00:00Z"},
    {"Europe/Berlin", {2026, 10, 25}, 2 * H + 30 * 60, "2026-10-25T00:30:00Z"},  // repeated
    {"Europe/Berlin", {2026, 10, 25}, 3 * H, "2026-10-25T02:00:00Z"},
    // Shanghai: no daylight saving.
    {"Asia/Shanghai", {2026, 1, 15}, 9 * H, "2026-01-15T01:00:00Z"},
    {"Asia/Shanghai", {2026, 7, 15}, 9 * H, "2026-07-15T01:00:00Z"},
    {"Asia/Shanghai", {2026, 3, 8}, 2 * H + 30 * 60, "2026-03-07T18:30:00Z"},
    {"Asia/Shanghai", {2027, 1, 1}, 0, "2026-12-31T16:00:00Z"},
    // A seconds_of_day of a full day is the next midnight.
    {"UTC", {2026, 12, 31}, 24 * H, "2027-01-01T00:00:00Z"},
};

TEST(ZoneTest, ToInstant) {
  for (const ToInstantCase& c : kToInstantCases) {
    SCOPED_TRACE(std::string(c.zone) + " " + FormatDay(c.day) + " +" +
                 std::to_string(c.seconds_of_day) + "s");
    Zone zone = MustFind(c.zone);
    EXPECT_EQ(FormatRfc3339(zone.ToInstant(c.day, c.seconds_of_day)), c.want);
  }
}

// A day past the range of Nanos (about 1678..2262) saturates instead of
// overflowing: in force from the end of time, or from its start.
TEST(ZoneTest, ToInstantSaturatesPastTheRangeOfNanos) {
  Zone zone = MustFind("Asia/Shanghai");
  EXPECT_EQ(zone.ToInstant({4040, 1, 1}, 0), std::numeric_limits<Nanos>::max());
  EXPECT_EQ(zone.ToInstant({2263, 1, 1}, 0), std::numeric_limits<Nanos>::max());
  EXPECT_EQ(zone.ToInstant({1000, 1, 1}, 0), std::numeric_limits<Nanos>::min());
  EXPECT_EQ(zone.ToInstant({1677, 1, 1}, 0), std::numeric_limits<Nanos>::min());
  EXPECT_EQ(FormatRfc3339(zone.ToInstant({2262, 1, 1}, 0)), "2261-12-31T16:00:00Z");
}

TEST(ZoneTest, ToInstantInvertsToCivilOutsideTransitions) {
  // Every hour of 2026 in each zone, except local times that do not exist or
  // repeat, maps back to itself.
  for (const char* name : {"America/Chicago", "Europe/Berlin", "Asia/Shanghai"}) {
    SCOPED_TRACE(name);
    Zone zone = MustFind(name);
    Nanos start = 1'767'225'600 * kSec;  // 2026-01-01T00:00:00Z
    int mismatches = 0;
    for (int hour = 0; hour < 365 * 24; ++hour) {
      Nanos at = start + hour * H * kSec;
      CivilTime civil = zone.ToCivil(at);
      if (zone.ToInstant(civil.day, civil.seconds_of_day) != at) ++mismatches;
    }
    // Only the second 01:xx (Chicago) or 02:xx (Berlin) of the fall-back day
    // maps to its first instance.
    EXPECT_EQ(mismatches, std::string(name) == "Asia/Shanghai" ? 0 : 1);
  }
}

// ---------------------------------------------------------------------------
// Civil days and window keys

struct DayCase {
  CivilDay day;
  int64_t days;  // since 1970-01-01 (python datetime)
  const char* iso_week;
  const char* month;
  const char* year;
  const char* formatted;
};

const DayCase kDayCases[] = {
    {{1970, 1, 1}, 0, "1970-W01", "1970-01", "1970", "1970-01-01"},
    {{1969, 12, 31}, -1, "1970-W01", "1969-12", "1969", "1969-12-31"},
    {{2000, 3, 1}, 11'017, "2000-W09", "2000-03", "2000", "2000-03-01"},
    {{1900, 3, 1}, -25'508, "1900-W09", "1900-03", "1900", "1900-03-01"},
    {{2026, 1, 1}, 20'454, "2026-W01", "2026-01", "2026", "2026-01-01"},
    {{2026, 11, 29}, 20'786, "2026-W48", "2026-11", "2026", "2026-11-29"},
    // 2026-01-01 is a Thursday, so 2026 has 53 ISO weeks: W01 starts on
    // Monday 2025-12-29 and W53 ends on Sunday 2027-01-03.
    {{2025, 12, 28}, 20'450, "2025-W52", "2025-12", "2025", "2025-12-28"},
    {{2025, 12, 29}, 20'451, "2026-W01", "2025-12", "2025", "2025-12-29"},
    {{2026, 12, 31}, 20'818, "2026-W53", "2026-12", "2026", "2026-12-31"},
    {{2027, 1, 1}, 20'819, "2026-W53", "2027-01", "2027", "2027-01-01"},
    {{2027, 1, 3}, 20'821, "2026-W53", "2027-01", "2027", "2027-01-03"},
    {{2027, 1, 4}, 20'822, "2027-W01", "2027-01", "2027", "2027-01-04"},
    {{2024, 12, 30}, 20'087, "2025-W01", "2024-12", "2024", "2024-12-30"},
    {{2021, 1, 3}, 18'630, "2020-W53", "2021-01", "2021", "2021-01-03"},
    {{2024, 2, 29}, 19'782, "2024-W09", "2024-02", "2024", "2024-02-29"},
};

TEST(CivilDayTest, Table) {
  for (const DayCase& c : kDayCases) {
    SCOPED_TRACE(c.formatted);
    EXPECT_EQ(DaysFromCivil(c.day), c.days);
    EXPECT_EQ(CivilFromDays(c.days), c.day);
    EXPECT_EQ(FormatDay(c.day), c.formatted);
    EXPECT_EQ(FormatMonth(c.day), c.month);
    EXPECT_EQ(FormatYear(c.day), c.year);
    EXPECT_EQ(FormatIsoWeek(c.day), c.iso_week);
  }
}

TEST(CivilDayTest, RoundTripAndContiguity) {
  // 1900-01-01 .. 2200-12-31: each day maps back to itself and is one more
  // than the day before.
  int64_t first = DaysFromCivil({1900, 1, 1});
  int64_t last = DaysFromCivil({2200, 12, 31});
  // 301 years with 73 leap days (1900, 2100 and 2200 are not leap years).
  ASSERT_EQ(last - first + 1, 301 * 365 + 73);
  CivilDay prev = CivilFromDays(first - 1);
  EXPECT_EQ(prev, (CivilDay{1899, 12, 31}));
  for (int64_t d = first; d <= last; ++d) {
    CivilDay day = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(day), d) << FormatDay(day);
    bool next_in_month =
        day.year == prev.year && day.month == prev.month && day.day == prev.day + 1;
    bool next_year = day.month == 1 && prev.month == 12 && day.year == prev.year + 1;
    bool next_month =
        day.day == 1 && ((day.month == prev.month + 1 && day.year == prev.year) || next_year);
    ASSERT_TRUE(next_in_month || next_month) << FormatDay(prev) << " -> " << FormatDay(day);
    prev = day;
  }
}

}  // namespace
}  // namespace demerit::core
