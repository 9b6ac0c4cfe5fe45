// JSON through picojson, with the strictness a security boundary needs:
// input must be valid UTF-8 and an object may not repeat a key (a JWT or a
// config file with two "alg" or two "listen" members is an attack or a typo).
#pragma once

#include <picojson.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace plugauth {

// Parses exactly one JSON value (surrounding whitespace allowed).
// Errors: invalid UTF-8, syntax error, duplicate object key, trailing data.
Result<picojson::value> parse_json_strict(std::string_view text);

bool is_valid_utf8(std::string_view s);

// Serialisation as picojson does it, except that "/" is not escaped as
// "\/" (valid, but confusing in URLs a person copies from the output).
std::string to_json(const picojson::value& v, bool pretty = false);

}  // namespace plugauth
