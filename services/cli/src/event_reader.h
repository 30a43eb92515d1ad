#pragma once

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "demerit/core/codec.h"
#include "demerit/v1/events.pb.h"

namespace demerit::cli {

enum class InputFormat { kNdjson, kBinary };

// Some editors start a UTF-8 file with it; the readers of NDJSON files skip
// it there.
constexpr std::string_view kUtf8ByteOrderMark = "\xef\xbb\xbf";

// Opens `path` for reading; an error naming it when it is a directory (which
// opens, and then fails every read) or cannot be opened.
core::Status OpenInputFile(const std::string& path, std::ifstream* in);

// Reads events from a file or standard input, one record at a time: NDJSON
// lines, or length-delimited binary Envelopes. A bad record is reported, not
// fatal; a broken binary frame ends the input (nothing after it can be framed).
// A read error ends the input too, and status() then reports it; a read
// interrupted by a signal an InterruptScope recorded ends it silently.
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
  // After kEnd: whether the input ended because it could not be read.
  const core::Status& status() const { return status_; }

 private:
  EventReader(FILE* file, bool owned, InputFormat format, std::string name)
      : file_(file), owned_(owned), format_(format), name_(std::move(name)) {}
  bool ReadLine(std::string* line);
  bool Fill(size_t need);

  FILE* file_;
  bool owned_;
  InputFormat format_;
  std::string name_;
  core::Status status_;
  int64_t record_ = 0;
  uint64_t bytes_ = 0;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  std::string line_;
  std::string_view wire_;
};

}  // namespace demerit::cli
