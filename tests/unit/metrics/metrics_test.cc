// Metrics: the per-site shift gauges behind "site gone silent".

#include "demerit/metrics/metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "../core/test_rules.h"

namespace demerit::metrics {
namespace {

const std::string kPack =
    "pack: p\n"
    "title: T\n"
    "rules:\n"
    "  - id: r\n"
    "    title: R\n"
    "    clause: c1\n"
    "    stream: attendance\n"
    "    when: {kind: CLOCK_IN}\n"
    "    window: month\n"
    "    ladder:\n"
    "      - {amount: {CNY: 2000}}\n";

std::string Site(const std::string& id, const std::string& shift) {
  return "  - id: " + id +
         "\n"
         "    time_zone: Asia/Shanghai\n"
         "    currency: CNY\n"
         "    default_shift: " +
         shift +
         "\n"
         "    packs: [p]\n";
}

std::shared_ptr<const core::RuleSet> Rules(const std::string& sites) {
  auto set = demerit::testing::CompileText("sites:\n" + sites, "p", kPack);
  EXPECT_TRUE(set.ok()) << set.status().message();
  return set.ok() ? *set : std::make_shared<core::RuleSet>();
}

core::Nanos At(const char* rfc3339) {
  auto t = core::ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : 0;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, SiteShiftsExportWhetherEachShiftIsUnderWayAndSinceWhen) {
  Metrics m;
  auto rules = Rules(Site("day", R"({start: "09:00", end: "18:00"})") +
                     Site("night", R"({start: "22:00", end: "06:00"})"));
  // 2026-11-02 10:30 in Shanghai: the day shift began at 09:00 local (01:00Z).
  m.SiteShifts(*rules, At("2026-11-02T02:30:00Z"));
  std::string text = m.Serialize();
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_open{site="day"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_started_timestamp_seconds{site="day"} 1793581200)"))
      << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_open{site="night"} 0)")) << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_started_timestamp_seconds{site="night"} 0)"))
      << text;

  // 02:00 the next morning local: the night shift since 22:00 (14:00Z), the day shift over.
  m.SiteShifts(*rules, At("2026-11-02T18:00:00Z"));
  text = m.Serialize();
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_open{site="day"} 0)")) << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_open{site="night"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_started_timestamp_seconds{site="night"} 1793628000)"))
      << text;

  // A reload without the night site: its series go.
  auto fewer = Rules(Site("day", R"({start: "09:00", end: "18:00"})"));
  m.SiteShifts(*fewer, At("2026-11-02T18:00:00Z"));
  text = m.Serialize();
  EXPECT_EQ(text.find(R"(site="night")"), std::string::npos) << text;
  EXPECT_TRUE(Has(text, R"(demerit_site_shift_open{site="day"} 0)")) << text;
}

}  // namespace
}  // namespace demerit::metrics
