// Time-based one-time passwords (RFC 6238) for two-step sign-in, with the
// parameters every authenticator app understands: HMAC-SHA1 over a 160-bit
// secret, 6 digits, 30-second steps. A code counts for the current step and
// one step either side (a phone's clock drifts), and each step only once:
// the caller stores the last step it accepted and passes it back.
//
// HMAC-SHA1 comes from OpenSSL's libcrypto (linked already for TLS, SPEC
// §10): libsodium has no SHA-1, and RFC 6238 apps need it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plugauth::totp {

constexpr size_t kSecretBytes = 20;  // RFC 4226 §4: at least 128 bits, 160 recommended
constexpr int kDigits = 6;
constexpr int64_t kStepSeconds = 30;
constexpr int64_t kSkewSteps = 1;

// RFC 4648 base32 without padding, as otpauth URIs and apps expect.
std::string base32(std::string_view bytes);

// RFC 4226 HOTP value of `counter`, `digits` long with leading zeros.
std::string hotp(std::string_view secret, uint64_t counter, int digits = kDigits);

// The step `code` is valid for at unix time `now`, if it is one of the
// current step ± kSkewSteps and later than `last_step`; the code is
// compared in constant time.
std::optional<int64_t> accepted_step(std::string_view secret, std::string_view code, int64_t now,
                                     int64_t last_step);

// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
// (the Key Uri Format the apps read from a QR code or a pasted link). A
// colon in either name becomes '-': apps split the label at its first colon.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace plugauth::totp
