// The decision-log reader of audit, export and explain (ReadDecisionLog,
// ParseDecisionJson).
// Input: a decision log (NDJSON, one decision a line).
// Properties: a decision that parses prints (DecisionToJson) to a line that
// parses to an equal decision and prints the same again; the reader stops
// with an error exactly when some line is not a decision (the first), and
// with `on_bad` it visits the same decisions and reports every other line.

#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "demerit/core/codec.h"
#include "property.h"

namespace demerit::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

void CheckRoundTrip(const v1::Decision& d) {
  const std::string line = core::DecisionToJson(d);
  v1::Decision again;
  auto bad = core::ParseDecisionJson(line, &again);
  DEMERIT_PROPERTY(!bad, "printed decision rejected: " + bad->detail + "\nprinted: " + line +
                             "\ndecision: " + d.ShortDebugString());
  DEMERIT_PROPERTY(MessageDifferencer::Equals(d, again),
                   "printed: " + line + "\nfirst:  " + d.ShortDebugString() +
                       "\nsecond: " + again.ShortDebugString());
  DEMERIT_PROPERTY(core::DecisionToJson(again) == line, "printed: " + line);
}

void Check(const std::string& log) {
  std::vector<int64_t> visited, bad_lines;
  std::istringstream lenient(log);
  auto status = cli::ReadDecisionLog(
      lenient, "log", 0, "",
      [&](int64_t number, const v1::Decision& d) {
        visited.push_back(number);
        CheckRoundTrip(d);
      },
      [&](int64_t number, const std::string& why) {
        DEMERIT_PROPERTY(!why.empty(), "line " + std::to_string(number) + " bad without a reason");
        bad_lines.push_back(number);
      });
  DEMERIT_PROPERTY(status.ok(), status.message());

  std::vector<int64_t> strict_visited;
  std::istringstream strict(log);
  status = cli::ReadDecisionLog(strict, "log", 0, "", [&](int64_t number, const v1::Decision&) {
    strict_visited.push_back(number);
  });
  if (bad_lines.empty()) {
    DEMERIT_PROPERTY(status.ok(), status.message());
    DEMERIT_PROPERTY(strict_visited == visited, "strict and lenient reads differ");
  } else {
    const std::string where = "log: line " + std::to_string(bad_lines.front()) + ": ";
    DEMERIT_PROPERTY(!status.ok(), "line " + std::to_string(bad_lines.front()) +
                                       " is bad, yet the strict read succeeded");
    DEMERIT_PROPERTY(status.message().starts_with(where), status.message());
    for (int64_t n : strict_visited) {
      DEMERIT_PROPERTY(n < bad_lines.front(), "strict read went past a bad line");
    }
  }
}

}  // namespace
}  // namespace demerit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  demerit::fuzz::Check(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
