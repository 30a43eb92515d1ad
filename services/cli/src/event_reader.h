#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "demerit/core/codec.h"
#include "demerit/v1/events.pb.h"

namespace demerit::cli {

enum class InputFormat { kNdjson, kBinary };

// Reads events from a file or standard input, one record at a time: NDJSON
// lines, or length-delimited binary Envelopes. A bad record is reported, not
// fatal; a broken binary frame ends the input (nothing after it can be framed).
class EventReader {
 public:
  static core::StatusOr<std::unique_ptr<EventReader>> Open(const std::string& path,
                                                           InputFormat format);
  ~EventReader();

  enum class Result { kEvent, kBad, kEnd };
  // Reads the next record into *event, or sets *rejection.
  Result Next(v1::Envelope* event, core::Rejection* rejection);
  // 1-based number of the last record (the line number for NDJSON).
  int64_t record() const { return record_; }
  // Bytes consumed so far.
  uint64_t bytes() const { return bytes_; }
  // The binary form of the event the last Next() read (binary input only;
  // empty for NDJSON); valid until the next call.
  std::string_view wire() const { return wire_; }

 private:
  EventReader(FILE* file, bool owned, InputFormat format)
      : file_(file), owned_(owned), format_(format) {}
  bool ReadLine(std::string* line);
  bool Fill(size_t need);

  FILE* file_;
  bool owned_;
  InputFormat format_;
  int64_t record_ = 0;
  uint64_t bytes_ = 0;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  std::string line_;
  std::string_view wire_;
};

}  // namespace demerit::cli
