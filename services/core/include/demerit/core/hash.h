#pragma once

#include <string>
#include <string_view>

namespace demerit::core {

// Lower-case hexadecimal SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace demerit::core
