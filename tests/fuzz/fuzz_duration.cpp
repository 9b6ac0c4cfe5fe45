// Durations (config/duration.h): positive and at most 100 years when
// accepted, and format_duration's text of an accepted value parses back to
// it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto seconds = plugauth::parse_duration(text);
  if (!seconds) return 0;
  if (*seconds <= 0 || *seconds > int64_t{100} * 365 * 86400) std::abort();
  const auto again = plugauth::parse_duration(plugauth::format_duration(*seconds));
  if (!again || *again != *seconds) std::abort();
  return 0;
}
