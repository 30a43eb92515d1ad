#pragma once

// The two readers of an NDJSON event line behind ParseEventJson: a direct one
// for the lines event files hold, and protobuf's JSON parser for all others.

#include <optional>
#include <string_view>

#include "demerit/core/codec.h"
#include "demerit/v1/events.pb.h"

namespace demerit::core {

// Reads `line` into `out` if it has the plain shape of an event line: one
// object holding one payload object; keys by proto name, each at most once;
// strings of valid UTF-8 without escapes or control characters; enums by
// name; int32 fields as plain integers; bools as true or false; timestamps as
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm) in 1900..2199 with at most
// nine fraction digits; JSON whitespace. What it reads, it reads exactly as
// JsonStringToMessage does. Returns false for every other line (valid or not),
// and `out` then holds a part of the line.
// REQUIRES: `out` is empty.
bool ParsePlainEventJson(std::string_view line, v1::Envelope* out);

// ParseEventJson through protobuf's JSON parser alone.
std::optional<Rejection> ParseEventJsonWithProtobuf(std::string_view line, v1::Envelope* out);

}  // namespace demerit::core
