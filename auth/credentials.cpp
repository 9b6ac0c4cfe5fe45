#include "auth/credentials.h"

#include <cctype>

#include "auth/base64url.h"

namespace plugauth {
namespace {

constexpr size_t kMaxCredentialBytes = 4096;

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

PresentedCredential malformed(std::string problem) { return PresentedCredential{"", true, std::move(problem)}; }

// Basic: base64("user:key") per RFC 7617 → the key. GPT Actions' "Basic"
// carrier sends whatever the developer pasted, which is sometimes the bare
// key: accept a value that does not decode to "user:password" as the key.
PresentedCredential from_basic(std::string_view value) {
  if (const std::optional<std::string> basic = base64_decode(value)) {
    const std::string& decoded = *basic;
    auto colon = decoded.find(':');
    if (colon != std::string::npos) {
      std::string password = decoded.substr(colon + 1);
      if (password.empty()) return malformed("Basic credentials carry no password (the key goes in the password)");
      return PresentedCredential{password, false, ""};
    }
  }
  return PresentedCredential{std::string(value), false, ""};
}

}  // namespace

std::optional<PresentedCredential> extract_credential(std::string_view authorization,
                                                      std::string_view custom_header_value) {
  authorization = trim(authorization);
  custom_header_value = trim(custom_header_value);
  if (authorization.size() > kMaxCredentialBytes || custom_header_value.size() > kMaxCredentialBytes)
    return malformed("credential too long");
  if (!authorization.empty()) {
    if (iequals_prefix(authorization, "Bearer ")) {
      auto token = trim(authorization.substr(7));
      if (token.empty() || token.find(' ') != std::string_view::npos) return malformed("malformed Bearer credentials");
      return PresentedCredential{std::string(token), false, ""};
    }
    if (iequals_prefix(authorization, "Basic ")) {
      auto value = trim(authorization.substr(6));
      if (value.empty() || value.find(' ') != std::string_view::npos) return malformed("malformed Basic credentials");
      return from_basic(value);
    }
    if (custom_header_value.empty()) return malformed("unsupported authorization scheme; use Bearer or Basic");
  }
  if (!custom_header_value.empty()) return PresentedCredential{std::string(custom_header_value), false, ""};
  return std::nullopt;
}

}  // namespace plugauth
