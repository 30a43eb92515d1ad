// The binary event decoders: ParseEventBinary (event files in pb format) and
// ParseStreamRecord (a record of an input topic).
// Input: one byte choosing the decoder (0: an envelope; 1 to 5: the record of
// stream 0 to 4; taken modulo 6), then the bytes to decode.
// Properties: an event that decodes encodes to bytes that decode to the same
// event; an envelope that also passes ValidateEvent against the shipped rules
// prints as JSON (EventToJson) to a line that ParseEventJson reads back as
// the same event.
// Seeds: the envelope and the stream record of each line of event_json/ that
// ParseEventJson accepts, behind their mode bytes.

#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "demerit/core/codec.h"
#include "property.h"
#include "test_rules.h"

namespace demerit::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

std::string Show(const v1::Envelope& a, const v1::Envelope& b) {
  return "first:  " + a.ShortDebugString() + "\nsecond: " + b.ShortDebugString();
}

void CheckEnvelope(std::string_view bytes) {
  v1::Envelope event;
  if (core::ParseEventBinary(bytes, &event)) return;
  const std::string encoded = event.SerializeAsString();
  v1::Envelope again;
  auto bad = core::ParseEventBinary(encoded, &again);
  DEMERIT_PROPERTY(!bad, "re-encoded envelope rejected: " + bad->detail);
  DEMERIT_PROPERTY(MessageDifferencer::Equals(event, again), Show(event, again));
  DEMERIT_PROPERTY(again.SerializeAsString() == encoded, Show(event, again));

  if (core::ValidateEvent(event, *testing::ShippedRules())) return;
  const std::string line = core::EventToJson(event);
  v1::Envelope from_json;
  auto json_bad = core::ParseEventJson(line, &from_json);
  DEMERIT_PROPERTY(
      !json_bad, "the JSON of a valid event is rejected: " + json_bad->detail + "\nline: " + line);
  DEMERIT_PROPERTY(MessageDifferencer::Equals(event, from_json),
                   "line: " + line + "\n" + Show(event, from_json));
}

void CheckStreamRecord(core::Stream stream, std::string_view bytes) {
  v1::Envelope event;
  if (core::ParseStreamRecord(stream, bytes, &event)) return;
  const std::string encoded = core::SerializeStreamRecord(event);
  v1::Envelope again;
  auto bad = core::ParseStreamRecord(stream, encoded, &again);
  DEMERIT_PROPERTY(!bad, "re-encoded record rejected: " + bad->detail);
  DEMERIT_PROPERTY(MessageDifferencer::Equals(event, again), Show(event, again));
  DEMERIT_PROPERTY(core::SerializeStreamRecord(again) == encoded, Show(event, again));
}

}  // namespace
}  // namespace demerit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  int mode = data[0] % (1 + demerit::core::kStreamCount);
  if (mode == 0) {
    demerit::fuzz::CheckEnvelope(bytes);
  } else {
    demerit::fuzz::CheckStreamRecord(static_cast<demerit::core::Stream>(mode - 1), bytes);
  }
  return 0;
}
