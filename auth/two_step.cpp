#include "auth/two_step.h"

#include "auth/base64url.h"
#include "auth/totp.h"
#include "common/url.h"

namespace plugauth {
namespace {

// The name the app lists the account under: the issuer's host, without a
// port ("auth.example.com", "127.0.0.1").
std::string issuer_host(const std::string& issuer) {
  const auto url = parse_url(issuer);
  if (!url) return "plugauth";
  std::string host = url->host;
  if (host.front() == '[') host = host.substr(1, host.size() - 2);  // IPv6 literal
  return host;
}

std::string stored_context(const std::string& user_id) { return "totp:" + user_id; }
std::string pending_context(const std::string& user_id) { return "totp-pending:" + user_id; }

}  // namespace

TotpSetup new_totp_setup(Random& random, const std::string& issuer, const store::UserRecord& user) {
  TotpSetup s;
  s.secret = random.bytes(totp::kSecretBytes);
  s.secret_base32 = totp::base32(s.secret);
  s.otpauth_uri = totp_uri_for(issuer, user, s.secret);
  return s;
}

std::string totp_uri_for(const std::string& issuer, const store::UserRecord& user, const std::string& secret) {
  return totp::otpauth_uri(issuer_host(issuer), user.name, secret);
}

std::string seal_totp_secret(const CryptoKeys& crypto, Random& random, const std::string& user_id,
                             const std::string& secret) {
  return crypto.seal(secret, stored_context(user_id), random);
}

bool check_totp(const CryptoKeys& crypto, store::Store& store, const Clock& clock, const std::string& user_id,
                const std::string& code) {
  auto sealed = store.user_totp(user_id);
  if (!sealed) return false;
  auto secret = crypto.open(*sealed, stored_context(user_id));
  if (!secret) return false;
  auto step = totp::accepted_step(*secret, code, clock.now(), -1);
  return step && store.advance_totp_step(user_id, *step);
}

std::string seal_pending_totp(const CryptoKeys& crypto, Random& random, const std::string& user_id,
                              const std::string& secret, int64_t now) {
  return base64url_encode(crypto.seal(std::to_string(now) + ":" + secret, pending_context(user_id), random));
}

std::optional<std::string> open_pending_totp(const CryptoKeys& crypto, const std::string& user_id,
                                             const std::string& sealed, int64_t now) {
  if (sealed.size() > 512) return std::nullopt;
  auto raw = base64url_decode(sealed);
  if (!raw) return std::nullopt;
  auto plain = crypto.open(*raw, pending_context(user_id));
  if (!plain) return std::nullopt;
  const size_t colon = plain->find(':');
  if (colon == std::string::npos || colon == 0 || colon > 19) return std::nullopt;
  const std::string when = plain->substr(0, colon);
  if (when.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int64_t issued = std::stoll(when);
  if (issued > now || now - issued > kPendingTotpSeconds) return std::nullopt;
  std::string secret = plain->substr(colon + 1);
  if (secret.size() != totp::kSecretBytes) return std::nullopt;
  return secret;
}

}  // namespace plugauth
