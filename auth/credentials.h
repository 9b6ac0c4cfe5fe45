// Where a presented credential is found (SPEC §3 /verify): the Authorization
// header as a Bearer token (RFC 6750 §2.1) or as Basic with the key as the
// password (any user name), or the configured custom header (GPT Actions'
// "Custom" API-key carrier). Never the query string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plugauth {

struct PresentedCredential {
  std::string token;
  bool malformed = false;   // a header was sent but holds no usable credential
  std::string problem;      // why, when malformed (safe to show the client)
};

// nullopt: no credential at all (RFC 6750 §3.1: answer without `error`).
std::optional<PresentedCredential> extract_credential(std::string_view authorization,
                                                      std::string_view custom_header_value);

}  // namespace plugauth
