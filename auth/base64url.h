// base64url without padding (RFC 4648 §5, RFC 7515 §2), strict on decode:
// padding, whitespace, characters outside the alphabet and non-zero trailing
// bits are all rejected, so every byte string has exactly one encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plugauth {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
// RFC 4648 §4 base64 with padding (Basic credentials, RFC 7617), as strict.
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);  // lowercase

// Percent-encodes every byte but RFC 3986 unreserved characters (uppercase
// hex), for query values and URI labels.
std::string url_encode(std::string_view s);

}  // namespace plugauth
