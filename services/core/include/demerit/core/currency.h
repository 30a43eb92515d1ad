#pragma once

// Currency codes: the active codes of ISO 4217 (list one).

#include <cstdint>
#include <string_view>

namespace demerit::core {

// Whether `code` is an active ISO 4217 currency code ("CNY", "EUR"; upper case).
bool IsCurrencyCode(std::string_view code);

// The largest amount, in minor units, of a ladder step or a monthly deduction
// cap: 10^10 (100,000,000.00 in a currency of two decimals). A sum of 900
// million such amounts still fits in int64, more decisions than a month of one
// site can give, so no total of a month's decisions overflows.
constexpr int64_t kMaxAmountMinor = 10'000'000'000;

}  // namespace demerit::core
