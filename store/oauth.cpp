// Browser sessions, authorization codes, refresh-token families and the
// access-token ledger. Each multi-step change is one transaction.
#include "store/store_internal.h"

namespace plugauth::store {
namespace {

void insert_family(StatementCache& sql, const GrantFamily& f) {
  auto st = sql("INSERT INTO grant_families (family_id, client_id, user_id, scope, resource, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)");
  st->bind(1, f.family_id);
  st->bind(2, f.client_id);
  sql::bind_opt(*st, 3, f.user_id.empty() ? std::nullopt : std::optional<std::string>(f.user_id));
  st->bind(4, f.scope);
  sql::bind_opt(*st, 5, f.resource.empty() ? std::nullopt : std::optional<std::string>(f.resource));
  st->bind(6, f.created_at);
  st->exec();
}

void insert_access(StatementCache& sql, const AccessTokenRecord& a) {
  auto st = sql("INSERT INTO access_tokens (jti, family_id, client_id, user_id, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)");
  st->bind(1, a.jti);
  sql::bind_opt(*st, 2, a.family_id.empty() ? std::nullopt : std::optional<std::string>(a.family_id));
  st->bind(3, a.client_id);
  sql::bind_opt(*st, 4, a.user_id.empty() ? std::nullopt : std::optional<std::string>(a.user_id));
  st->bind(5, a.issued_at);
  st->bind(6, a.expires_at);
  st->exec();
}

void insert_refresh(StatementCache& sql, const RefreshTokenRecord& r) {
  auto st = sql("INSERT INTO refresh_tokens (token_id, token_hash, family_id, scope, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)");
  st->bind(1, r.token_id);
  sql::bind_blob(*st, 2, r.token_hash);
  st->bind(3, r.family_id);
  st->bind(4, r.scope);
  st->bind(5, r.created_at);
  st->bind(6, r.expires_at);
  st->exec();
}

// The family and everything in it: refresh tokens, unused codes, access tokens.
bool revoke_family_in(SQLite::Database& db, const std::string& family_id, int64_t now, const std::string& reason) {
  SQLite::Statement fam(db,
                        "UPDATE grant_families SET revoked_at = ?, revoke_reason = ?"
                        " WHERE family_id = ? AND revoked_at IS NULL");
  fam.bind(1, now);
  fam.bind(2, reason);
  fam.bind(3, family_id);
  bool changed = fam.exec() == 1;
  for (const char* sql : {"UPDATE refresh_tokens SET revoked_at = ?1 WHERE family_id = ?2 AND revoked_at IS NULL",
                          "UPDATE access_tokens SET revoked_at = ?1 WHERE family_id = ?2 AND revoked_at IS NULL",
                          "UPDATE authorization_codes SET used_at = ?1 WHERE family_id = ?2 AND used_at IS NULL"}) {
    SQLite::Statement st(db, sql);
    st.bind(1, now);
    st.bind(2, family_id);
    st.exec();
  }
  return changed;
}

// Inside the caller's transaction.
int revoke_families_where_in(SQLite::Database& db, const char* column, const std::string& value, int64_t now,
                             const std::string& reason) {
  SQLite::Statement find(db, std::string("SELECT family_id FROM grant_families WHERE revoked_at IS NULL AND ") +
                                 column + " = ?");
  find.bind(1, value);
  std::vector<std::string> ids;
  while (find.executeStep()) ids.push_back(find.getColumn(0).getString());
  for (const auto& id : ids) revoke_family_in(db, id, now, reason);
  SQLite::Statement loose(db, std::string("UPDATE access_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND ") +
                                  column + " = ?");
  loose.bind(1, now);
  loose.bind(2, value);
  loose.exec();
  return static_cast<int>(ids.size());
}

int revoke_families_where(SQLite::Database& db, const char* column, const std::string& value, int64_t now,
                          const std::string& reason) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  int n = revoke_families_where_in(db, column, value, now, reason);
  tx.commit();
  return n;
}

}  // namespace

void Store::insert_session(const SessionRecord& s) {
  with_db("insert_session", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO sessions (session_id, token_hash, user_id, created_at, expires_at,"
                         " authenticated_at) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, s.session_id);
    sql::bind_blob(st, 2, s.token_hash);
    st.bind(3, s.user_id);
    st.bind(4, s.created_at);
    st.bind(5, s.expires_at);
    st.bind(6, s.authenticated_at != 0 ? s.authenticated_at : s.created_at);
    st.exec();
  });
}

std::optional<SessionRecord> Store::find_session(const std::string& session_id) {
  return with_db("find_session", [&](SQLite::Database& db) -> std::optional<SessionRecord> {
    SQLite::Statement st(db,
                         "SELECT session_id, token_hash, user_id, created_at, expires_at,"
                         " COALESCE(authenticated_at, created_at) FROM sessions WHERE session_id = ?");
    st.bind(1, session_id);
    if (!st.executeStep()) return std::nullopt;
    return SessionRecord{st.getColumn(0).getString(), sql::blob(st.getColumn(1)), st.getColumn(2).getString(),
                         st.getColumn(3).getInt64(), st.getColumn(4).getInt64(), st.getColumn(5).getInt64()};
  });
}

void Store::set_session_authenticated(const std::string& session_id, int64_t at) {
  with_db("set_session_authenticated", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE sessions SET authenticated_at = ? WHERE session_id = ?");
    st.bind(1, at);
    st.bind(2, session_id);
    st.exec();
  });
}

void Store::delete_session(const std::string& session_id) {
  with_db("delete_session", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "DELETE FROM sessions WHERE session_id = ?");
    st.bind(1, session_id);
    st.exec();
  });
}

void Store::insert_authorization_code(const AuthorizationCodeRecord& c, const GrantFamily& family) {
  group_write("insert_authorization_code", [&](StatementCache& sql) {
    insert_family(sql, family);
    auto st = sql("INSERT INTO authorization_codes (code_id, code_hash, family_id, client_id, user_id,"
                  " redirect_uri, scope, resource, code_challenge, created_at, expires_at)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st->bind(1, c.code_id);
    sql::bind_blob(*st, 2, c.code_hash);
    st->bind(3, c.family_id);
    st->bind(4, c.client_id);
    st->bind(5, c.user_id);
    st->bind(6, c.redirect_uri);
    st->bind(7, c.scope);
    sql::bind_opt(*st, 8, c.resource.empty() ? std::nullopt : std::optional<std::string>(c.resource));
    sql::bind_opt(*st, 9, c.code_challenge.empty() ? std::nullopt : std::optional<std::string>(c.code_challenge));
    st->bind(10, c.created_at);
    st->bind(11, c.expires_at);
    st->exec();
  });
}

std::optional<AuthorizationCodeRecord> Store::find_authorization_code(const std::string& code_id) {
  return with_db("find_authorization_code", [&](SQLite::Database& db) -> std::optional<AuthorizationCodeRecord> {
    SQLite::Statement st(db,
                         "SELECT code_id, code_hash, family_id, client_id, user_id, redirect_uri, scope,"
                         " COALESCE(resource, ''), COALESCE(code_challenge, ''), created_at, expires_at, used_at"
                         " FROM authorization_codes WHERE code_id = ?");
    st.bind(1, code_id);
    if (!st.executeStep()) return std::nullopt;
    AuthorizationCodeRecord c;
    c.code_id = st.getColumn(0).getString();
    c.code_hash = sql::blob(st.getColumn(1));
    c.family_id = st.getColumn(2).getString();
    c.client_id = st.getColumn(3).getString();
    c.user_id = st.getColumn(4).getString();
    c.redirect_uri = st.getColumn(5).getString();
    c.scope = st.getColumn(6).getString();
    c.resource = st.getColumn(7).getString();
    c.code_challenge = st.getColumn(8).getString();
    c.created_at = st.getColumn(9).getInt64();
    c.expires_at = st.getColumn(10).getInt64();
    c.used_at = sql::opt_int(st.getColumn(11));
    return c;
  });
}

CodeRedemption Store::redeem_authorization_code(const std::string& code_id, int64_t now,
                                                const RefreshTokenRecord* refresh, const AccessTokenRecord& access) {
  CodeRedemption result = CodeRedemption::Redeemed;
  group_write("redeem_authorization_code", [&](StatementCache& sql) {
    auto burn = sql("UPDATE authorization_codes SET used_at = ? WHERE code_id = ? AND used_at IS NULL");
    burn->bind(1, now);
    burn->bind(2, code_id);
    if (burn->exec() != 1) {
      // A second use: revoke everything issued from this code.
      result = CodeRedemption::AlreadyUsed;
      auto fam = sql("SELECT family_id FROM authorization_codes WHERE code_id = ?");
      fam->bind(1, code_id);
      std::string family = fam->executeStep() ? fam->getColumn(0).getString() : "";
      if (!family.empty()) revoke_family_in(sql.db(), family, now, "authorization code replayed");
      return;
    }
    if (refresh) insert_refresh(sql, *refresh);
    insert_access(sql, access);
  });
  return result;
}

std::optional<RefreshTokenRecord> Store::find_refresh_token(const std::string& token_id) {
  return with_reader("find_refresh_token", [&](StatementCache& sql) -> std::optional<RefreshTokenRecord> {
    auto use = sql("SELECT r.token_id, r.token_hash, r.family_id, r.scope, r.created_at, r.expires_at,"
                         " r.rotated_at, COALESCE(r.successor_id, ''), r.revoked_at,"
                         " f.client_id, COALESCE(f.user_id, ''), f.scope, COALESCE(f.resource, ''), f.created_at,"
                         " f.revoked_at"
                         " FROM refresh_tokens r JOIN grant_families f ON f.family_id = r.family_id"
                         " WHERE r.token_id = ?");
    SQLite::Statement& st = *use;
    st.bind(1, token_id);
    if (!st.executeStep()) return std::nullopt;
    RefreshTokenRecord r;
    r.token_id = st.getColumn(0).getString();
    r.token_hash = sql::blob(st.getColumn(1));
    r.family_id = st.getColumn(2).getString();
    r.scope = st.getColumn(3).getString();
    r.created_at = st.getColumn(4).getInt64();
    r.expires_at = st.getColumn(5).getInt64();
    r.rotated_at = sql::opt_int(st.getColumn(6));
    r.successor_id = st.getColumn(7).getString();
    r.revoked_at = sql::opt_int(st.getColumn(8));
    r.family.family_id = r.family_id;
    r.family.client_id = st.getColumn(9).getString();
    r.family.user_id = st.getColumn(10).getString();
    r.family.scope = st.getColumn(11).getString();
    r.family.resource = st.getColumn(12).getString();
    r.family.created_at = st.getColumn(13).getInt64();
    r.family.revoked_at = sql::opt_int(st.getColumn(14));
    return r;
  });
}

RefreshRotation Store::rotate_refresh_token(const std::string& old_id, int64_t now, const RefreshTokenRecord& successor,
                                            const AccessTokenRecord& access) {
  RefreshRotation result = RefreshRotation::Rotated;
  group_write("rotate_refresh_token", [&](StatementCache& sql) {
    auto mark = sql("UPDATE refresh_tokens SET rotated_at = ?, successor_id = ?"
                    " WHERE token_id = ? AND rotated_at IS NULL AND revoked_at IS NULL");
    mark->bind(1, now);
    mark->bind(2, successor.token_id);
    mark->bind(3, old_id);
    if (mark->exec() != 1) {
      result = RefreshRotation::AlreadyRotated;  // another request rotated it first; nothing written
      return;
    }
    insert_refresh(sql, successor);
    insert_access(sql, access);
  });
  return result;
}

void Store::insert_access_token(const AccessTokenRecord& access) {
  group_write("insert_access_token", [&](StatementCache& sql) { insert_access(sql, access); });
}

void Store::insert_family_with_access_token(const GrantFamily& family, const AccessTokenRecord& access) {
  group_write("insert_family_with_access_token", [&](StatementCache& sql) {
    insert_family(sql, family);
    insert_access(sql, access);
  });
}

std::optional<AccessTokenState> Store::access_token_state(const std::string& jti) {
  return with_reader("access_token_state", [&](StatementCache& sql) -> std::optional<AccessTokenState> {
    auto use = sql("SELECT a.revoked_at IS NOT NULL OR COALESCE(f.revoked_at IS NOT NULL, 0),"
                         " a.client_id, COALESCE(a.user_id, ''), c.client_id IS NOT NULL, c.scope,"
                         " COALESCE(c.grant_types, ''), COALESCE(c.registration, '')"
                         " FROM access_tokens a"
                         " LEFT JOIN grant_families f ON f.family_id = a.family_id"
                         " LEFT JOIN clients c ON c.client_id = a.client_id"
                         " WHERE a.jti = ?");
    SQLite::Statement& st = *use;
    st.bind(1, jti);
    if (!st.executeStep()) return std::nullopt;
    AccessTokenState s;
    s.revoked = st.getColumn(0).getInt() != 0;
    s.client_id = st.getColumn(1).getString();
    s.user_id = st.getColumn(2).getString();
    s.client_exists = st.getColumn(3).getInt() != 0;
    s.client_scope = sql::opt_text(st.getColumn(4));
    s.client_grant_types = st.getColumn(5).getString();
    s.client_registration = st.getColumn(6).getString();
    return s;
  });
}

bool Store::revoke_family(const std::string& family_id, int64_t now, const std::string& reason) {
  return with_db("revoke_family", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    bool changed = revoke_family_in(db, family_id, now, reason);
    tx.commit();
    return changed;
  });
}

bool Store::revoke_access_token(const std::string& jti, int64_t now) {
  return with_db("revoke_access_token", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement find(db, "SELECT COALESCE(family_id, '') FROM access_tokens WHERE jti = ?");
    find.bind(1, jti);
    if (!find.executeStep()) return false;
    std::string family = find.getColumn(0).getString();
    SQLite::Statement st(db, "UPDATE access_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL");
    st.bind(1, now);
    st.bind(2, jti);
    bool changed = st.exec() > 0;
    if (!family.empty()) changed = revoke_family_in(db, family, now, "access token revoked") || changed;
    tx.commit();
    return changed;
  });
}

int Store::revoke_user_grants(const std::string& user_id, int64_t now) {
  return with_db("revoke_user_grants", [&](SQLite::Database& db) {
    return revoke_families_where(db, "user_id", user_id, now, "user's tokens revoked");
  });
}

std::pair<int, int> Store::end_user_sign_ins(const std::string& user_id, int64_t now,
                                             const std::optional<std::string>& keep_session_id) {
  return with_db("end_user_sign_ins", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    const int families = revoke_families_where_in(db, "user_id", user_id, now, "user's sign-ins ended");
    SQLite::Statement sessions(db, "DELETE FROM sessions WHERE user_id = ? AND session_id IS NOT ?");
    sessions.bind(1, user_id);
    sql::bind_opt(sessions, 2, keep_session_id);
    const int deleted = sessions.exec();
    tx.commit();
    return std::pair<int, int>{families, deleted};
  });
}

int Store::revoke_client_grants(const std::string& client_id, int64_t now) {
  return with_db("revoke_client_grants", [&](SQLite::Database& db) {
    return revoke_families_where(db, "client_id", client_id, now, "client's tokens revoked");
  });
}

void Store::delete_expired_oauth_rows(int64_t now) {
  with_db("delete_expired_oauth_rows", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    // A day of slack keeps evidence for reuse detection and audits.
    const int64_t cutoff = now - 86400;
    for (const char* sql : {"DELETE FROM authorization_codes WHERE expires_at < ?",
                            "DELETE FROM refresh_tokens WHERE expires_at < ?",
                            "DELETE FROM access_tokens WHERE expires_at < ?",
                            "DELETE FROM sessions WHERE expires_at < ?",
                            "DELETE FROM grant_families WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r"
                            " WHERE r.family_id = grant_families.family_id) AND NOT EXISTS (SELECT 1 FROM"
                            " access_tokens a WHERE a.family_id = grant_families.family_id) AND NOT EXISTS"
                            " (SELECT 1 FROM authorization_codes c WHERE c.family_id = grant_families.family_id)"
                            " AND created_at < ?"}) {
      SQLite::Statement st(db, sql);
      st.bind(1, cutoff);
      st.exec();
    }
    tx.commit();
  });
}

int Store::delete_unused_clients(int64_t now, int64_t metadata_retention) {
  return with_db("delete_unused_clients", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "DELETE FROM clients WHERE NOT EXISTS (SELECT 1 FROM grant_families f"
                         " WHERE f.client_id = clients.client_id) AND ("
                         " (registration = 'dynamic' AND expires_at IS NOT NULL AND expires_at <= ?1)"
                         " OR (registration = 'metadata_document' AND updated_at <= ?2"
                         " AND COALESCE(last_used_at, 0) <= ?2))");
    st.bind(1, now);
    st.bind(2, now - metadata_retention);
    return st.exec();
  });
}

}  // namespace plugauth::store
