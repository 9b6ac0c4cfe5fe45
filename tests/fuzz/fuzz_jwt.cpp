// JWT parse + verify (auth/jwt.h), with the verifier's real keys: an
// Ed25519 key "ed" and an HS256 key "hs". Only the holder of a key can make
// a token the verifier accepts, so:
//   mode 0: the input is a token. Accepted only if it is byte for byte one
//           of the tokens minted here with the real keys (the seed corpus
//           holds them): a changed byte anywhere, a second spelling of the
//           same signature, must fail.
//   mode 1, 2: the input is a header and a payload (split at the first
//           newline), signed properly with "ed" (1) or "hs" (2). Whatever
//           the header and claims say, an accepted token has the issuer, an
//           audience the verifier wants, and is within exp and nbf.
//   mode 3: the same signed with HS256 under the Ed25519 *public* key (the
//           algorithm-confusion forgery anyone can compute): never accepted.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.h"
#include "auth/jwt.h"

using namespace plugauth;

namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr char kIssuer[] = "https://auth.example";
constexpr char kAudience[] = "https://api.example/mcp";

struct Keys {
  SigningKey ed_sign, hs_sign;
  VerificationKey ed_verify, hs_verify;
  std::vector<std::string> minted;
};

const Keys& keys() {
  static const Keys k = [] {
    if (sodium_init() < 0) std::abort();
    Keys out;
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    for (size_t i = 0; i < sizeof seed; ++i) seed[i] = static_cast<unsigned char>(i * 7 + 1);
    crypto_sign_seed_keypair(pk, sk, seed);
    out.ed_sign = {"ed", JwtAlg::EdDSA, Bytes(reinterpret_cast<char*>(sk), sizeof sk)};
    out.ed_verify = {"ed", JwtAlg::EdDSA, Bytes(reinterpret_cast<char*>(pk), sizeof pk)};
    const Bytes hs(32, '\x5a');
    out.hs_sign = {"hs", JwtAlg::HS256, hs};
    out.hs_verify = {"hs", JwtAlg::HS256, hs};
    AccessTokenClaims c;
    c.iss = kIssuer;
    c.sub = "user:alice";
    c.aud = {kAudience};
    c.client_id = "cl_1";
    c.scope = "mcp:tools read";
    c.jti = "j1";
    c.iat = kNow - 10;
    c.exp = kNow + 600;
    out.minted = {sign_access_token(c, out.ed_sign), sign_access_token(c, out.hs_sign)};
    return out;
  }();
  return k;
}

std::string sign_raw(std::string_view header, std::string_view payload, bool hmac, std::string_view key) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  std::string sig;
  if (hmac) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    crypto_auth_hmacsha256_final(&st, mac);
    sig.assign(reinterpret_cast<char*>(mac), sizeof mac);
  } else {
    unsigned char s[crypto_sign_BYTES];
    crypto_sign_detached(s, nullptr, reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                         reinterpret_cast<const unsigned char*>(key.data()));
    sig.assign(reinterpret_cast<char*>(s), sizeof s);
  }
  return input + "." + base64url_encode(sig);
}

}  // namespace

// FUZZ_JWT_WRITE_SEEDS=DIR: writes the minted tokens as mode-0 seeds (how
// tests/fuzz/corpus/fuzz_jwt/minted-* were made).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("FUZZ_JWT_WRITE_SEEDS")) {
    int i = 0;
    for (const auto& token : keys().minted) {
      std::ofstream(std::string(dir) + "/minted-" + std::to_string(i++), std::ios::binary) << '\0' << token;
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 16 * 1024) return 0;
  const Keys& k = keys();
  const KeyLookup lookup = [&k](std::string_view kid) -> std::optional<VerificationKey> {
    if (kid == "ed") return k.ed_verify;
    if (kid == "hs") return k.hs_verify;
    return std::nullopt;
  };
  const JwtVerifyOptions options{kIssuer, kAudience, kNow, 60};
  const int mode = data[0] % 4;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (mode == 0) {
    token = std::string(rest);
  } else {
    const size_t nl = rest.find('\n');
    const std::string_view header = rest.substr(0, nl);
    const std::string_view payload = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (mode == 1) token = sign_raw(header, payload, false, k.ed_sign.secret);
    if (mode == 2) token = sign_raw(header, payload, true, k.hs_sign.secret);
    if (mode == 3) token = sign_raw(header, payload, true, k.ed_verify.key);
  }
  const auto verified = verify_access_token(token, lookup, options);
  if (!verified) {
    if (describe(verified.error()) == nullptr) std::abort();
    return 0;
  }
  if (mode == 0 && token != k.minted[0] && token != k.minted[1]) std::abort();
  if (mode == 3) std::abort();
  const AccessTokenClaims& c = *verified;
  if (c.iss != kIssuer) std::abort();
  bool audience = false;
  for (const auto& a : c.aud) audience = audience || a == kAudience;
  if (!audience) std::abort();
  if (c.exp + options.leeway <= kNow) std::abort();
  if (c.nbf && *c.nbf - options.leeway > kNow) std::abort();
  return 0;
}
