#pragma once

// Reading and checking input events, writing decisions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "demerit/core/facts.h"
#include "demerit/core/rules.h"
#include "demerit/core/status.h"
#include "demerit/v1/decision.pb.h"
#include "demerit/v1/events.pb.h"

namespace demerit::core {

// Why an input record could not be applied.
struct Rejection {
  v1::DeadLetterReason reason = v1::INVALID;
  std::string detail;
};

// Parses one NDJSON line (protobuf JSON mapping, proto field names) holding
// exactly one payload.
std::optional<Rejection> ParseEventJson(std::string_view line, v1::Envelope* out);

// Parses a binary Envelope.
std::optional<Rejection> ParseEventBinary(std::string_view bytes, v1::Envelope* out);

// Parses a binary record of one input topic (one message type per topic)
// into an envelope. A message of another stream is rejected as WRONG_TOPIC.
std::optional<Rejection> ParseStreamRecord(Stream stream, std::string_view bytes,
                                           v1::Envelope* out);
// The record of `event` on its input topic: the payload message alone ("" for
// an envelope without payload). ParseStreamRecord's inverse.
std::string SerializeStreamRecord(const v1::Envelope& event);

// Checks what the schema cannot: ids, known site and enum values, timestamps in
// a sane range, non-negative counts, a correction that names its target.
std::optional<Rejection> ValidateEvent(const v1::Envelope& event, const RuleSet& rules);

// One decision as a JSON object on one line (no newline), all fields printed.
std::string DecisionToJson(const v1::Decision& decision);
std::optional<Rejection> ParseDecisionJson(std::string_view line, v1::Decision* out);
std::string EventToJson(const v1::Envelope& event);

// Length-delimited binary framing: a varint length, then the message.
void AppendDelimited(const google::protobuf::MessageLite& message, std::string* out);

}  // namespace demerit::core
