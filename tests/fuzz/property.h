#pragma once

// What a fuzz target checks beyond "no crash": a property that fails prints
// what it saw and aborts, which libFuzzer (and the corpus replay) reports as a
// finding with the input that caused it.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace demerit::fuzz {

[[noreturn]] inline void PropertyFailed(const char* property, const std::string& detail) {
  std::fprintf(stderr, "property failed: %s\n%s\n", property, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace demerit::fuzz

// Checks `condition`; `detail` (a std::string expression) is evaluated only on failure.
#define DEMERIT_PROPERTY(condition, detail)                                \
  do {                                                                     \
    if (!(condition)) ::demerit::fuzz::PropertyFailed(#condition, detail); \
  } while (0)
