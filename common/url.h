// The one reader of absolute http(s) URLs in plugauth (issuer, resources,
// redirect URIs, client-ID metadata documents, forwarded request URLs):
// RFC 3986 §3 split into scheme, authority and the rest, strictly. Anything
// it cannot split unambiguously (no "//", user info, a bad port, a space or
// control character, a backslash before the path) is refused rather than
// guessed, so two parts of plugauth can never read one URL two ways.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plugauth {

struct Url {
  std::string scheme;  // lower-case: "http" or "https"
  std::string host;    // as written (case kept); IPv6 literals keep their brackets
  int port = 0;        // explicit port, or 0 when none was written
  std::string path;    // "" or starting with "/", as written (no decoding)
  std::string query;   // after "?", without it; empty when none
  bool has_query = false;
  bool has_fragment = false;

  // The port, or the scheme's default (80, 443).
  int effective_port() const;
  // Lower-case host, and ":port" only when it is not the scheme's default:
  // the form in which two URLs' origins compare (RFC 6454 §4).
  std::string normalized_authority() const;
  // scheme://normalized_authority
  std::string origin() const;
};

// Accepts only "http://" and "https://" URLs (scheme case-insensitive).
std::optional<Url> parse_url(std::string_view text);

// A Host / X-Forwarded-Host value ("host[:port]") in the form
// normalized_authority() gives for `scheme`; nullopt if it is not one.
std::optional<std::string> normalize_authority(std::string_view host_and_port, std::string_view scheme);

}  // namespace plugauth
