// The NDJSON event parser (ParseEventJson): its direct reader and protobuf's
// JSON parser behind it.
// Input: one line.
// Properties: a line the direct reader (ParsePlainEventJson) accepts,
// protobuf's parser alone accepts as the same envelope, byte for byte; a line
// ParseEventJson accepts prints (EventToJson) to a line it reads back as the
// same envelope.

#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "demerit/core/codec.h"
#include "event_json.h"
#include "property.h"

namespace demerit::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

void Check(std::string_view line) {
  v1::Envelope plain;
  if (core::ParsePlainEventJson(line, &plain)) {
    v1::Envelope reference;
    auto bad = core::ParseEventJsonWithProtobuf(line, &reference);
    DEMERIT_PROPERTY(!bad, "the direct reader accepts a line protobuf rejects: " + bad->detail);
    DEMERIT_PROPERTY(
        plain.SerializeAsString() == reference.SerializeAsString(),
        "direct:   " + plain.ShortDebugString() + "\nprotobuf: " + reference.ShortDebugString());
  }

  v1::Envelope event;
  if (core::ParseEventJson(line, &event)) return;
  const std::string printed = core::EventToJson(event);
  v1::Envelope again;
  auto bad = core::ParseEventJson(printed, &again);
  DEMERIT_PROPERTY(!bad, "printed line rejected: " + bad->detail + "\nprinted: " + printed);
  DEMERIT_PROPERTY(MessageDifferencer::Equals(event, again),
                   "printed: " + printed + "\nfirst:  " + event.ShortDebugString() +
                       "\nsecond: " + again.ShortDebugString());
}

}  // namespace
}  // namespace demerit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  demerit::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
