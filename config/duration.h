#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plugauth {

// SPEC §4: whole seconds ("900") or a number with s, m, h or d ("15m",
// "90d"). Positive, at most 100 years; anything else is nullopt.
std::optional<int64_t> parse_duration(std::string_view text);

// 900 → "15m", 2592000 → "30d", 61 → "61s": the largest exact unit.
std::string format_duration(int64_t seconds);

}  // namespace plugauth
