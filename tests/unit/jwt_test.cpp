#include "auth/jwt.h"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/base64url.h"
#include "common/clock.h"
#include "common/json.h"

using namespace plugauth;

namespace {

// RFC 7515 Appendix A.1: HS256 over the header {"typ":"JWT",\r\n "alg":"HS256"}.
const std::string kRfc7515A1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kRfc7515A1Key =  // the JWK "k" member
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const std::string kRfc7515A1Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

// RFC 8037 Appendix A.1 (key) and A.4 (Ed25519 signing of "Example of Ed25519 signing").
const std::string kRfc8037PrivateD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const std::string kRfc8037PublicX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const std::string kRfc8037A4Token =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

constexpr int64_t kNow = 1'700'000'000;
const std::string kIssuer = "https://auth.example.com";
const std::string kAudience = "https://plugin.example.com/mcp";

Bytes b64(const std::string& text) {
  auto decoded = base64url_decode(text);
  REQUIRE(decoded);
  return *decoded;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot = token.find('.'); dot != std::string::npos; dot = token.find('.', start)) {
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(token.substr(start));
  return parts;
}

// Flips one bit of the decoded part `index` (0 header, 1 payload, 2
// signature) and re-encodes it canonically.
std::string flip_bit(const std::string& token, size_t index, size_t byte) {
  std::vector<std::string> parts = split(token);
  Bytes decoded = b64(parts[index]);
  REQUIRE(byte < decoded.size());
  decoded[byte] = static_cast<char>(decoded[byte] ^ 0x01);
  parts[index] = base64url_encode(decoded);
  return parts[0] + "." + parts[1] + "." + parts[2];
}

// Signs arbitrary header and payload bytes, so tests can build tokens our
// signer never would. HS256 goes through libsodium's one-shot HMAC (32-byte
// key), a different path from the one auth/jwt.cpp uses.
std::string sign_raw(const std::string& header, const std::string& payload, JwtAlg alg, const Bytes& secret) {
  std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  Bytes signature;
  if (alg == JwtAlg::EdDSA) {
    REQUIRE(secret.size() == crypto_sign_SECRETKEYBYTES);
    signature.assign(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                         reinterpret_cast<const unsigned char*>(secret.data()));
  } else {
    REQUIRE(secret.size() == crypto_auth_hmacsha256_KEYBYTES);
    signature.assign(crypto_auth_hmacsha256_BYTES, '\0');
    crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(signature.data()),
                           reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                           reinterpret_cast<const unsigned char*>(secret.data()));
  }
  return input + "." + base64url_encode(signature);
}

std::string claims_json(const std::string& extra = "", int64_t exp = kNow + 900) {
  return R"({"iss":")" + kIssuer + R"(","sub":"user-1","aud":")" + kAudience +
         R"(","client_id":"client-1","scope":"read write","iat":)" + std::to_string(kNow) + R"(,"exp":)" +
         std::to_string(exp) + R"(,"jti":"jti-1")" + extra + "}";
}

const std::string kEdHeader = R"({"alg":"EdDSA","typ":"at+jwt","kid":"ed-1"})";
const std::string kHsHeader = R"({"alg":"HS256","typ":"at+jwt","kid":"hs-1"})";

// An Ed25519 key "ed-1" and an HMAC key "hs-1"; records every kid asked for.
struct Fixture {
  Fixture() {
    REQUIRE(crypto_init());
    SystemRandom random;
    ed = generate_ed25519(random);
    hmac = random.bytes(32);
  }

  KeyLookup lookup() {
    return [this](std::string_view kid) -> std::optional<VerificationKey> {
      asked.emplace_back(kid);
      if (kid == "ed-1") return VerificationKey{"ed-1", JwtAlg::EdDSA, ed.public_key};
      if (kid == "hs-1") return VerificationKey{"hs-1", JwtAlg::HS256, hmac};
      return std::nullopt;
    };
  }

  JwtVerifyOptions options() const {
    JwtVerifyOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.now = kNow;
    return options;
  }

  Result<AccessTokenClaims, JwtError> verify(const std::string& token) {
    return verify_access_token(token, lookup(), options());
  }

  std::string ed_token(const std::string& payload, const std::string& header = kEdHeader) {
    return sign_raw(header, payload, JwtAlg::EdDSA, ed.secret);
  }

  Ed25519KeyPair ed;
  Bytes hmac;
  std::vector<std::string> asked;
};

AccessTokenClaims sample_claims() {
  AccessTokenClaims claims;
  claims.iss = kIssuer;
  claims.sub = "user-1";
  claims.aud = {kAudience};
  claims.client_id = "client-1";
  claims.scope = "read write";
  claims.jti = "jti-1";
  claims.iat = kNow;
  claims.exp = kNow + 900;
  return claims;
}

#define CHECK_JWT_ERROR(result, expected)       \
  do {                                          \
    auto check_result_ = (result);              \
    REQUIRE_FALSE(check_result_.ok());          \
    CHECK(check_result_.error() == (expected)); \
  } while (false)

}  // namespace

// --- known answers ----------------------------------------------------------

TEST_CASE("the HS256 example of RFC 7515 Appendix A.1 verifies and yields its payload") {
  REQUIRE(crypto_init());
  auto payload = verify_jws(kRfc7515A1Token, JwtAlg::HS256, b64(kRfc7515A1Key));
  REQUIRE(payload.ok());
  CHECK(payload.value() == kRfc7515A1Payload);
}

TEST_CASE("RFC 7515 A.1 with one bit flipped in the signature does not verify") {
  for (size_t byte : {0, 17, 31}) {
    CHECK_JWT_ERROR(verify_jws(flip_bit(kRfc7515A1Token, 2, byte), JwtAlg::HS256, b64(kRfc7515A1Key)),
                    JwtError::BadSignature);
  }
}

TEST_CASE("RFC 7515 A.1 with one bit flipped in the payload does not verify") {
  // Byte 8 is inside "joe": the payload stays valid JSON, only the MAC breaks.
  CHECK_JWT_ERROR(verify_jws(flip_bit(kRfc7515A1Token, 1, 8), JwtAlg::HS256, b64(kRfc7515A1Key)),
                  JwtError::BadSignature);
}

TEST_CASE("RFC 7515 A.1 does not verify under another HMAC key") {
  Bytes key = b64(kRfc7515A1Key);
  key[0] = static_cast<char>(key[0] ^ 0x01);
  CHECK_JWT_ERROR(verify_jws(kRfc7515A1Token, JwtAlg::HS256, key), JwtError::BadSignature);
}

TEST_CASE("the Ed25519 example of RFC 8037 Appendix A.4 verifies and yields its payload") {
  REQUIRE(crypto_init());
  auto payload = verify_jws(kRfc8037A4Token, JwtAlg::EdDSA, b64(kRfc8037PublicX));
  REQUIRE(payload.ok());
  CHECK(payload.value() == "Example of Ed25519 signing");
}

TEST_CASE("the RFC 8037 A.1 private key derives the A.1 public key and re-creates the A.4 signature") {
  Bytes seed = b64(kRfc8037PrivateD);
  REQUIRE(seed.size() == crypto_sign_SEEDBYTES);
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  unsigned char secret[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(public_key, secret, reinterpret_cast<const unsigned char*>(seed.data()));
  CHECK(std::string(reinterpret_cast<char*>(public_key), sizeof public_key) == b64(kRfc8037PublicX));
  Bytes secret_bytes(reinterpret_cast<char*>(secret), sizeof secret);
  CHECK(sign_raw(R"({"alg":"EdDSA"})", "Example of Ed25519 signing", JwtAlg::EdDSA, secret_bytes) ==
        kRfc8037A4Token);
}

TEST_CASE("RFC 8037 A.4 with one bit flipped in the signature does not verify") {
  for (size_t byte : {0, 31, 32, 63}) {
    CHECK_JWT_ERROR(verify_jws(flip_bit(kRfc8037A4Token, 2, byte), JwtAlg::EdDSA, b64(kRfc8037PublicX)),
                    JwtError::BadSignature);
  }
}

TEST_CASE("RFC 8037 A.4 with one bit flipped in the payload does not verify") {
  for (size_t byte : {0, 10, 25}) {
    CHECK_JWT_ERROR(verify_jws(flip_bit(kRfc8037A4Token, 1, byte), JwtAlg::EdDSA, b64(kRfc8037PublicX)),
                    JwtError::BadSignature);
  }
}

TEST_CASE("verify_jws pins the algorithm: RFC known answers are refused under the other alg") {
  CHECK_JWT_ERROR(verify_jws(kRfc7515A1Token, JwtAlg::EdDSA, b64(kRfc8037PublicX)), JwtError::AlgMismatch);
  CHECK_JWT_ERROR(verify_jws(kRfc8037A4Token, JwtAlg::HS256, b64(kRfc7515A1Key)), JwtError::AlgMismatch);
}

// --- round trips ------------------------------------------------------------

TEST_CASE("an EdDSA access token signs and verifies with every claim intact (RFC 9068 §2.2)") {
  Fixture f;
  AccessTokenClaims claims = sample_claims();
  claims.nbf = kNow - 5;
  std::string token = sign_access_token(claims, SigningKey{"ed-1", JwtAlg::EdDSA, f.ed.secret});
  auto verified = f.verify(token);
  REQUIRE(verified.ok());
  CHECK(verified->iss == claims.iss);
  CHECK(verified->sub == claims.sub);
  CHECK(verified->aud == claims.aud);
  CHECK(verified->client_id == claims.client_id);
  CHECK(verified->scope == claims.scope);
  CHECK(verified->jti == claims.jti);
  CHECK(verified->iat == claims.iat);
  CHECK(verified->exp == claims.exp);
  CHECK(verified->nbf == claims.nbf);
  CHECK(f.asked == std::vector<std::string>{"ed-1"});
}

TEST_CASE("an HS256 access token signs and verifies, with several audiences as an array") {
  Fixture f;
  AccessTokenClaims claims = sample_claims();
  claims.aud = {"https://other.example.com", kAudience};
  std::string token = sign_access_token(claims, SigningKey{"hs-1", JwtAlg::HS256, f.hmac});
  auto verified = f.verify(token);
  REQUIRE(verified.ok());
  CHECK(verified->aud == claims.aud);
  CHECK_FALSE(verified->nbf);

  auto payload = parse_json_strict(b64(split(token)[1]));
  REQUIRE(payload.ok());
  CHECK(payload->get("aud").is<picojson::array>());
}

TEST_CASE("a signed access token carries alg, typ at+jwt and kid in its header (RFC 9068 §2.1)") {
  Fixture f;
  std::string token = sign_access_token(sample_claims(), SigningKey{"ed-1", JwtAlg::EdDSA, f.ed.secret});
  auto header = parse_json_strict(b64(split(token)[0]));
  REQUIRE(header.ok());
  CHECK(header->get("alg").get<std::string>() == "EdDSA");
  CHECK(header->get("typ").get<std::string>() == "at+jwt");
  CHECK(header->get("kid").get<std::string>() == "ed-1");

  auto payload = parse_json_strict(b64(split(token)[1]));
  REQUIRE(payload.ok());
  CHECK(payload->get("aud").is<std::string>());
  CHECK(payload->get("exp").get<double>() == static_cast<double>(kNow + 900));
}

TEST_CASE("an access token also verifies through the signature layer alone") {
  Fixture f;
  std::string token = sign_access_token(sample_claims(), SigningKey{"hs-1", JwtAlg::HS256, f.hmac});
  auto payload = verify_jws(token, JwtAlg::HS256, f.hmac);
  REQUIRE(payload.ok());
  CHECK(payload.value() == b64(split(token)[1]));
}

// --- header rules -----------------------------------------------------------

TEST_CASE("alg none is rejected, in any case, signed or not (RFC 8725 §3.1)") {
  Fixture f;
  std::string payload = base64url_encode(claims_json());
  for (std::string alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = base64url_encode(R"({"alg":")" + alg + R"(","typ":"at+jwt","kid":"ed-1"})");
    CHECK_JWT_ERROR(f.verify(header + "." + payload + "."), JwtError::AlgNone);
    CHECK_JWT_ERROR(verify_jws(header + "." + payload + ".", JwtAlg::EdDSA, f.ed.public_key),
                    JwtError::AlgNone);
  }
  CHECK(f.asked.empty());
}

TEST_CASE("a header without alg is treated as alg none and rejected") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"typ":"at+jwt","kid":"ed-1"})")), JwtError::AlgNone);
}

TEST_CASE("an algorithm other than EdDSA and HS256 is rejected") {
  Fixture f;
  for (std::string alg : {"RS256", "ES256", "HS512", "eddsa", "hs256", "Ed25519"}) {
    CHECK_JWT_ERROR(
        f.verify(f.ed_token(claims_json(), R"({"alg":")" + alg + R"(","typ":"at+jwt","kid":"ed-1"})")),
        JwtError::UnsupportedAlg);
  }
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":7,"typ":"at+jwt","kid":"ed-1"})")),
                  JwtError::UnsupportedAlg);
}

TEST_CASE("alg confusion: an HS256 token keyed with an EdDSA key's public bytes is AlgMismatch (SPEC §8.6)") {
  Fixture f;
  // The attacker knows the public key (it is in JWKS) and uses it as the HMAC secret.
  std::string forged = sign_raw(R"({"alg":"HS256","typ":"at+jwt","kid":"ed-1"})", claims_json(),
                                JwtAlg::HS256, f.ed.public_key);
  CHECK_JWT_ERROR(f.verify(forged), JwtError::AlgMismatch);
  CHECK_JWT_ERROR(verify_jws(forged, JwtAlg::EdDSA, f.ed.public_key), JwtError::AlgMismatch);
}

TEST_CASE("an EdDSA token naming an HS256 key is AlgMismatch") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"hs-1"})")),
                  JwtError::AlgMismatch);
}

TEST_CASE("a kid that names no key is rejected (SPEC §8.6)") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"ed-2"})")),
                  JwtError::UnknownKid);
  CHECK(f.asked == std::vector<std::string>{"ed-2"});
}

TEST_CASE("a token without a usable kid is rejected before any key lookup") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt"})")),
                  JwtError::MissingKid);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":""})")),
                  JwtError::MissingKid);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":1})")),
                  JwtError::MissingKid);
  CHECK(f.asked.empty());
}

TEST_CASE("typ JWT is rejected for an access token (RFC 9068 §4)") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"JWT","kid":"ed-1"})")),
                  JwtError::BadType);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","kid":"ed-1"})")), JwtError::BadType);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":["at+jwt"],"kid":"ed-1"})")),
                  JwtError::BadType);
}

TEST_CASE("typ at+jwt and application/at+jwt are accepted in any case (RFC 9068 §2.1, RFC 7515 §4.1.9)") {
  Fixture f;
  for (std::string typ : {"at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"}) {
    CHECK(f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":")" + typ + R"(","kid":"ed-1"})")).ok());
  }
}

TEST_CASE("a crit header is refused, since no extension is understood (RFC 7515 §4.1.11)") {
  Fixture f;
  CHECK_JWT_ERROR(
      f.verify(
          f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"ed-1","crit":["exp"],"exp":1})")),
      JwtError::UnsupportedCrit);
}

TEST_CASE("jku, x5u and jwk headers are ignored: the key comes from our store by kid only (SPEC §5)") {
  Fixture f;
  SystemRandom random;
  Ed25519KeyPair attacker = generate_ed25519(random);
  std::string header = R"({"alg":"EdDSA","typ":"at+jwt","kid":"ed-1",)"
                       R"("jku":"https://attacker.example/jwks.json","x5u":"https://attacker.example/cert",)"
                       R"("jwk":{"kty":"OKP","crv":"Ed25519","x":")" +
                       base64url_encode(attacker.public_key) + R"("}})";
  // Signed by our key: the extra headers change nothing.
  CHECK(f.verify(f.ed_token(claims_json(), header)).ok());
  // Signed by the key the headers point to: still refused.
  CHECK_JWT_ERROR(f.verify(sign_raw(header, claims_json(), JwtAlg::EdDSA, attacker.secret)),
                  JwtError::BadSignature);
  CHECK(f.asked == std::vector<std::string>{"ed-1", "ed-1"});
}

TEST_CASE("a header that repeats a member is rejected (RFC 7515 §4)") {
  Fixture f;
  CHECK_JWT_ERROR(
      f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","alg":"EdDSA","typ":"at+jwt","kid":"ed-1"})")),
      JwtError::DuplicateMember);
  CHECK_JWT_ERROR(
      f.verify(f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"ed-1","kid":"hs-1"})")),
      JwtError::DuplicateMember);
  CHECK(f.asked.empty());
}

TEST_CASE("a header that is not UTF-8 is rejected") {
  Fixture f;
  CHECK_JWT_ERROR(
      f.verify(f.ed_token(claims_json(), "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"ed-\xff\"}")),
      JwtError::NotUtf8);
  CHECK_JWT_ERROR(
      f.verify(f.ed_token(claims_json(), "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"\xc0\xaf\"}")),
      JwtError::NotUtf8);
}

TEST_CASE("a header that is not a JSON object is rejected") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), "[\"EdDSA\"]")), JwtError::BadJson);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), "alg=EdDSA")), JwtError::BadJson);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), "")), JwtError::BadJson);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(), kEdHeader + " {}")), JwtError::BadJson);
}

// --- shape and encoding -----------------------------------------------------

TEST_CASE("a token that is not three dot-separated parts is Malformed (RFC 7515 §7.1)") {
  Fixture f;
  std::string token = f.ed_token(claims_json());
  std::vector<std::string> parts = split(token);
  CHECK_JWT_ERROR(f.verify(""), JwtError::Malformed);
  CHECK_JWT_ERROR(f.verify(parts[0]), JwtError::Malformed);
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1]), JwtError::Malformed);
  CHECK_JWT_ERROR(f.verify(token + "." + parts[2]), JwtError::Malformed);
  CHECK_JWT_ERROR(f.verify(token + "."), JwtError::Malformed);
}

TEST_CASE("a token longer than 8 KiB is Malformed before any decoding") {
  Fixture f;
  std::string token = f.ed_token(claims_json(R"(,"pad":")" + std::string(8 * 1024, 'x') + "\""));
  CHECK_JWT_ERROR(f.verify(token), JwtError::Malformed);
  CHECK_JWT_ERROR(verify_jws(std::string(9000, 'A'), JwtAlg::EdDSA, f.ed.public_key), JwtError::Malformed);
  CHECK(f.asked.empty());
}

TEST_CASE("a part with base64 padding is BadBase64 (RFC 7515 §2)") {
  Fixture f;
  std::vector<std::string> parts = split(f.ed_token(claims_json()));
  std::string padded = parts[0];
  while (padded.size() % 4 != 0) padded += "=";
  REQUIRE(padded != parts[0]);
  CHECK_JWT_ERROR(f.verify(padded + "." + parts[1] + "." + parts[2]), JwtError::BadBase64);
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + "." + parts[2] + "=="), JwtError::BadBase64);
}

TEST_CASE("a signature with non-canonical trailing bits is BadBase64, not a second valid encoding") {
  Fixture f;
  std::vector<std::string> parts = split(f.ed_token(claims_json()));
  // 64 signature bytes are 86 characters whose last one carries 2 bits and 4 zero bits.
  std::string signature = parts[2];
  REQUIRE(signature.size() == 86);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t last = alphabet.find(signature.back());
  REQUIRE((last & 0x0F) == 0);
  signature.back() = alphabet[last | 0x01];
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + "." + signature), JwtError::BadBase64);
}

TEST_CASE("a part with whitespace or standard-base64 characters is BadBase64") {
  Fixture f;
  std::vector<std::string> parts = split(f.ed_token(claims_json()));
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + " ." + parts[2]), JwtError::BadBase64);
  CHECK_JWT_ERROR(f.verify(parts[0] + "\n." + parts[1] + "." + parts[2]), JwtError::BadBase64);
  std::string standard = parts[2];
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != parts[2]) {
    CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + "." + standard), JwtError::BadBase64);
  }
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + ".+/+/"), JwtError::BadBase64);
}

// --- signature --------------------------------------------------------------

TEST_CASE("a token signed by another key under a known kid is BadSignature") {
  Fixture f;
  SystemRandom random;
  Ed25519KeyPair other = generate_ed25519(random);
  CHECK_JWT_ERROR(f.verify(sign_raw(kEdHeader, claims_json(), JwtAlg::EdDSA, other.secret)),
                  JwtError::BadSignature);
  CHECK_JWT_ERROR(f.verify(sign_raw(kHsHeader, claims_json(), JwtAlg::HS256, random.bytes(32))),
                  JwtError::BadSignature);
}

TEST_CASE("a token with its signature stripped or swapped is BadSignature") {
  Fixture f;
  std::string token = f.ed_token(claims_json());
  std::vector<std::string> parts = split(token);
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + "."), JwtError::BadSignature);
  std::string other = f.ed_token(claims_json(R"(,"extra":1)"));
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + parts[1] + "." + split(other)[2]), JwtError::BadSignature);
}

TEST_CASE("claims are not read before the signature checks out") {
  Fixture f;
  // Expired, wrong issuer and not even JSON: all hidden behind a bad signature.
  std::vector<std::string> parts = split(f.ed_token(claims_json()));
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + base64url_encode("{\"exp\":1}") + "." + parts[2]),
                  JwtError::BadSignature);
  CHECK_JWT_ERROR(f.verify(parts[0] + "." + base64url_encode("not json") + "." + parts[2]),
                  JwtError::BadSignature);
}

TEST_CASE("an HS256 key shorter than 256 bits never verifies (RFC 7518 §3.2)") {
  Bytes short_key(16, 'k');
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  std::string input = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode("{}");
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(short_key.data()),
                              short_key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  crypto_auth_hmacsha256_final(&state, mac);
  std::string token = input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), sizeof mac));
  CHECK_JWT_ERROR(verify_jws(token, JwtAlg::HS256, short_key), JwtError::BadSignature);
  CHECK_JWT_ERROR(verify_jws(token, JwtAlg::HS256, ""), JwtError::BadSignature);
  CHECK_THROWS(sign_access_token(sample_claims(), SigningKey{"k", JwtAlg::HS256, short_key}));
}

// --- payload and claims -----------------------------------------------------

TEST_CASE("a signed payload that repeats a member is rejected") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(R"(,"sub":"admin")"))), JwtError::DuplicateMember);
}

TEST_CASE("a signed payload that is not UTF-8 or not a JSON object is rejected") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(",\"name\":\"\xfe\""))), JwtError::NotUtf8);
  CHECK_JWT_ERROR(f.verify(f.ed_token("[1,2,3]")), JwtError::BadJson);
  CHECK_JWT_ERROR(f.verify(f.ed_token("Example of Ed25519 signing")), JwtError::BadJson);
}

TEST_CASE("a token without exp is rejected (RFC 9068 §2.2)") {
  Fixture f;
  std::string payload = R"({"iss":")" + kIssuer + R"(","aud":")" + kAudience + R"(","sub":"u"})";
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload)), JwtError::MissingExp);
}

TEST_CASE("an expired token is rejected beyond the 60 s leeway (RFC 7519 §4.1.4)") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json("", kNow - 61))), JwtError::Expired);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json("", kNow - 60))), JwtError::Expired);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json("", kNow - 86400))), JwtError::Expired);
}

TEST_CASE("a token expired by less than the 60 s leeway is still accepted (RFC 7519 §4.1.4)") {
  Fixture f;
  CHECK(f.verify(f.ed_token(claims_json("", kNow - 59))).ok());
  CHECK(f.verify(f.ed_token(claims_json("", kNow - 30))).ok());
  CHECK(f.verify(f.ed_token(claims_json("", kNow))).ok());
}

TEST_CASE("expiry follows the injected clock, and the leeway is configurable") {
  Fixture f;
  ManualClock clock(kNow);
  std::string token = f.ed_token(claims_json("", kNow + 900));
  JwtVerifyOptions options = f.options();
  options.now = clock.now();
  CHECK(verify_access_token(token, f.lookup(), options).ok());
  clock.advance(900 + 59);
  options.now = clock.now();
  CHECK(verify_access_token(token, f.lookup(), options).ok());
  options.leeway = 0;
  CHECK_JWT_ERROR(verify_access_token(token, f.lookup(), options), JwtError::Expired);
}

TEST_CASE("a token used before nbf, beyond the leeway, is rejected (RFC 7519 §4.1.5)") {
  Fixture f;
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(",\"nbf\":" + std::to_string(kNow + 61)))),
                  JwtError::NotYetValid);
  CHECK_JWT_ERROR(f.verify(f.ed_token(claims_json(",\"nbf\":" + std::to_string(kNow + 3600)))),
                  JwtError::NotYetValid);
  CHECK(f.verify(f.ed_token(claims_json(",\"nbf\":" + std::to_string(kNow + 60)))).ok());
  CHECK(f.verify(f.ed_token(claims_json(",\"nbf\":" + std::to_string(kNow - 10)))).ok());
}

TEST_CASE("a token from another issuer, or none, is rejected (RFC 9068 §4)") {
  Fixture f;
  std::string payload = claims_json();
  std::string wrong = payload;
  wrong.replace(wrong.find(kIssuer), kIssuer.size(), "https://evil.example.com");
  CHECK_JWT_ERROR(f.verify(f.ed_token(wrong)), JwtError::WrongIssuer);
  std::string prefix = payload;
  prefix.replace(prefix.find(kIssuer), kIssuer.size(), kIssuer + "/");
  CHECK_JWT_ERROR(f.verify(f.ed_token(prefix)), JwtError::WrongIssuer);
  std::string missing = R"({"aud":")" + kAudience + R"(","exp":)" + std::to_string(kNow + 900) + "}";
  CHECK_JWT_ERROR(f.verify(f.ed_token(missing)), JwtError::WrongIssuer);
}

TEST_CASE("a token for another audience is rejected, and aud may be a string or an array (RFC 7519 §4.1.3)") {
  Fixture f;
  auto with_aud = [&](const std::string& aud) {
    return R"({"iss":")" + kIssuer + R"(","aud":)" + aud + R"(,"exp":)" + std::to_string(kNow + 900) + "}";
  };
  CHECK_JWT_ERROR(f.verify(f.ed_token(with_aud(R"("https://other.example.com")"))), JwtError::WrongAudience);
  CHECK_JWT_ERROR(f.verify(f.ed_token(with_aud(R"(["https://other.example.com"])"))),
                  JwtError::WrongAudience);
  CHECK_JWT_ERROR(f.verify(f.ed_token(with_aud("[]"))), JwtError::WrongAudience);
  CHECK(f.verify(f.ed_token(with_aud("\"" + kAudience + "\""))).ok());
  auto both = f.verify(f.ed_token(with_aud(R"(["https://other.example.com",")" + kAudience + "\"]")));
  REQUIRE(both.ok());
  CHECK(both->aud.size() == 2);

  std::string no_aud = R"({"iss":")" + kIssuer + R"(","exp":)" + std::to_string(kNow + 900) + "}";
  CHECK_JWT_ERROR(f.verify(f.ed_token(no_aud)), JwtError::WrongAudience);
}

TEST_CASE("with no audience configured, any audience is accepted") {
  Fixture f;
  JwtVerifyOptions options = f.options();
  options.audience.clear();
  std::string payload = R"({"iss":")" + kIssuer + R"(","aud":"https://anything.example","exp":)" +
                        std::to_string(kNow + 900) + "}";
  CHECK(verify_access_token(f.ed_token(payload), f.lookup(), options).ok());
}

TEST_CASE("claims of the wrong JSON type are BadClaims") {
  Fixture f;
  auto payload = [&](const std::string& exp, const std::string& extra = "") {
    return R"({"iss":")" + kIssuer + R"(","aud":")" + kAudience + R"(","exp":)" + exp + extra + "}";
  };
  const std::string exp = std::to_string(kNow + 900);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload("\"" + exp + "\""))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload(exp + ".5"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload("1e300"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload("null"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload(exp, R"(,"nbf":"soon")"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload(exp, R"(,"sub":42)"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload(exp, R"(,"scope":["read"])"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(payload(exp, R"(,"iat":1.25)"))), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(R"({"iss":1,"exp":)" + exp + "}")), JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(R"({"iss":")" + kIssuer + R"(","aud":["a",1],"exp":)" + exp + "}")),
                  JwtError::BadClaims);
  CHECK_JWT_ERROR(f.verify(f.ed_token(R"({"iss":")" + kIssuer + R"(","aud":{},"exp":)" + exp + "}")),
                  JwtError::BadClaims);
  // Integral numbers written as floats are still integers.
  CHECK(f.verify(f.ed_token(payload(exp + ".0"))).ok());
}

TEST_CASE("every JwtError is reachable, and each has its own description") {
  Fixture f;
  std::vector<std::string> parts = split(f.ed_token(claims_json()));
  const std::string exp = std::to_string(kNow + 900);
  const std::map<JwtError, std::string> tokens = {
      {JwtError::Malformed, parts[0] + "." + parts[1]},
      {JwtError::BadBase64, parts[0] + "=." + parts[1] + "." + parts[2]},
      {JwtError::BadJson, f.ed_token(claims_json(), "[]")},
      {JwtError::NotUtf8, f.ed_token(claims_json(), "{\"alg\":\"\xff\"}")},
      {JwtError::DuplicateMember, f.ed_token(claims_json(), R"({"alg":"EdDSA","alg":"none"})")},
      {JwtError::AlgNone, f.ed_token(claims_json(), R"({"alg":"none"})")},
      {JwtError::UnsupportedAlg, f.ed_token(claims_json(), R"({"alg":"RS256"})")},
      {JwtError::BadType, f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"JWT","kid":"ed-1"})")},
      {JwtError::MissingKid, f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt"})")},
      {JwtError::UnknownKid, f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"x"})")},
      {JwtError::AlgMismatch, f.ed_token(claims_json(), R"({"alg":"EdDSA","typ":"at+jwt","kid":"hs-1"})")},
      {JwtError::UnsupportedCrit, f.ed_token(claims_json(), R"({"alg":"EdDSA","crit":["b64"],"b64":false})")},
      {JwtError::BadSignature, parts[0] + "." + base64url_encode(claims_json(R"(,"x":1)")) + "." + parts[2]},
      {JwtError::MissingExp, f.ed_token(R"({"iss":")" + kIssuer + "\"}")},
      {JwtError::Expired, f.ed_token(claims_json("", kNow - 61))},
      {JwtError::NotYetValid, f.ed_token(claims_json(",\"nbf\":" + std::to_string(kNow + 61)))},
      {JwtError::WrongIssuer, f.ed_token(R"({"iss":"x","exp":)" + exp + "}")},
      {JwtError::WrongAudience, f.ed_token(R"({"iss":")" + kIssuer + R"(","aud":"x","exp":)" + exp + "}")},
      {JwtError::BadClaims, f.ed_token(R"({"exp":"tomorrow"})")},
  };
  CHECK(tokens.size() == static_cast<size_t>(JwtError::BadClaims) + 1);
  std::set<std::string> descriptions;
  for (const auto& [expected, token] : tokens) {
    INFO(describe(expected));
    CHECK_JWT_ERROR(f.verify(token), expected);
    descriptions.insert(describe(expected));
  }
  CHECK(descriptions.size() == tokens.size());
}

// --- keys -------------------------------------------------------------------

TEST_CASE("generate_ed25519 makes a 32-byte public key and a 64-byte seed || public secret") {
  SystemRandom random;
  Ed25519KeyPair pair = generate_ed25519(random);
  CHECK(pair.public_key.size() == 32);
  CHECK(pair.secret.size() == 64);
  CHECK(pair.secret.substr(32) == pair.public_key);
  CHECK(generate_ed25519(random).public_key != pair.public_key);
}

TEST_CASE("the public JWK of an EdDSA key is an OKP Ed25519 key (RFC 8037 §2)") {
  VerificationKey key{"ed-1", JwtAlg::EdDSA, b64(kRfc8037PublicX)};
  auto jwk = public_jwk(key);
  REQUIRE(jwk);
  CHECK(jwk->at("kty").get<std::string>() == "OKP");
  CHECK(jwk->at("crv").get<std::string>() == "Ed25519");
  CHECK(jwk->at("x").get<std::string>() == kRfc8037PublicX);
  CHECK(jwk->at("kid").get<std::string>() == "ed-1");
  CHECK(jwk->at("alg").get<std::string>() == "EdDSA");
  CHECK(jwk->at("use").get<std::string>() == "sig");
  CHECK(jwk->count("d") == 0);
}

TEST_CASE("an HS256 key is secret and has no public JWK") {
  CHECK_FALSE(public_jwk(VerificationKey{"hs-1", JwtAlg::HS256, Bytes(32, 'k')}));
}

TEST_CASE("alg names parse exactly and round-trip") {
  for (JwtAlg alg : {JwtAlg::EdDSA, JwtAlg::HS256}) CHECK(parse_jwt_alg(jwt_alg_name(alg)) == alg);
  CHECK_FALSE(parse_jwt_alg("none"));
  CHECK_FALSE(parse_jwt_alg("hs256"));
  CHECK_FALSE(parse_jwt_alg(""));
}
