// Test tool: writes COUNT decisions to partition 0 of TOPIC in one
// transaction and holds it open. Prints "open LAST_OFFSET" once the records
// are on the broker, then commits or aborts when it reads "commit" or "abort"
// on standard input, and prints "done".
//   txn_hold BOOTSTRAP TOPIC TRANSACTIONAL_ID COUNT

#include <iostream>
#include <string>

#include "demerit/kafka/client.h"
#include "demerit/v1/decision.pb.h"

int main(int argc, char** argv) {
  using namespace demerit;
  if (argc != 5) {
    std::cerr << "usage: txn_hold BOOTSTRAP TOPIC TRANSACTIONAL_ID COUNT\n";
    return 2;
  }
  const std::string topic = argv[2];
  const int count = std::stoi(argv[4]);
  auto producer =
      kafka::TransactionalProducer::Create({argv[1], {{"transaction.timeout.ms", "600000"}}},
                                           argv[3]);
  if (!producer.ok()) {
    std::cerr << producer.status().message() << "\n";
    return 1;
  }
  auto fail = [](const kafka::KafkaStatus& s) {
    std::cerr << s.message << "\n";
    return 1;
  };
  if (auto s = (*producer)->InitTransactions(30000); !s.ok()) return fail(s);
  if (auto s = (*producer)->BeginTransaction(); !s.ok()) return fail(s);
  for (int i = 0; i < count; ++i) {
    v1::Decision d;
    d.set_kind(v1::ISSUE);
    d.set_penalty_id(std::string(argv[3]) + "-" + std::to_string(i));
    d.set_employee_id("held");
    if (auto s = (*producer)->Produce(topic, 0, "held", d.SerializeAsString()); !s.ok()) {
      return fail(s);
    }
  }
  if (auto s = (*producer)->Flush(30000); !s.ok()) return fail(s);
  int64_t last = -1;
  (*producer)->Poll();
  for (const auto& [tp, offset] : (*producer)->TakeDelivered()) last = offset;
  std::cout << "open " << last << std::endl;
  std::string command;
  std::getline(std::cin, command);
  kafka::KafkaStatus s = command == "commit" ? (*producer)->Commit() : (*producer)->Abort();
  if (!s.ok()) return fail(s);
  std::cout << "done" << std::endl;
  return 0;
}
