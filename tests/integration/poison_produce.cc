// Test tool: produces poison records to every input topic and prints, one per
// line, "topic<TAB>expected dead-letter reason" for each.
//   poison_produce BOOTSTRAP

#include <iostream>

#include "demerit/kafka/client.h"
#include "demerit/v1/decision.pb.h"
#include "demerit/v1/events.pb.h"

namespace {

using namespace demerit;

template <typename M>
void Header(M* m, const std::string& id, const std::string& site, int64_t seconds) {
  m->set_event_id(id);
  m->set_site_id(site);
  m->set_employee_id("poison-" + id);
  m->mutable_occurred_at()->set_seconds(seconds);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: poison_produce BOOTSTRAP\n";
    return 2;
  }
  auto producer = kafka::Producer::Create({argv[1], {}});
  if (!producer.ok()) {
    std::cerr << producer.status().message() << "\n";
    return 1;
  }
  const int64_t kNov2026 = 1793581200;  // 2026-11-02T01:00:00Z
  // A message of another stream: a call leg with fields no other message has.
  v1::CallEvent call;
  Header(&call, "wrong-type", "jiarun-xinyang", kNov2026);
  call.set_line(v1::CallEvent::HOTLINE);
  call.set_private_(true);
  call.set_greeting_ok(false);
  // ...and for the calls topic, a callback survey with a list of complaints.
  v1::CallbackResult survey;
  Header(&survey, "wrong-type", "jiarun-xinyang", kNov2026);
  survey.add_complaint_reasons(v1::CallbackResult::LATE_DELIVERY);
  survey.add_complaint_reasons(v1::CallbackResult::RUDE_STAFF);

  struct Poison {
    std::string topic;
    std::string key;
    std::string value;
    std::string reason;
  };
  std::vector<Poison> poison;
  const std::string garbage("\xff\xff\xff\xff\x07garbage\x00\xfe", 14);
  auto valid = [&](const std::string& topic, const std::string& id, const std::string& site,
                   int64_t seconds) -> std::string {
    if (topic == "attendance.punches") {
      v1::AttendancePunch m;
      Header(&m, id, site, seconds);
      m.set_kind(v1::AttendancePunch::CLOCK_IN);
      return m.SerializeAsString();
    }
    if (topic == "calls.events") {
      v1::CallEvent m;
      Header(&m, id, site, seconds);
      m.set_line(v1::CallEvent::FRONT_DESK);
      m.set_answered(false);
      return m.SerializeAsString();
    }
    if (topic == "visits.completions") {
      v1::VisitCompletion m;
      Header(&m, id, site, seconds);
      m.set_service_card_signed(false);
      return m.SerializeAsString();
    }
    if (topic == "callbacks.results") {
      v1::CallbackResult m;
      Header(&m, id, site, seconds);
      m.set_wrong_number(true);
      return m.SerializeAsString();
    }
    v1::Observation m;
    Header(&m, id, site, seconds);
    m.set_code(v1::Observation::OFF_POST);
    return m.SerializeAsString();
  };
  for (const std::string topic : {"attendance.punches", "calls.events", "visits.completions",
                                  "callbacks.results", "observations"}) {
    poison.push_back({topic, "poison-garbage", garbage, "UNPARSEABLE"});
    poison.push_back({topic, "poison-wrong-type",
                      topic == "calls.events" ? survey.SerializeAsString()
                                              : call.SerializeAsString(),
                      "WRONG_TOPIC"});
    poison.push_back({topic, "poison-site", valid(topic, topic + "-site", "atlantis", kNov2026),
                      "UNKNOWN_SITE"});
    poison.push_back({topic, "poison-time",
                      valid(topic, topic + "-time", "jiarun-xinyang", 32503680000),  // year 3000
                      "INVALID"});
  }
  for (const auto& p : poison) {
    if (auto s = (*producer)->Produce(p.topic, p.key, p.value); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 1;
    }
  }
  if (auto s = (*producer)->Flush(30000); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  for (const auto& p : poison) std::cout << p.topic << "\t" << p.reason << "\n";
  return 0;
}
