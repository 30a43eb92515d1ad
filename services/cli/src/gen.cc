// A deterministic synthetic workload: the five streams for N employees over D
// days, with late, out-of-order, duplicated and corrected events.

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <regex>

#include "commands.h"
#include "demerit/core/codec.h"
#include "demerit/core/time.h"
#include "demerit/processor/rule_files.h"
#include "output.h"

namespace demerit::cli {

using processor::LoadRuleDirectory;
using processor::ReadFile;
namespace {

// SplitMix64: small, fast and the same on every platform (std distributions are not).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  // True with probability per_mille / 1000.
  bool Chance(int per_mille) { return static_cast<int>(Next() % 1000) < per_mille; }

 private:
  uint64_t state_;
};

struct GenSite {
  std::string id;
  core::Zone zone;
};

void SetTime(core::Nanos t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(t / core::kNanosPerSecond);
  ts->set_nanos(static_cast<int32_t>(t % core::kNanosPerSecond));
}

template <typename M>
void SetHeader(M* m, const std::string& id, const std::string& site, const std::string& employee,
               core::Nanos at) {
  m->set_event_id(id);
  m->set_site_id(site);
  m->set_employee_id(employee);
  SetTime(at, m->mutable_occurred_at());
}

class Generator {
 public:
  using Sink = std::function<void(const v1::Envelope&)>;
  Generator(const GenOptions& o, std::vector<GenSite> sites, core::CivilDay start, Sink sink)
      : o_(o), sites_(std::move(sites)), start_(start), sink_(std::move(sink)), rng_(o.seed) {}

  // Generates every day, or stops after the first day at whose end `stop`
  // (if given) is true.
  int64_t Run(const std::function<bool()>& stop = nullptr) {
    for (int day = 0; day < o_.days; ++day) {
      if (day > 0 && stop && stop()) return written_;
      for (int e = 0; e < o_.employees; ++e) Day(day, e);
      // Emit today's events, then those delayed to today.
      auto due = delayed_.equal_range(day);
      for (auto it = due.first; it != due.second; ++it) Emit(it->second);
      delayed_.erase(day);
    }
    for (auto& [day, event] : delayed_) Emit(event);
    return written_;
  }

 private:
  void Day(int day, int e) {
    const GenSite& site = sites_[e % sites_.size()];
    std::string employee = "emp-" + std::to_string(e);
    core::CivilDay local = core::CivilFromDays(core::DaysFromCivil(start_) + day);
    auto at = [&](int64_t seconds_of_day) { return site.zone.ToInstant(local, seconds_of_day); };
    std::string prefix = employee + "-d" + std::to_string(day) + "-";
    int n = 0;
    auto next_id = [&] { return prefix + std::to_string(n++); };
    // Attendance: a clock-in around 09:00 and a clock-out around 18:00.
    if (!rng_.Chance(30)) {
      int64_t in = 9 * 3600 + (rng_.Chance(120) ? rng_.Range(1, 40 * 60) : -rng_.Range(0, 900));
      v1::Envelope punch;
      auto* p = punch.mutable_attendance();
      SetHeader(p, next_id(), site.id, employee, at(in));
      p->set_kind(v1::AttendancePunch::CLOCK_IN);
      Add(day, punch);
      if (!rng_.Chance(30)) {
        int64_t out =
            18 * 3600 + (rng_.Chance(60) ? -rng_.Range(1, 60 * 60) : rng_.Range(0, 1800));
        v1::Envelope leave;
        auto* q = leave.mutable_attendance();
        SetHeader(q, next_id(), site.id, employee, at(out));
        q->set_kind(v1::AttendancePunch::CLOCK_OUT);
        Add(day, leave);
      }
    }
    // Calls.
    int calls = static_cast<int>(rng_.Range(0, 12));
    for (int c = 0; c < calls; ++c) {
      v1::Envelope env;
      auto* call = env.mutable_call();
      SetHeader(call, next_id(), site.id, employee, at(rng_.Range(9 * 3600, 18 * 3600 - 1)));
      int line = static_cast<int>(rng_.Range(0, 9));
      call->set_line(line < 3   ? v1::CallEvent::FRONT_DESK
                     : line < 7 ? v1::CallEvent::HOTLINE
                     : line < 9 ? v1::CallEvent::MOBILE
                                : v1::CallEvent::OFFICE);
      call->set_direction(rng_.Chance(800) ? v1::CallEvent::INBOUND : v1::CallEvent::OUTBOUND);
      call->set_employee_role(e % 10 == 0 ? v1::CallEvent::SUPERVISOR : v1::CallEvent::AGENT);
      bool answered = !rng_.Chance(80);
      call->set_answered(answered);
      if (answered) {
        int64_t rings = rng_.Chance(700) ? rng_.Range(1, 2) : rng_.Range(3, 6);
        call->set_rings_before_answer(static_cast<int32_t>(rings));
        call->set_hold_seconds(static_cast<int32_t>(rng_.Chance(850) ? rng_.Range(0, 45)
                                                                     : rng_.Range(46, 240)));
        call->set_duration_seconds(static_cast<int32_t>(rng_.Range(20, 900)));
        call->set_hung_up_by(rng_.Chance(900) ? v1::CallEvent::CUSTOMER : v1::CallEvent::EMPLOYEE);
        call->set_private_(rng_.Chance(20));
        call->set_speakerphone(rng_.Chance(30));
        bool dropped = rng_.Chance(30);
        call->set_dropped(dropped);
        if (dropped && rng_.Chance(500)) {
          call->set_called_back_within_seconds(static_cast<int32_t>(rng_.Range(30, 1500)));
        }
        if (rng_.Chance(700)) call->set_greeting_ok(!rng_.Chance(60));
      }
      Add(day, env);
    }
    // Field visits.
    if (rng_.Chance(300)) {
      v1::Envelope env;
      auto* v = env.mutable_visit();
      bool remote = rng_.Chance(200);
      int64_t dispatched = rng_.Range(8 * 3600, 12 * 3600);
      int64_t travel = remote ? rng_.Range(10 * 3600, 60 * 3600) : rng_.Range(15 * 60, 90 * 60);
      int64_t arrived = dispatched + travel;
      SetHeader(v, next_id(), site.id, employee, at(arrived + rng_.Range(1800, 7200)));
      v->set_locality(remote ? v1::VisitCompletion::REMOTE : v1::VisitCompletion::LOCAL);
      SetTime(at(dispatched), v->mutable_dispatched_at());
      SetTime(at(arrived), v->mutable_arrived_at());
      SetTime(at(dispatched + travel - rng_.Range(-1800, 900)), v->mutable_appointment_at());
      v->set_customer_notified_of_delay(rng_.Chance(500));
      v->set_service_card_signed(!rng_.Chance(40));
      v->set_customer_rating(static_cast<int32_t>(rng_.Range(1, 5)));
      Add(day, env);
    }
    // Customer callbacks.
    if (rng_.Chance(250)) {
      v1::Envelope env;
      auto* c = env.mutable_callback();
      SetHeader(c, next_id(), site.id, employee, at(rng_.Range(10 * 3600, 17 * 3600)));
      bool wrong = rng_.Chance(40);
      c->set_wrong_number(wrong);
      c->set_reached(!wrong && !rng_.Chance(80));
      if (c->reached()) {
        bool satisfied = !rng_.Chance(150);
        c->set_satisfied(satisfied);
        if (!satisfied) {
          c->add_complaint_reasons(static_cast<v1::CallbackResult::ComplaintReason>(
              rng_.Range(1, 6)));
        }
      }
      Add(day, env);
    }
    // Supervisors' findings.
    if (rng_.Chance(60)) {
      v1::Envelope env;
      auto* ob = env.mutable_observation();
      SetHeader(ob, next_id(), site.id, employee, at(rng_.Range(9 * 3600, 18 * 3600)));
      ob->set_code(static_cast<v1::Observation::Code>(rng_.Range(1, 10)));
      ob->set_inspector_id("insp-" + std::to_string(rng_.Range(1, 9)));
      Add(day, env);
    }
  }

  // Schedules an event: mostly today, some late; some duplicated or corrected.
  void Add(int day, v1::Envelope event) {
    int when = day;
    if (rng_.Chance(50)) when = day + static_cast<int>(rng_.Range(1, 3));  // arrives late
    if (rng_.Chance(10)) delayed_.emplace(day + static_cast<int>(rng_.Range(0, 2)), event);
    if (rng_.Chance(8)) {
      // A correction: withdraw the event, sometimes before it arrives.
      v1::Envelope fix = event;
      auto set = [&](auto* m) {
        m->set_supersedes_event_id(m->event_id());
        m->set_event_id(m->event_id() + "-void");
        m->set_void_(true);
      };
      switch (fix.payload_case()) {
        case v1::Envelope::kAttendance: set(fix.mutable_attendance()); break;
        case v1::Envelope::kCall: set(fix.mutable_call()); break;
        case v1::Envelope::kVisit: set(fix.mutable_visit()); break;
        case v1::Envelope::kCallback: set(fix.mutable_callback()); break;
        case v1::Envelope::kObservation: set(fix.mutable_observation()); break;
        case v1::Envelope::PAYLOAD_NOT_SET: break;
      }
      delayed_.emplace(day + static_cast<int>(rng_.Range(-1, 2)), fix);
    } else if (event.has_attendance() && rng_.Chance(20)) {
      // A replacement punch with a corrected time, in place of the original.
      v1::Envelope fix = event;
      auto* p = fix.mutable_attendance();
      p->set_supersedes_event_id(p->event_id());
      p->set_event_id(p->event_id() + "-fix");
      core::Nanos t = core::ToNanos(p->occurred_at()) - rng_.Range(60, 1800) * core::kNanosPerSecond;
      SetTime(t, p->mutable_occurred_at());
      delayed_.emplace(day + static_cast<int>(rng_.Range(0, 3)), fix);
    }
    if (when == day) {
      Emit(event);
    } else {
      delayed_.emplace(when, std::move(event));
    }
  }

  void Emit(const v1::Envelope& event) {
    sink_(event);
    ++written_;
  }

  const GenOptions& o_;
  std::vector<GenSite> sites_;
  core::CivilDay start_;
  Sink sink_;
  Random rng_;
  std::multimap<int, v1::Envelope> delayed_;
  int64_t written_ = 0;
};

}  // namespace

namespace {

core::Status CheckGenOptions(const GenOptions& options, const core::RuleSet& rules,
                             core::CivilDay* start, std::vector<GenSite>* sites) {
  if (options.employees < 1 || options.days < 1 || options.sites < 1) {
    return core::Status::Error("--employees, --sites and --days must be at least 1");
  }
  static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (!std::regex_match(options.start, m, kDate)) {
    return core::Status::Error("--start: \"" + options.start + "\" is not a date (Hint: 2026-11-02)");
  }
  *start = core::CivilDay{std::stoi(m[1]), static_cast<unsigned>(std::stoi(m[2])),
                          static_cast<unsigned>(std::stoi(m[3]))};
  const int64_t first = core::DaysFromCivil(*start);
  const core::CivilDay same = core::CivilFromDays(first);
  if (start->month < 1 || start->month > 12 || same.year != start->year ||
      same.month != start->month || same.day != start->day) {
    return core::Status::Error("--start: \"" + options.start +
                               "\" is not a date of the calendar (Hint: 2026-11-02)");
  }
  // The events of a day lie within about three days of it (late visits), in
  // time zones up to 14 hours from UTC: these days keep them all inside the
  // times replay accepts.
  const core::CivilDay earliest{2000, 1, 2}, latest{2099, 12, 27};
  if (first < core::DaysFromCivil(earliest) ||
      first + options.days - 1 > core::DaysFromCivil(latest)) {
    return core::Status::Error(
        "--start " + options.start + " --days " + std::to_string(options.days) +
        ": the events would fall outside 2000-01-01..2100-01-01, the times replay accepts "
        "(Hint: the first day from " +
        core::FormatDay(earliest) + ", the last by " + core::FormatDay(latest) + ")");
  }
  for (const auto& [id, site] : rules.sites()) {
    if (static_cast<int>(sites->size()) < options.sites) sites->push_back({id, site.zone});
  }
  if (static_cast<int>(sites->size()) < options.sites) {
    return core::Status::Error("--sites " + std::to_string(options.sites) +
                               ": the rules define only " + std::to_string(sites->size()) +
                               " sites");
  }
  return core::Status::Ok();
}

}  // namespace

core::StatusOr<std::vector<v1::Envelope>> GenerateEvents(const GenOptions& options,
                                                         const core::RuleSet& rules) {
  core::CivilDay start;
  std::vector<GenSite> sites;
  if (auto s = CheckGenOptions(options, rules, &start, &sites); !s.ok()) return s;
  std::vector<v1::Envelope> out;
  Generator gen(options, std::move(sites), start,
                [&](const v1::Envelope& e) { out.push_back(e); });
  gen.Run();
  return out;
}

int RunGen(const GenOptions& options) {
  if (options.format != "ndjson" && options.format != "pb") {
    std::cerr << "--format: unknown format \"" << options.format << "\" (Hint: ndjson or pb)\n";
    return kExitUsage;
  }
  auto rules = LoadRuleDirectory(options.rules_dir);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return kExitRules;
  }
  core::CivilDay start;
  std::vector<GenSite> sites;
  if (auto s = CheckGenOptions(options, **rules, &start, &sites); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kExitUsage;
  }
  auto out = Output::Open(options.out);
  if (!out.ok()) {
    std::cerr << out.status().message() << "\n";
    return kExitIo;
  }
  std::string buffer;
  Generator gen(options, std::move(sites), start, [&](const v1::Envelope& e) {
    if (options.format == "pb") {
      core::AppendDelimited(e, &buffer);
    } else {
      buffer += core::EventToJson(e);
      buffer += '\n';
    }
    if (buffer.size() > (1 << 20)) {
      (*out)->Write(buffer);
      buffer.clear();
    }
  });
  // Nothing more can be written once a write has failed.
  int64_t n = gen.Run([&] { return (*out)->failed(); });
  (*out)->Write(buffer);
  if (auto s = (*out)->Close(); !s.ok()) return OutputFailed(**out, s);
  std::cerr << "generated " << n << " events\n";
  return kExitOk;
}

}  // namespace demerit::cli
