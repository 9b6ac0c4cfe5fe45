#include "auth/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "auth/base64url.h"
#include "auth/crypto.h"

namespace plugauth::totp {

std::string base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string hotp(std::string_view secret, uint64_t counter, int digits) {
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i, counter >>= 8) message[static_cast<size_t>(i)] = counter & 0xff;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), message.data(), message.size(), mac.data(),
            &mac_len) ||
      mac_len != 20)
    throw std::runtime_error("HMAC-SHA1 failed");
  // RFC 4226 §5.3: dynamic truncation.
  const unsigned offset = mac[19] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::optional<int64_t> accepted_step(std::string_view secret, std::string_view code, int64_t now,
                                     int64_t last_step) {
  if (code.size() != kDigits || code.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  if (now < 0) return std::nullopt;
  const int64_t current = now / kStepSeconds;
  std::optional<int64_t> found;
  // Every candidate is computed and compared, so the time taken does not
  // say which step (if any) matched.
  for (int64_t step = current - kSkewSteps; step <= current + kSkewSteps; ++step) {
    if (step < 0) continue;
    const bool match = constant_time_equal(hotp(secret, static_cast<uint64_t>(step)), code);
    if (match && step > last_step && !found) found = step;
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer_name, std::string_view account_name, std::string_view secret) {
  // The label is "issuer:account" and apps split it at the first colon
  // (escaped or not), so neither part may hold one.
  std::string issuer(issuer_name), account(account_name);
  std::replace(issuer.begin(), issuer.end(), ':', '-');
  std::replace(account.begin(), account.end(), ':', '-');
  const std::string label = url_encode(issuer) + ":" + url_encode(account);
  return "otpauth://totp/" + label + "?secret=" + base32(secret) + "&issuer=" + url_encode(issuer) +
         "&algorithm=SHA1&digits=" + std::to_string(kDigits) + "&period=" + std::to_string(kStepSeconds);
}

}  // namespace plugauth::totp
