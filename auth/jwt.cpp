#include "auth/jwt.h"

#include <sodium.h>

#include <cmath>
#include <stdexcept>
#include <utility>

#include "auth/base64url.h"
#include "common/json.h"

namespace plugauth {

namespace {

// Access tokens are a few hundred bytes; anything this long is not one of
// ours, and is refused before any decoding work.
constexpr size_t kMaxTokenLength = 8 * 1024;
// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
constexpr size_t kMinHmacKeyBytes = crypto_auth_hmacsha256_BYTES;
// Integers a double holds exactly; larger "integers" are refused.
constexpr double kMaxSafeInteger = 9007199254740991.0;

struct DecodedJws {
  std::string_view signing_input;  // BASE64URL(header) "." BASE64URL(payload)
  std::string header;
  std::string payload;
  std::string signature;
};

Result<DecodedJws, JwtError> decode_compact(std::string_view token) {
  if (token.size() > kMaxTokenLength) return JwtError::Malformed;
  size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return JwtError::Malformed;
  size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return JwtError::Malformed;
  }
  auto header = base64url_decode(token.substr(0, first_dot));
  auto payload = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!header || !payload || !signature) return JwtError::BadBase64;
  return DecodedJws{token.substr(0, second_dot), std::move(*header), std::move(*payload),
                    std::move(*signature)};
}

Result<picojson::object, JwtError> parse_json_object(std::string_view bytes) {
  if (!is_valid_utf8(bytes)) return JwtError::NotUtf8;
  auto parsed = parse_json_strict(bytes);
  if (!parsed.ok()) {
    // parse_json_strict reports the kinds of failure only in its message.
    bool duplicate = parsed.error().message.find("duplicate key") != std::string::npos;
    return duplicate ? JwtError::DuplicateMember : JwtError::BadJson;
  }
  if (!parsed->is<picojson::object>()) return JwtError::BadJson;
  return std::move(parsed->get<picojson::object>());
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

const picojson::value* member(const picojson::object& object, const std::string& name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &it->second;
}

// The header rules that do not depend on the key: a usable alg, and no
// extension marked critical (RFC 7515 §4.1.11: we understand none, so any
// "crit" makes the token unusable).
Result<JwtAlg, JwtError> read_header_alg(const picojson::object& header) {
  const picojson::value* alg = member(header, "alg");
  if (alg == nullptr) return JwtError::AlgNone;
  if (!alg->is<std::string>()) return JwtError::UnsupportedAlg;
  const std::string& name = alg->get<std::string>();
  if (equals_ignoring_case(name, "none")) return JwtError::AlgNone;
  std::optional<JwtAlg> parsed = parse_jwt_alg(name);
  if (!parsed) return JwtError::UnsupportedAlg;
  if (member(header, "crit") != nullptr) return JwtError::UnsupportedCrit;
  return *parsed;
}

Bytes hmac_sha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  Bytes mac(crypto_auth_hmacsha256_BYTES, '\0');
  // The init/update/final API, unlike crypto_auth_hmacsha256, takes a key of
  // any length (RFC 7515 A.1's is 64 bytes).
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  sodium_memzero(&state, sizeof state);
  return mac;
}

bool signature_valid(JwtAlg alg, std::string_view key, std::string_view signing_input,
                     std::string_view signature) {
  switch (alg) {
    case JwtAlg::EdDSA:
      return key.size() == crypto_sign_PUBLICKEYBYTES && signature.size() == crypto_sign_BYTES &&
             crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                         reinterpret_cast<const unsigned char*>(signing_input.data()),
                                         signing_input.size(),
                                         reinterpret_cast<const unsigned char*>(key.data())) == 0;
    case JwtAlg::HS256:
      return key.size() >= kMinHmacKeyBytes &&
             constant_time_equal(hmac_sha256(key, signing_input), signature);
  }
  return false;
}

Bytes sign_bytes(JwtAlg alg, std::string_view secret, std::string_view signing_input) {
  switch (alg) {
    case JwtAlg::EdDSA: {
      if (secret.size() != crypto_sign_SECRETKEYBYTES) {
        throw std::invalid_argument("an EdDSA signing key is 64 bytes");
      }
      Bytes signature(crypto_sign_BYTES, '\0');
      crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
                           reinterpret_cast<const unsigned char*>(secret.data()));
      return signature;
    }
    case JwtAlg::HS256:
      if (secret.size() < kMinHmacKeyBytes) {
        throw std::invalid_argument("an HS256 signing key is at least 32 bytes");
      }
      return hmac_sha256(secret, signing_input);
  }
  throw std::invalid_argument("unknown JWT algorithm");
}

std::optional<int64_t> as_integer(const picojson::value& value) {
  if (!value.is<double>()) return std::nullopt;
  double number = value.get<double>();
  if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > kMaxSafeInteger) {
    return std::nullopt;
  }
  return static_cast<int64_t>(number);
}

// Ok(true) when present and a string, Ok(false) when absent.
Result<bool, JwtError> read_string_claim(const picojson::object& payload, const std::string& name,
                                         std::string& out) {
  const picojson::value* value = member(payload, name);
  if (value == nullptr) return false;
  if (!value->is<std::string>()) return JwtError::BadClaims;
  out = value->get<std::string>();
  return true;
}

// RFC 7519 §4.1: checked in the order exp, nbf, iss, aud, then the types of
// the claims we only carry.
Result<AccessTokenClaims, JwtError> read_claims(const picojson::object& payload,
                                                const JwtVerifyOptions& options) {
  AccessTokenClaims claims;

  const picojson::value* exp = member(payload, "exp");
  if (exp == nullptr) return JwtError::MissingExp;
  std::optional<int64_t> exp_value = as_integer(*exp);
  if (!exp_value) return JwtError::BadClaims;
  // RFC 7519 §4.1.4: not accepted on or after exp (plus leeway).
  if (*exp_value + options.leeway <= options.now) return JwtError::Expired;
  claims.exp = *exp_value;

  if (const picojson::value* nbf = member(payload, "nbf")) {
    std::optional<int64_t> nbf_value = as_integer(*nbf);
    if (!nbf_value) return JwtError::BadClaims;
    // RFC 7519 §4.1.5: not accepted before nbf (minus leeway).
    if (*nbf_value - options.leeway > options.now) return JwtError::NotYetValid;
    claims.nbf = *nbf_value;
  }

  auto has_iss = read_string_claim(payload, "iss", claims.iss);
  if (!has_iss.ok()) return has_iss.error();
  if (!has_iss.value() || claims.iss != options.issuer) return JwtError::WrongIssuer;

  // RFC 7519 §4.1.3: "aud" is one string or an array of strings.
  if (const picojson::value* aud = member(payload, "aud")) {
    if (aud->is<std::string>()) {
      claims.aud.push_back(aud->get<std::string>());
    } else if (aud->is<picojson::array>()) {
      for (const picojson::value& entry : aud->get<picojson::array>()) {
        if (!entry.is<std::string>()) return JwtError::BadClaims;
        claims.aud.push_back(entry.get<std::string>());
      }
    } else {
      return JwtError::BadClaims;
    }
  }
  if (!options.audience.empty()) {
    bool found = false;
    for (const std::string& audience : claims.aud) found = found || audience == options.audience;
    if (!found) return JwtError::WrongAudience;
  }

  for (auto [name, field] : {std::pair{"sub", &claims.sub}, std::pair{"client_id", &claims.client_id},
                             std::pair{"scope", &claims.scope}, std::pair{"jti", &claims.jti}}) {
    auto present = read_string_claim(payload, name, *field);
    if (!present.ok()) return present.error();
  }
  if (const picojson::value* iat = member(payload, "iat")) {
    std::optional<int64_t> iat_value = as_integer(*iat);
    if (!iat_value) return JwtError::BadClaims;
    claims.iat = *iat_value;
  }
  return claims;
}

}  // namespace

const char* jwt_alg_name(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::EdDSA:
      return "EdDSA";
    case JwtAlg::HS256:
      return "HS256";
  }
  return "";
}

std::optional<JwtAlg> parse_jwt_alg(std::string_view name) {
  if (name == "EdDSA") return JwtAlg::EdDSA;
  if (name == "HS256") return JwtAlg::HS256;
  return std::nullopt;
}

std::string sign_access_token(const AccessTokenClaims& claims, const SigningKey& key) {
  picojson::object header;
  header["alg"] = picojson::value(jwt_alg_name(key.alg));
  header["typ"] = picojson::value("at+jwt");
  header["kid"] = picojson::value(key.kid);

  picojson::object payload;
  payload["iss"] = picojson::value(claims.iss);
  payload["sub"] = picojson::value(claims.sub);
  if (claims.aud.size() == 1) {
    payload["aud"] = picojson::value(claims.aud.front());
  } else {
    picojson::array audiences;
    for (const std::string& audience : claims.aud) audiences.emplace_back(audience);
    payload["aud"] = picojson::value(std::move(audiences));
  }
  payload["client_id"] = picojson::value(claims.client_id);
  if (!claims.scope.empty()) payload["scope"] = picojson::value(claims.scope);
  payload["jti"] = picojson::value(claims.jti);
  payload["iat"] = picojson::value(static_cast<double>(claims.iat));
  payload["exp"] = picojson::value(static_cast<double>(claims.exp));
  if (claims.nbf) payload["nbf"] = picojson::value(static_cast<double>(*claims.nbf));

  std::string signing_input = base64url_encode(to_json(picojson::value(std::move(header)))) + "." +
                              base64url_encode(to_json(picojson::value(std::move(payload))));
  return signing_input + "." + base64url_encode(sign_bytes(key.alg, key.secret, signing_input));
}

const char* describe(JwtError error) {
  switch (error) {
    case JwtError::Malformed:
      return "token is not a compact JWS";
    case JwtError::BadBase64:
      return "token part is not base64url";
    case JwtError::BadJson:
      return "token header or payload is not a JSON object";
    case JwtError::NotUtf8:
      return "token header or payload is not UTF-8";
    case JwtError::DuplicateMember:
      return "token JSON repeats a member";
    case JwtError::AlgNone:
      return "unsigned tokens are not accepted";
    case JwtError::UnsupportedAlg:
      return "token algorithm is not supported";
    case JwtError::BadType:
      return "token type is not at+jwt";
    case JwtError::MissingKid:
      return "token has no key id";
    case JwtError::UnknownKid:
      return "token key id is unknown";
    case JwtError::AlgMismatch:
      return "token algorithm does not match its key";
    case JwtError::UnsupportedCrit:
      return "token has a critical header that is not understood";
    case JwtError::BadSignature:
      return "token signature is invalid";
    case JwtError::MissingExp:
      return "token has no expiry";
    case JwtError::Expired:
      return "token has expired";
    case JwtError::NotYetValid:
      return "token is not yet valid";
    case JwtError::WrongIssuer:
      return "token issuer is not accepted";
    case JwtError::WrongAudience:
      return "token audience is not accepted";
    case JwtError::BadClaims:
      return "token claims have the wrong type";
  }
  return "invalid token";
}

Result<AccessTokenClaims, JwtError> verify_access_token(std::string_view token, const KeyLookup& keys,
                                                        const JwtVerifyOptions& options) {
  auto jws = decode_compact(token);
  if (!jws.ok()) return jws.error();
  auto header = parse_json_object(jws->header);
  if (!header.ok()) return header.error();
  auto alg = read_header_alg(header.value());
  if (!alg.ok()) return alg.error();

  // RFC 9068 §4: the resource server rejects a JWT whose typ is not at+jwt.
  const picojson::value* typ = member(header.value(), "typ");
  if (typ == nullptr || !typ->is<std::string>() ||
      !(equals_ignoring_case(typ->get<std::string>(), "at+jwt") ||
        equals_ignoring_case(typ->get<std::string>(), "application/at+jwt"))) {
    return JwtError::BadType;
  }
  const picojson::value* kid = member(header.value(), "kid");
  if (kid == nullptr || !kid->is<std::string>() || kid->get<std::string>().empty()) {
    return JwtError::MissingKid;
  }
  // Only our own key store is asked: jku, x5u, x5c and jwk are never read.
  std::optional<VerificationKey> key = keys(kid->get<std::string>());
  if (!key) return JwtError::UnknownKid;
  // SPEC §8.6: the key, not the token, chooses the algorithm; this refuses
  // an HS256 token "signed" with an Ed25519 public key as HMAC secret.
  if (key->alg != alg.value()) return JwtError::AlgMismatch;
  if (!signature_valid(key->alg, key->key, jws->signing_input, jws->signature)) {
    return JwtError::BadSignature;
  }

  auto payload = parse_json_object(jws->payload);
  if (!payload.ok()) return payload.error();
  return read_claims(payload.value(), options);
}

Result<std::string, JwtError> verify_jws(std::string_view token, JwtAlg alg, std::string_view key) {
  auto jws = decode_compact(token);
  if (!jws.ok()) return jws.error();
  auto header = parse_json_object(jws->header);
  if (!header.ok()) return header.error();
  auto header_alg = read_header_alg(header.value());
  if (!header_alg.ok()) return header_alg.error();
  if (header_alg.value() != alg) return JwtError::AlgMismatch;
  if (!signature_valid(alg, key, jws->signing_input, jws->signature)) return JwtError::BadSignature;
  return std::move(jws->payload);
}

Ed25519KeyPair generate_ed25519(Random& random) {
  unsigned char seed[crypto_sign_SEEDBYTES];
  random.fill(seed, sizeof seed);
  Ed25519KeyPair pair{Bytes(crypto_sign_PUBLICKEYBYTES, '\0'), Bytes(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                           reinterpret_cast<unsigned char*>(pair.secret.data()), seed);
  sodium_memzero(seed, sizeof seed);
  return pair;
}

std::optional<picojson::object> public_jwk(const VerificationKey& key) {
  if (key.alg != JwtAlg::EdDSA || key.key.size() != crypto_sign_PUBLICKEYBYTES) return std::nullopt;
  picojson::object jwk;
  jwk["kty"] = picojson::value("OKP");
  jwk["crv"] = picojson::value("Ed25519");
  jwk["x"] = picojson::value(base64url_encode(key.key));
  jwk["kid"] = picojson::value(key.kid);
  jwk["alg"] = picojson::value("EdDSA");
  jwk["use"] = picojson::value("sig");
  return jwk;
}

}  // namespace plugauth
