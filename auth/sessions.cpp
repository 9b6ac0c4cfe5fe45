#include "auth/sessions.h"

#include "auth/base64url.h"

namespace plugauth {

namespace {
constexpr uint64_t kCsrfSubkeyId = 1;
}

Sessions::Sessions(store::Store& store, const CryptoKeys& crypto, const Clock& clock, Random& random)
    : store_(store), crypto_(crypto), clock_(clock), random_(random), csrf_key_(crypto.derive(kCsrfSubkeyId)) {}

std::string Sessions::create(const std::string& user_id) {
  auto minted = crypto_.mint_token(TokenType::Session, random_);
  const int64_t now = clock_.now();
  store_.insert_session({minted.id, minted.hash, user_id, now, now + kLifetimeSeconds});
  return minted.token;
}

std::optional<store::SessionRecord> Sessions::live(const std::string& cookie) const {
  if (cookie.empty()) return std::nullopt;
  auto parsed = crypto_.parse_token(cookie);
  if (!parsed || parsed->type != TokenType::Session) return std::nullopt;
  auto session = store_.find_session(parsed->id);
  if (!session || session->expires_at <= clock_.now() ||
      !constant_time_equal(session->token_hash, crypto_.hash_secret(cookie)))
    return std::nullopt;
  return session;
}

std::optional<store::UserRecord> Sessions::resolve(const std::string& cookie) const {
  auto session = live(cookie);
  if (!session) return std::nullopt;
  return store_.find_user_by_id(session->user_id);
}

std::optional<int64_t> Sessions::password_entered_at(const std::string& cookie) const {
  auto session = live(cookie);
  if (!session) return std::nullopt;
  return session->authenticated_at;
}

void Sessions::password_entered(const std::string& cookie) {
  if (auto session = live(cookie)) store_.set_session_authenticated(session->session_id, clock_.now());
}

void Sessions::destroy(const std::string& cookie) {
  if (auto parsed = crypto_.parse_token(cookie); parsed && parsed->type == TokenType::Session)
    store_.delete_session(parsed->id);
}

std::string Sessions::new_pre_session_cookie() { return base64url_encode(random_.bytes(24)); }

}  // namespace plugauth
