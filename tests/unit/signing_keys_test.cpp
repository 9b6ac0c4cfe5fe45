// Signing keys (SPEC §5) over a real Store file, a random master key and a
// ManualClock that the tests move instead of sleeping.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/unit/temp_dir.h"
#include "auth/base64url.h"
#include "auth/crypto.h"
#include "auth/jwt.h"
#include "auth/signing_keys.h"
#include "common/clock.h"
#include "store/store.h"

using plugauth::AccessTokenClaims;
using plugauth::CryptoKeys;
using plugauth::JwtAlg;
using plugauth::ManualClock;
using plugauth::SecretKey;
using plugauth::SigningKeyPolicy;
using plugauth::SigningKeys;
using plugauth::SystemRandom;
using plugauth::kJwksMaxAge;
using plugauth::kPublishLead;
using plugauth::store::Store;

namespace {

constexpr int64_t kStart = 1'700'000'000;

using plugauth::testing::TempDir;

std::unique_ptr<Store> open_store(const std::string& path) {
  auto s = Store::open(path);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.ok());
  return std::move(s.value());
}

SecretKey random_master(SystemRandom& random) {
  REQUIRE(plugauth::crypto_init());
  return SecretKey(random.bytes(SecretKey::kSize));
}

// One process's view of the database: its own connection, master key and keys.
struct Node {
  Node(const std::string& db, SecretKey key, ManualClock& clock, SigningKeyPolicy policy = {})
      : store(open_store(db)), master(std::move(key)), crypto(master), keys(*store, crypto, random, clock, policy) {}
  SystemRandom random;
  std::unique_ptr<Store> store;
  SecretKey master;
  CryptoKeys crypto;
  SigningKeys keys;
};

std::string ok_value(plugauth::Result<std::string> r) {
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return r.value();
}

std::vector<std::string> jwks_kids(const SigningKeys& keys) {
  std::vector<std::string> out;
  const picojson::value doc = keys.jwks();
  for (const auto& k : doc.get("keys").get<picojson::array>()) out.push_back(k.get("kid").to_str());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

AccessTokenClaims claims_at(int64_t now) {
  AccessTokenClaims c;
  c.iss = "http://127.0.0.1:7070";
  c.sub = "user-1";
  c.aud = {"http://127.0.0.1:7070"};
  c.client_id = "client-1";
  c.scope = "read";
  c.jti = "jti-" + std::to_string(now);
  c.iat = now;
  c.exp = now + 900;
  return c;
}

plugauth::JwtVerifyOptions verify_at(int64_t now) {
  plugauth::JwtVerifyOptions o;
  o.issuer = "http://127.0.0.1:7070";
  o.audience = "http://127.0.0.1:7070";
  o.now = now;
  return o;
}

plugauth::KeyLookup lookup(const SigningKeys& keys) {
  return [&keys](std::string_view kid) { return keys.find(kid); };
}

}  // namespace

TEST_CASE("ensure_current creates one key on an empty database and keeps it on the next call") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  Node node(dir.file("plugauth.db"), random_master(random), clock);

  CHECK(node.keys.list().empty());
  CHECK_FALSE(node.keys.current_signer());

  const std::string kid = ok_value(node.keys.ensure_current());
  REQUIRE_FALSE(kid.empty());
  auto listed = node.keys.list();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].kid == kid);
  CHECK(listed[0].alg == "EdDSA");
  CHECK(listed[0].created_at == kStart);
  CHECK(listed[0].current);
  CHECK_FALSE(listed[0].retired_at);
  REQUIRE(node.keys.current_signer());
  CHECK(node.keys.current_signer()->kid == kid);
  CHECK(node.keys.current_signer()->alg == JwtAlg::EdDSA);

  clock.advance(3600);
  CHECK(ok_value(node.keys.ensure_current()).empty());
  REQUIRE(node.keys.list().size() == 1);
  CHECK(node.keys.list()[0].kid == kid);
  CHECK(node.store->signing_keys(clock.now()).size() == 1);
}

TEST_CASE("ensure_current rotates once the current key is as old as the rotation period") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  SigningKeyPolicy policy;
  Node node(dir.file("plugauth.db"), random_master(random), clock, policy);

  const std::string first = ok_value(node.keys.ensure_current());
  clock.advance(policy.rotation_period - 1);
  CHECK(ok_value(node.keys.ensure_current()).empty());

  clock.advance(1);
  const int64_t rotated_at = clock.now();
  const std::string second = ok_value(node.keys.ensure_current());
  REQUIRE_FALSE(second.empty());
  CHECK(second != first);
  auto listed = node.keys.list();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].kid == second);
  CHECK(listed[0].pending);
  CHECK_FALSE(listed[0].current);
  CHECK(listed[0].created_at == rotated_at + kPublishLead);
  CHECK(listed[1].kid == first);
  CHECK(listed[1].current);  // signs until the new key is in every JWKS cache
  CHECK(listed[1].retired_at == rotated_at + kPublishLead);
  CHECK(listed[1].expires_at == rotated_at + kPublishLead + policy.access_token_ttl + policy.leeway);
  CHECK(node.keys.current_signer()->kid == first);

  // Nothing more while the rotation is under way.
  clock.advance(kPublishLead - 1);
  CHECK(ok_value(node.keys.ensure_current()).empty());
  CHECK(node.keys.current_signer()->kid == first);
  clock.advance(1);
  CHECK(node.keys.current_signer()->kid == second);
  listed = node.keys.list();
  CHECK(listed[0].current);
  CHECK_FALSE(listed[0].pending);
  CHECK_FALSE(listed[1].current);
  CHECK(ok_value(node.keys.ensure_current()).empty());
}

TEST_CASE("a rotation publishes the next key in JWKS longer before it signs than JWKS may be cached") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  Node node(dir.file("plugauth.db"), random_master(random), clock);
  const std::string first = ok_value(node.keys.ensure_current());
  clock.advance(1000);

  // A verifier fetches JWKS just before the rotation and keeps it kJwksMaxAge.
  const auto cached = jwks_kids(node.keys);
  const int64_t cached_until = clock.now() + kJwksMaxAge;
  const std::string next = ok_value(node.keys.rotate());
  CHECK(has(jwks_kids(node.keys), next));  // published at once
  CHECK(has(jwks_kids(node.keys), first));
  STATIC_REQUIRE(kPublishLead > kJwksMaxAge);
  // Every token signed while its copy is fresh has a kid it knows.
  for (int64_t t = clock.now(); t < cached_until; t += 10) {
    clock.set(t);
    CHECK(has(cached, node.keys.current_signer()->kid));
  }
  clock.set(clock.now() + kPublishLead);
  CHECK(node.keys.current_signer()->kid == next);
}

TEST_CASE("a second rotation while one is pending publishes its key as long before it signs") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  Node node(dir.file("plugauth.db"), random_master(random), clock);
  const std::string first = ok_value(node.keys.ensure_current());
  clock.advance(10);
  const std::string second = ok_value(node.keys.rotate());
  clock.advance(100);
  const int64_t third_at = clock.now();
  const std::string third = ok_value(node.keys.rotate());
  // `second` now signs only from its own start until third's: never before
  // it was published for kPublishLead.
  clock.advance(kPublishLead - 100);
  CHECK(node.keys.current_signer()->kid == second);
  clock.set(third_at + kPublishLead - 1);
  CHECK(node.keys.current_signer()->kid == second);
  clock.set(third_at + kPublishLead);
  CHECK(node.keys.current_signer()->kid == third);
  for (const auto& kid : {first, second, third}) CHECK(node.keys.find(kid));
}

TEST_CASE("a rotated-out key keeps verifying and stays in JWKS until retired_at + access_token_ttl + leeway") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  SigningKeyPolicy policy;
  policy.access_token_ttl = 900;
  policy.leeway = 60;
  Node node(dir.file("plugauth.db"), random_master(random), clock, policy);

  const std::string old_kid = ok_value(node.keys.ensure_current());
  clock.advance(100);
  const int64_t retired_at = clock.now() + kPublishLead;
  const std::string new_kid = ok_value(node.keys.rotate());
  REQUIRE(new_kid != old_kid);
  clock.set(retired_at);
  CHECK(node.keys.current_signer()->kid == new_kid);

  REQUIRE(node.keys.find(old_kid));
  CHECK(node.keys.find(old_kid)->alg == JwtAlg::EdDSA);
  REQUIRE(node.keys.find(new_kid));
  CHECK(has(jwks_kids(node.keys), old_kid));
  CHECK(has(jwks_kids(node.keys), new_kid));

  clock.set(retired_at + 900 + 60 - 1);
  CHECK(node.keys.find(old_kid));
  CHECK(has(jwks_kids(node.keys), old_kid));

  clock.set(retired_at + 900 + 60);
  CHECK_FALSE(node.keys.find(old_kid));
  CHECK_FALSE(has(jwks_kids(node.keys), old_kid));
  CHECK(has(jwks_kids(node.keys), new_kid));
  REQUIRE(node.keys.reload().ok());
  CHECK(node.keys.list().size() == 1);
  CHECK_FALSE(node.keys.find(old_kid));

  // The next rotation deletes the expired row from the database.
  ok_value(node.keys.rotate());
  for (const auto& row : node.store->signing_keys(0)) CHECK(row.kid != old_kid);
  CHECK(node.store->signing_keys(0).size() == 2);
}

TEST_CASE("JWKS publishes public EdDSA keys only: no private member, no HS256 secret") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  const std::string db = dir.file("plugauth.db");
  SecretKey master = random_master(random);
  const std::string master_bytes(reinterpret_cast<const char*>(master.data()), SecretKey::kSize);

  std::string eddsa_kid;
  {
    Node node(db, SecretKey(master_bytes), clock);
    eddsa_kid = ok_value(node.keys.ensure_current());
    clock.advance(10);
    ok_value(node.keys.rotate());
    clock.advance(kPublishLead);
  }
  // The operator switches token_alg to HS256: the EdDSA key is retired and
  // an HS256 key becomes current.
  SigningKeyPolicy hs;
  hs.alg = JwtAlg::HS256;
  Node node(db, SecretKey(master_bytes), clock, hs);
  clock.advance(10);
  const std::string hs_kid = ok_value(node.keys.ensure_current());
  REQUIRE_FALSE(hs_kid.empty());
  REQUIRE(node.keys.list().size() == 3);
  clock.advance(kPublishLead);
  CHECK(node.keys.current_signer()->kid == hs_kid);

  const auto doc = node.keys.jwks();
  const auto& keys = doc.get("keys").get<picojson::array>();
  CHECK(keys.size() == 2);
  for (const auto& k : keys) {
    const auto& o = k.get<picojson::object>();
    INFO(k.serialize());
    CHECK(o.count("d") == 0);
    CHECK(o.count("k") == 0);
    CHECK(o.at("kty").to_str() == "OKP");
    CHECK(o.at("crv").to_str() == "Ed25519");
    CHECK(o.at("alg").to_str() == "EdDSA");
    CHECK(o.at("use").to_str() == "sig");
    CHECK(o.at("kid").to_str() != hs_kid);
    auto x = plugauth::base64url_decode(o.at("x").to_str());
    REQUIRE(x);
    CHECK(x->size() == 32);
    CHECK(*x == node.keys.find(o.at("kid").to_str())->key);
  }
  CHECK(has(jwks_kids(node.keys), eddsa_kid));
  CHECK_FALSE(has(jwks_kids(node.keys), hs_kid));
}

TEST_CASE("the HS256 policy creates an HS256 key with a 32-byte secret that is sealed at rest") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  SigningKeyPolicy policy;
  policy.alg = JwtAlg::HS256;
  Node node(dir.file("plugauth.db"), random_master(random), clock, policy);

  const std::string kid = ok_value(node.keys.ensure_current());
  auto signer = node.keys.current_signer();
  REQUIRE(signer);
  CHECK(signer->kid == kid);
  CHECK(signer->alg == JwtAlg::HS256);
  CHECK(signer->secret.size() == 32);
  REQUIRE(node.keys.list().size() == 1);
  CHECK(node.keys.list()[0].alg == "HS256");
  auto verify = node.keys.find(kid);
  REQUIRE(verify);
  CHECK(verify->alg == JwtAlg::HS256);
  CHECK(verify->key == signer->secret);
  CHECK(node.keys.jwks().get("keys").get<picojson::array>().empty());

  auto rows = node.store->signing_keys(clock.now());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].alg == "HS256");
  CHECK(rows[0].public_key.empty());
  CHECK(rows[0].secret_sealed.find(signer->secret) == std::string::npos);
}

TEST_CASE("an EdDSA private key is sealed at rest and the stored public key matches") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  Node node(dir.file("plugauth.db"), random_master(random), clock);
  const std::string kid = ok_value(node.keys.ensure_current());
  auto signer = node.keys.current_signer();
  REQUIRE(signer);
  CHECK(signer->secret.size() == 64);

  auto rows = node.store->signing_keys(clock.now());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].public_key.size() == 32);
  CHECK(rows[0].public_key == signer->secret.substr(32));  // libsodium: seed || public
  CHECK(rows[0].secret_sealed.find(signer->secret.substr(0, 32)) == std::string::npos);
  CHECK(node.keys.find(kid)->key == rows[0].public_key);
}

TEST_CASE("a second SigningKeys on the same file sees a rotation by the first after reload()") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  const std::string db = dir.file("plugauth.db");
  SecretKey master = random_master(random);
  const std::string master_bytes(reinterpret_cast<const char*>(master.data()), SecretKey::kSize);
  Node daemon(db, SecretKey(master_bytes), clock);
  Node cli(db, SecretKey(master_bytes), clock);

  const std::string first = ok_value(daemon.keys.ensure_current());
  CHECK(ok_value(cli.keys.ensure_current()).empty());  // the CLI adopts the daemon's key
  CHECK(cli.keys.current_signer()->kid == first);

  const int64_t version = daemon.store->data_version();
  clock.advance(5);
  const std::string second = ok_value(cli.keys.rotate());  // `plugauth signing-key rotate`
  CHECK(daemon.store->data_version() != version);
  CHECK(daemon.keys.current_signer()->kid == first);  // snapshot until reload
  CHECK_FALSE(daemon.keys.find(second));

  REQUIRE(daemon.keys.reload().ok());
  CHECK(daemon.keys.find(second));  // published at once
  CHECK(daemon.keys.current_signer()->kid == first);
  clock.advance(kPublishLead);  // and signing from then on, without a reload
  CHECK(daemon.keys.current_signer()->kid == second);
  CHECK(daemon.keys.find(second));
  CHECK(daemon.keys.find(first));
  CHECK(daemon.keys.current_signer()->secret == cli.keys.current_signer()->secret);
}

TEST_CASE("keys sealed under another master key make reload() fail, naming the master key") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  const std::string db = dir.file("plugauth.db");
  Node original(db, random_master(random), clock);
  const std::string kid = ok_value(original.keys.ensure_current());

  Node impostor(db, random_master(random), clock);
  auto st = impostor.keys.reload();
  REQUIRE_FALSE(st.ok());
  INFO(st.error().message);
  CHECK(st.error().message.find("master key") != std::string::npos);
  CHECK(st.error().message.find(kid) != std::string::npos);
  CHECK_FALSE(impostor.keys.ensure_current().ok());
  CHECK_FALSE(impostor.keys.current_signer());
  // Nothing was rotated behind the operator's back.
  CHECK(original.store->signing_keys(clock.now()).size() == 1);
}

TEST_CASE("a token signed by current_signer() verifies through find(), also after a rotation") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  const auto alg = GENERATE(JwtAlg::EdDSA, JwtAlg::HS256);
  SigningKeyPolicy policy;
  policy.alg = alg;
  Node node(dir.file("plugauth.db"), random_master(random), clock, policy);
  ok_value(node.keys.ensure_current());

  const auto token = plugauth::sign_access_token(claims_at(clock.now()), *node.keys.current_signer());
  auto verified = plugauth::verify_access_token(token, lookup(node.keys), verify_at(clock.now()));
  REQUIRE(verified.ok());
  CHECK(verified->sub == "user-1");
  CHECK(verified->jti == claims_at(kStart).jti);

  // Rotation: the old token still verifies, new tokens use the new key.
  clock.advance(60);
  ok_value(node.keys.rotate());
  clock.advance(kPublishLead);
  CHECK(plugauth::verify_access_token(token, lookup(node.keys), verify_at(clock.now() - kPublishLead)).ok());
  const auto fresh = plugauth::sign_access_token(claims_at(clock.now()), *node.keys.current_signer());
  CHECK(plugauth::verify_access_token(fresh, lookup(node.keys), verify_at(clock.now())).ok());

  // Once the retired key is gone its tokens no longer verify (unknown kid).
  clock.advance(policy.access_token_ttl + policy.leeway);
  auto stale = plugauth::verify_access_token(token, lookup(node.keys), verify_at(clock.now() - 1000));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error() == plugauth::JwtError::UnknownKid);

  // A token whose kid is unknown to this key set never verifies.
  Node other(dir.file("other.db"), random_master(random), clock, policy);
  ok_value(other.keys.ensure_current());
  const auto foreign = plugauth::sign_access_token(claims_at(clock.now()), *other.keys.current_signer());
  auto refused = plugauth::verify_access_token(foreign, lookup(node.keys), verify_at(clock.now()));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == plugauth::JwtError::UnknownKid);
}

TEST_CASE("rotate() on an installation with no signing key makes one that signs at once") {
  TempDir dir;
  SystemRandom random;
  ManualClock clock(kStart);
  Node node(dir.file("plugauth.db"), random_master(random), clock);
  const std::string kid = ok_value(node.keys.rotate());
  REQUIRE(node.keys.current_signer());
  CHECK(node.keys.current_signer()->kid == kid);
  // serve starting afterwards keeps it.
  CHECK(ok_value(node.keys.ensure_current()).empty());
}
