#include "event_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "interrupt.h"

namespace demerit::cli {
namespace {

// An error naming `path` as `what` ("events file"), with `hint`, when it is a
// directory.
core::Status CheckNotDirectory(const std::string& path, const std::string& what,
                               const std::string& hint) {
  struct stat st;
  if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return core::Status::Error("cannot open " + what + " " + path + ": " + std::strerror(EISDIR) +
                               " (Hint: " + hint + ")");
  }
  return core::Status::Ok();
}

}  // namespace

core::Status OpenInputFile(const std::string& path, std::ifstream* in) {
  if (auto s = CheckNotDirectory(path, "file", "give a file"); !s.ok()) return s;
  in->open(path, std::ios::binary);
  if (!*in) return core::Status::Error("cannot read " + path + ": " + std::strerror(errno));
  return core::Status::Ok();
}

core::StatusOr<std::unique_ptr<EventReader>> EventReader::Open(const std::string& path,
                                                               InputFormat format) {
  if (auto s =
          CheckNotDirectory(path, "events file", "give an event file, or - for standard input");
      !s.ok()) {
    return s;
  }
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return core::Status::Error("cannot open events file " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<EventReader>(new EventReader(f, path != "-", format, path));
}

EventReader::~EventReader() {
  if (owned_) std::fclose(file_);
}

// Ensures `need` bytes are buffered from pos_; false if the input ends first.
bool EventReader::Fill(size_t need) {
  while (buffer_.size() - pos_ < need && !eof_) {
    if (pos_ > 0) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    size_t at = buffer_.size();
    size_t chunk = std::max<size_t>(1 << 16, need);
    buffer_.resize(at + chunk);
    errno = 0;
    size_t n = std::fread(buffer_.data() + at, 1, chunk, file_);
    buffer_.resize(at + n);
    if (n < chunk && std::ferror(file_)) {
      const int error = errno;
      std::clearerr(file_);
      // A signal came while the read waited: the command stops if it asked
      // to; any other signal, and the read goes on.
      if (error == EINTR && InterruptScope::signal() == 0) continue;
      if (error != EINTR) {
        status_ = core::Status::Error("cannot read " + name_ + ": " + std::strerror(error));
      }
      eof_ = true;
    } else if (n == 0) {
      eof_ = true;
    }
  }
  return buffer_.size() - pos_ >= need;
}

bool EventReader::ReadLine(std::string* line) {
  line->clear();
  while (true) {
    if (pos_ >= buffer_.size() && !Fill(1)) return !line->empty();
    const char* start = buffer_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', buffer_.size() - pos_));
    if (nl != nullptr) {
      line->append(start, nl - start);
      bytes_ += nl - start + 1;
      pos_ += nl - start + 1;
      return true;
    }
    line->append(start, buffer_.size() - pos_);
    bytes_ += buffer_.size() - pos_;
    pos_ = buffer_.size();
  }
}

EventReader::Result EventReader::Next(v1::Envelope* event, core::Rejection* rejection) {
  wire_ = {};
  if (format_ == InputFormat::kNdjson) {
    while (true) {
      if (!ReadLine(&line_)) return Result::kEnd;
      // A UTF-8 byte order mark, which some editors write, starts the file,
      // not its first event.
      if (++record_ == 1 && line_.starts_with(kUtf8ByteOrderMark)) {
        line_.erase(0, kUtf8ByteOrderMark.size());
      }
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      bool blank = line_.find_first_not_of(" \t") == std::string::npos;
      if (blank) continue;
      if (auto bad = core::ParseEventJson(line_, event)) {
        *rejection = std::move(*bad);
        return Result::kBad;
      }
      return Result::kEvent;
    }
  }
  // Binary: varint32 length, then the message.
  if (!Fill(1)) return Result::kEnd;
  ++record_;
  uint32_t size = 0;
  int shift = 0;
  size_t i = 0;
  while (true) {
    if (!Fill(i + 1)) {
      *rejection = {v1::UNPARSEABLE, "input ends inside a length prefix"};
      pos_ = buffer_.size();
      return Result::kBad;
    }
    uint8_t b = static_cast<uint8_t>(buffer_[pos_ + i]);
    size |= static_cast<uint32_t>(b & 0x7f) << shift;
    ++i;
    if ((b & 0x80) == 0) break;
    shift += 7;
    if (shift > 28) {
      *rejection = {v1::UNPARSEABLE, "broken length prefix; the rest of the input is skipped"};
      eof_ = true;
      pos_ = buffer_.size();
      return Result::kBad;
    }
  }
  constexpr uint32_t kMaxRecord = 16 << 20;
  if (size > kMaxRecord) {
    *rejection = {v1::UNPARSEABLE, "record length " + std::to_string(size) +
                                       " is over 16 MiB; the rest of the input is skipped"};
    eof_ = true;
    pos_ = buffer_.size();
    return Result::kBad;
  }
  if (!Fill(i + size)) {
    *rejection = {v1::UNPARSEABLE, "input ends inside a record"};
    bytes_ += buffer_.size() - pos_;
    pos_ = buffer_.size();
    return Result::kBad;
  }
  std::string_view frame(buffer_.data() + pos_ + i, size);
  pos_ += i + size;
  bytes_ += i + size;
  if (auto bad = core::ParseEventBinary(frame, event)) {
    *rejection = std::move(*bad);
    return Result::kBad;
  }
  wire_ = frame;
  return Result::kEvent;
}

}  // namespace demerit::cli
