// The authorization-code grant's checks and their order (SPEC §8.2, RFC 6749
// §4.1.2, RFC 7636 §4.6): the code's client, its redirect_uri and PKCE come
// before the replay check, so a used code that leaked (history, Referer,
// access logs) changes nothing in anyone's hands but its own client's, with
// its verifier. Each case below fails if that order changes.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <string>

#include "auth/base64url.h"
#include "auth/grant_authorization_code.h"

using namespace plugauth;

namespace {

constexpr int64_t kNow = 1'800'000'000;
const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kRedirect = "https://app.example/callback";

std::string s256(const std::string& verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

store::AuthorizationCodeRecord used_code() {
  store::AuthorizationCodeRecord code;
  code.code_id = "code-1";
  code.family_id = "family-1";
  code.client_id = "rightful-app";
  code.user_id = "u-alice";
  code.redirect_uri = kRedirect;
  code.code_challenge = s256(kVerifier);
  code.created_at = kNow - 10;
  code.expires_at = kNow + 50;
  code.used_at = kNow - 5;
  return code;
}

store::ClientRecord client(const std::string& id, bool is_public, const std::string& registration = "cli") {
  store::ClientRecord c;
  c.client_id = id;
  c.is_public = is_public;
  c.registration = registration;
  c.redirect_uris = {kRedirect};
  return c;
}

// Refused as invalid_grant, and nothing revoked.
void check_refused_changing_nothing(const CodeGrantDecision& d) {
  REQUIRE(d.refusal.has_value());
  CHECK(d.refusal->error == "invalid_grant");
  CHECK(d.refusal->status == 400);
  CHECK_FALSE(d.revoke_grant);
}

}  // namespace

TEST_CASE("a used code shown by a public client's id with no secret is invalid_grant and revokes nothing (SPEC 8.2)") {
  // A public client's id is public: anyone can present it.
  const auto d = check_authorization_code(used_code(), client("someone-elses-public-app", true), kRedirect,
                                          kVerifier, kNow);
  check_refused_changing_nothing(d);
  CHECK(d.refusal->description.find("another client") != std::string::npos);
}

TEST_CASE("a used code shown by a self-registered client is invalid_grant and revokes nothing (SPEC 8.2)") {
  const auto d = check_authorization_code(used_code(), client("dyn_attacker", false, "dynamic"), kRedirect, kVerifier,
                                          kNow);
  check_refused_changing_nothing(d);
}

TEST_CASE("a used code shown by another client without a verifier is invalid_grant and revokes nothing") {
  check_refused_changing_nothing(
      check_authorization_code(used_code(), client("attacker", true), kRedirect, "", kNow));
}

TEST_CASE("a used code shown by its own client without the PKCE verifier revokes nothing (RFC 7636 4.6)") {
  const auto d = check_authorization_code(used_code(), client("rightful-app", true), kRedirect, "", kNow);
  check_refused_changing_nothing(d);
  CHECK(d.refusal->description == "code_verifier is required");
}

TEST_CASE("a used code shown by its own client with a wrong verifier revokes nothing") {
  std::string wrong = kVerifier;
  wrong[0] = wrong[0] == 'x' ? 'y' : 'x';
  check_refused_changing_nothing(
      check_authorization_code(used_code(), client("rightful-app", true), kRedirect, wrong, kNow));
}

TEST_CASE("a used code shown by its own client with another redirect_uri revokes nothing") {
  check_refused_changing_nothing(check_authorization_code(used_code(), client("rightful-app", true),
                                                          "https://evil.example/callback", kVerifier, kNow));
}

TEST_CASE("a used code's second use by its own client with the verifier revokes the grant (RFC 6749 4.1.2)") {
  const auto d = check_authorization_code(used_code(), client("rightful-app", true), kRedirect, kVerifier, kNow);
  REQUIRE(d.refusal.has_value());
  CHECK(d.refusal->error == "invalid_grant");
  CHECK(d.revoke_grant);
}

TEST_CASE("a used code's second use by its own client revokes even after the code expired") {
  const auto d =
      check_authorization_code(used_code(), client("rightful-app", true), kRedirect, kVerifier, kNow + 3600);
  REQUIRE(d.refusal.has_value());
  CHECK(d.revoke_grant);
}

TEST_CASE("a used code of a confidential client without PKCE revokes on that client's authenticated second use") {
  auto code = used_code();
  code.code_challenge.clear();
  CHECK(check_authorization_code(code, client("rightful-app", false), kRedirect, "", kNow).revoke_grant);
  check_refused_changing_nothing(check_authorization_code(code, client("other", false), kRedirect, "", kNow));
  // A verifier where no challenge was made is a downgrade attempt: refused, nothing revoked.
  check_refused_changing_nothing(
      check_authorization_code(code, client("rightful-app", false), kRedirect, kVerifier, kNow));
}

TEST_CASE("an unused code is redeemable only by its client, with its redirect_uri and verifier, before it expires") {
  auto code = used_code();
  code.used_at.reset();
  const auto ok = check_authorization_code(code, client("rightful-app", true), kRedirect, kVerifier, kNow);
  CHECK_FALSE(ok.refusal.has_value());
  CHECK_FALSE(ok.revoke_grant);
  check_refused_changing_nothing(check_authorization_code(code, client("attacker", true), kRedirect, kVerifier, kNow));
  check_refused_changing_nothing(check_authorization_code(code, client("rightful-app", true), kRedirect, "", kNow));
  check_refused_changing_nothing(
      check_authorization_code(code, client("rightful-app", true), kRedirect, kVerifier, code.expires_at));
}

TEST_CASE("a code sent to a redirect URI the operator has since removed is invalid_grant (client update)") {
  auto code = used_code();
  code.used_at.reset();
  auto moved = client("rightful-app", true);
  moved.redirect_uris = {"https://app.example/new-callback"};
  check_refused_changing_nothing(check_authorization_code(code, moved, kRedirect, kVerifier, kNow));
  // The loopback rule (any port) still holds for a loopback URI that stays.
  code.redirect_uri = "http://127.0.0.1:51234/cb";
  moved.redirect_uris = {"http://127.0.0.1/cb"};
  CHECK_FALSE(check_authorization_code(code, moved, code.redirect_uri, kVerifier, kNow).refusal.has_value());
  moved.redirect_uris = {"http://127.0.0.1/other"};
  check_refused_changing_nothing(check_authorization_code(code, moved, code.redirect_uri, kVerifier, kNow));
}

TEST_CASE("a used code replayed after its redirect URI was removed still revokes the grant (RFC 6749 4.1.2)") {
  auto moved = client("rightful-app", true);
  moved.redirect_uris = {"https://app.example/new-callback"};
  const auto d = check_authorization_code(used_code(), moved, kRedirect, kVerifier, kNow);
  REQUIRE(d.refusal.has_value());
  CHECK(d.revoke_grant);
}
