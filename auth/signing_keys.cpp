#include "auth/signing_keys.h"

#include <sodium.h>

#include "auth/base64url.h"

namespace plugauth {
namespace {

std::string seal_context(const std::string& kid) { return "signing-key:" + kid; }

}  // namespace

SigningKeys::SigningKeys(store::Store& store, const CryptoKeys& crypto, Random& random, const Clock& clock,
                         SigningKeyPolicy policy)
    : store_(store), crypto_(crypto), random_(random), clock_(clock), policy_(policy),
      snapshot_(std::make_shared<Snapshot>()) {}

auto SigningKeys::load_snapshot() const -> Result<std::shared_ptr<const Snapshot>> {
  auto snap = std::make_shared<Snapshot>();
  for (const auto& row : store_.signing_keys(clock_.now())) {
    auto alg = parse_jwt_alg(row.alg);
    if (!alg) return make_error("signing key " + row.kid + " has unknown alg " + row.alg);
    auto secret = crypto_.open(row.secret_sealed, seal_context(row.kid));
    if (!secret) {
      return make_error("signing key " + row.kid +
                        " cannot be unsealed: the master key differs from the one that sealed it");
    }
    Entry e;
    e.info = SigningKeyInfo{row.kid, row.alg, row.created_at, row.retired_at, row.expires_at, false, false};
    e.sign = SigningKey{row.kid, *alg, *secret};
    e.verify = VerificationKey{row.kid, *alg, *alg == JwtAlg::EdDSA ? row.public_key : *secret};
    snap->entries.push_back(std::move(e));
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::shared_ptr<const SigningKeys::Snapshot> SigningKeys::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

Status SigningKeys::reload() {
  auto snap = load_snapshot();
  if (!snap) return snap.error();
  std::lock_guard lock(mu_);
  snapshot_ = std::move(snap.value());
  return ok_status();
}

auto SigningKeys::signing_entry(const Snapshot& snap, int64_t now) -> const Entry* {
  for (const auto& e : snap.entries) {
    if (e.info.created_at > now) continue;  // pending
    if (e.info.retired_at && *e.info.retired_at <= now) continue;
    return &e;
  }
  return nullptr;
}

Result<std::string> SigningKeys::rotate() {
  if (auto st = reload(); !st) return st.error();
  const int64_t now = clock_.now();
  // With no key signing (a fresh installation) no token can carry a kid a
  // verifier does not know yet, and waiting would only leave nothing to sign with.
  return rotate_at(signing_entry(*snapshot(), now) != nullptr ? now + kPublishLead : now);
}

Result<std::string> SigningKeys::rotate_at(int64_t activate_at) {
  const int64_t now = clock_.now();
  store::StoredSigningKey fresh;
  fresh.kid = base64url_encode(random_.bytes(12));
  fresh.alg = jwt_alg_name(policy_.alg);
  fresh.created_at = activate_at;
  if (policy_.alg == JwtAlg::EdDSA) {
    auto pair = generate_ed25519(random_);
    fresh.public_key = pair.public_key;
    fresh.secret_sealed = crypto_.seal(pair.secret, seal_context(fresh.kid), random_);
    sodium_memzero(pair.secret.data(), pair.secret.size());
  } else {
    std::string secret = random_.bytes(32);
    fresh.secret_sealed = crypto_.seal(secret, seal_context(fresh.kid), random_);
    sodium_memzero(secret.data(), secret.size());
  }
  // The keys that sign until then (the current one, and a pending one of an
  // earlier rotation) stop at activate_at and verify every token they signed:
  // those expire within access_token_ttl (plus the verifier's leeway).
  store_.rotate_signing_key(fresh, activate_at, activate_at + policy_.access_token_ttl + policy_.leeway);
  store_.delete_expired_signing_keys(now);
  if (auto st = reload(); !st) return st.error();
  return fresh.kid;
}

Result<std::string> SigningKeys::ensure_current() {
  if (auto st = reload(); !st) return st.error();
  auto snap = snapshot();
  const int64_t now = clock_.now();
  const Entry* signing = signing_entry(*snap, now);
  if (signing == nullptr) return rotate_at(now);  // nothing signs: no verifier can have cached anything newer
  for (const auto& e : snap->entries)
    if (e.info.created_at > now) return std::string();  // a rotation is under way
  if (signing->sign.alg == policy_.alg && now - signing->info.created_at < policy_.rotation_period)
    return std::string();
  return rotate_at(now + kPublishLead);
}

std::optional<SigningKey> SigningKeys::current_signer() const {
  const auto snap = snapshot();
  const Entry* e = signing_entry(*snap, clock_.now());
  if (e == nullptr) return std::nullopt;
  return e->sign;
}

std::optional<VerificationKey> SigningKeys::find(std::string_view kid) const {
  auto snap = snapshot();
  const int64_t now = clock_.now();
  for (const auto& e : snap->entries) {
    if (e.info.kid != kid) continue;
    if (e.info.expires_at && *e.info.expires_at <= now) return std::nullopt;
    return e.verify;
  }
  return std::nullopt;
}

std::vector<SigningKeyInfo> SigningKeys::list() const {
  std::vector<SigningKeyInfo> out;
  const auto snap = snapshot();  // held: reload() may replace it meanwhile
  const int64_t now = clock_.now();
  const Entry* signing = signing_entry(*snap, now);
  for (const auto& e : snap->entries) {
    out.push_back(e.info);
    out.back().current = &e == signing;
    out.back().pending = e.info.created_at > now;
  }
  return out;
}

picojson::value SigningKeys::jwks() const {
  picojson::array keys;
  const int64_t now = clock_.now();
  // Held for the loop: `for (… : snapshot()->entries)` would destroy the
  // temporary shared_ptr before the loop ran, and reload() on the
  // housekeeper thread could free the entries mid-iteration.
  const auto snap = snapshot();
  for (const auto& e : snap->entries) {
    if (e.info.expires_at && *e.info.expires_at <= now) continue;
    if (auto jwk = public_jwk(e.verify)) keys.emplace_back(*jwk);
  }
  picojson::object doc;
  doc["keys"] = picojson::value(std::move(keys));
  return picojson::value(std::move(doc));
}

}  // namespace plugauth
