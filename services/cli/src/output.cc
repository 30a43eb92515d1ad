#include "output.h"

#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.h"

namespace demerit::cli {

core::StatusOr<std::unique_ptr<Output>> Output::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<Output>(new Output(stdout, false, "standard output"));
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return core::Status::Error("cannot write " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<Output>(new Output(f, true, path));
}

Output::~Output() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

void Output::Write(std::string_view bytes) {
  if (error_ != 0 || bytes.empty()) return;
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    error_ = errno != 0 ? errno : EIO;
  }
}

core::Status Output::Close() {
  if (file_ == nullptr) return error_ != 0 ? Failure() : core::Status::Ok();
  errno = 0;
  if (std::fflush(file_) != 0 && error_ == 0) error_ = errno != 0 ? errno : EIO;
  if (owned_) {
    errno = 0;
    if (std::fclose(file_) != 0 && error_ == 0) error_ = errno != 0 ? errno : EIO;
    file_ = nullptr;
  }
  return error_ != 0 ? Failure() : core::Status::Ok();
}

core::Status Output::Failure() const {
  return core::Status::Error("cannot write " + name_ + ": " + std::strerror(error_));
}

int OutputFailed(const Output& out, const core::Status& why) {
  if (out.pipe_closed()) return kExitPipeClosed;
  std::cerr << why.message() << "\n";
  return kExitIo;
}

int WriteOutput(const std::string& path, std::string_view bytes) {
  auto out = Output::Open(path);
  if (!out.ok()) {
    std::cerr << out.status().message() << "\n";
    return kExitIo;
  }
  (*out)->Write(bytes);
  if (auto s = (*out)->Close(); !s.ok()) return OutputFailed(**out, s);
  return kExitOk;
}

}  // namespace demerit::cli
