// The strict JSON parser (common/json.h): it never crashes, accepts only
// valid UTF-8, and what it accepts survives its own writer: the text
// to_json() writes parses back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = plugauth::parse_json_strict(text);
  if (!parsed) return 0;
  if (!plugauth::is_valid_utf8(text)) std::abort();
  const std::string written = plugauth::to_json(*parsed);
  const auto again = plugauth::parse_json_strict(written);
  if (!again || !(*again == *parsed)) std::abort();
  if (plugauth::to_json(*again) != written) std::abort();
  return 0;
}
