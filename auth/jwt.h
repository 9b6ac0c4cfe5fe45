// JWS compact serialisation for access tokens (RFC 7515, RFC 7519, RFC 9068).
//
// Verification is strict and ordered so that nothing about an untrusted
// token is believed before its signature checks out under the key its `kid`
// names, with the algorithm that key is pinned to (SPEC §5, §8.6):
//   shape → base64url → UTF-8 + duplicate-free JSON header → alg/typ/kid →
//   key lookup → alg pinned by key → signature → claims (exp, nbf, iss, aud).
// `jku`, `x5u`, `x5c` and `jwk` headers are ignored, never fetched or trusted.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <picojson.h>

#include "auth/crypto.h"
#include "common/result.h"

namespace plugauth {

enum class JwtAlg { EdDSA, HS256 };
const char* jwt_alg_name(JwtAlg alg);
std::optional<JwtAlg> parse_jwt_alg(std::string_view name);

// A key as the verifier needs it. For EdDSA `key` is the 32-byte Ed25519
// public key; for HS256 it is the HMAC secret.
struct VerificationKey {
  std::string kid;
  JwtAlg alg;
  Bytes key;
};

// A key as the signer needs it. For EdDSA `secret` is the 64-byte libsodium
// Ed25519 secret key (seed || public); for HS256 the HMAC secret (32 bytes).
struct SigningKey {
  std::string kid;
  JwtAlg alg;
  Bytes secret;
};

struct AccessTokenClaims {
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;  // serialised as a string when it has one element
  std::string client_id;
  std::string scope;             // space-separated
  std::string jti;
  int64_t iat = 0;
  int64_t exp = 0;
  std::optional<int64_t> nbf;
};

// Header {"alg","typ":"at+jwt","kid"}; claims as above.
std::string sign_access_token(const AccessTokenClaims& claims, const SigningKey& key);

enum class JwtError {
  Malformed,        // not three dot-separated parts, or too long
  BadBase64,        // a part is not strict base64url
  BadJson,          // header or payload is not a JSON object
  NotUtf8,
  DuplicateMember,  // a JSON object repeats a member name
  AlgNone,          // alg "none" (or missing alg)
  UnsupportedAlg,   // an alg we never accept
  BadType,          // typ is not "at+jwt" / "application/at+jwt"
  MissingKid,
  UnknownKid,
  AlgMismatch,      // header alg differs from the alg the key is pinned to
  UnsupportedCrit,  // a "crit" header we do not understand
  BadSignature,
  MissingExp,
  Expired,          // exp + leeway <= now
  NotYetValid,      // nbf - leeway > now
  WrongIssuer,
  WrongAudience,
  BadClaims,        // a claim of the wrong JSON type
};
const char* describe(JwtError error);  // short reason, safe to show a client

struct JwtVerifyOptions {
  std::string issuer;    // required value of "iss"
  std::string audience;  // required member of "aud"; empty: any audience
  int64_t now = 0;
  int64_t leeway = 60;   // seconds, for exp and nbf
};

using KeyLookup = std::function<std::optional<VerificationKey>(std::string_view kid)>;

Result<AccessTokenClaims, JwtError> verify_access_token(std::string_view token,
                                                        const KeyLookup& keys,
                                                        const JwtVerifyOptions& options);

// The signature layer alone, for known-answer tests (RFC 7515 A.1,
// RFC 8037 A.4) and for tokens that are not access tokens: splits, decodes
// and checks the signature of `token` with `key` under `alg`, and returns the
// decoded payload bytes.
Result<std::string, JwtError> verify_jws(std::string_view token, JwtAlg alg, std::string_view key);

// Ed25519 key pair from libsodium; `secret` is 64 bytes, `public_key` 32.
struct Ed25519KeyPair {
  Bytes public_key;
  Bytes secret;
};
Ed25519KeyPair generate_ed25519(Random& random);

// The public JWK of a verification key:
// {"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}.
// HS256 keys are secret and never published: returns nullopt for them.
std::optional<picojson::object> public_jwk(const VerificationKey& key);

}  // namespace plugauth
