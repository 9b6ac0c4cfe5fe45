// API keys, service tokens and the platform's verification tokens.
#include "store/store_internal.h"

namespace plugauth::store {
namespace {

constexpr const char* kKeyColumns =
    "SELECT k.key_id, k.kind, COALESCE(k.user_id, ''), COALESCE(u.name, ''), COALESCE(k.service, ''), k.name,"
    " k.secret_hash, k.scope, k.created_at, k.expires_at, k.last_used_at, k.revoked_at"
    " FROM api_keys k LEFT JOIN users u ON u.id = k.user_id";

ApiKeyRecord read_key(SQLite::Statement& st) {
  ApiKeyRecord k;
  k.key_id = st.getColumn(0).getString();
  k.kind = st.getColumn(1).getString();
  k.user_id = st.getColumn(2).getString();
  k.user_name = st.getColumn(3).getString();
  k.service = st.getColumn(4).getString();
  k.name = st.getColumn(5).getString();
  k.secret_hash = sql::blob(st.getColumn(6));
  k.scope = sql::opt_text(st.getColumn(7));
  k.created_at = st.getColumn(8).getInt64();
  k.expires_at = sql::opt_int(st.getColumn(9));
  k.last_used_at = sql::opt_int(st.getColumn(10));
  k.revoked_at = sql::opt_int(st.getColumn(11));
  return k;
}

}  // namespace

void Store::insert_api_key(const ApiKeyRecord& key) {
  with_db("insert_api_key", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO api_keys (key_id, kind, user_id, service, name, secret_hash, scope,"
                         " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, key.key_id);
    st.bind(2, key.kind);
    sql::bind_opt(st, 3, key.kind == "user" ? std::optional<std::string>(key.user_id) : std::nullopt);
    sql::bind_opt(st, 4, key.kind == "service" ? std::optional<std::string>(key.service) : std::nullopt);
    st.bind(5, key.name);
    sql::bind_blob(st, 6, key.secret_hash);
    sql::bind_opt(st, 7, key.scope);
    st.bind(8, key.created_at);
    sql::bind_opt(st, 9, key.expires_at);
    st.exec();
  });
}

std::optional<ApiKeyRecord> Store::find_api_key(const std::string& key_id) {
  return with_reader("find_api_key", [&](StatementCache& sql) -> std::optional<ApiKeyRecord> {
    auto use = sql(std::string(kKeyColumns) + " WHERE k.key_id = ?");
    SQLite::Statement& st = *use;
    st.bind(1, key_id);
    if (!st.executeStep()) return std::nullopt;
    return read_key(st);
  });
}

std::vector<ApiKeyRecord> Store::api_keys(const std::optional<std::string>& user_name) {
  return with_db("api_keys", [&](SQLite::Database& db) {
    SQLite::Statement st(db, std::string(kKeyColumns) +
                                 (user_name ? " WHERE u.name = ?" : "") + " ORDER BY k.created_at DESC, k.rowid DESC");
    if (user_name) st.bind(1, *user_name);
    std::vector<ApiKeyRecord> out;
    while (st.executeStep()) out.push_back(read_key(st));
    return out;
  });
}

bool Store::revoke_api_key(const std::string& key_id, int64_t now) {
  return with_db("revoke_api_key", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL");
    st.bind(1, now);
    st.bind(2, key_id);
    return st.exec() == 1;
  });
}

void Store::touch_api_keys(const std::vector<std::pair<std::string, int64_t>>& last_used) {
  if (last_used.empty()) return;
  with_db("touch_api_keys", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(db,
                         "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE key_id = ?");
    for (const auto& [key_id, at] : last_used) {
      st.bind(1, at);
      st.bind(2, key_id);
      st.exec();
      st.reset();
    }
    tx.commit();
  });
}

void Store::insert_registration_token(const RegistrationTokenRecord& t) {
  with_db("insert_registration_token", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO registration_tokens (token_id, token_hash, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?)");
    st.bind(1, t.token_id);
    sql::bind_blob(st, 2, t.token_hash);
    st.bind(3, t.created_at);
    sql::bind_opt(st, 4, t.expires_at);
    st.exec();
  });
}

namespace {
RegistrationTokenRecord read_registration_token(SQLite::Statement& st) {
  return {st.getColumn(0).getString(), sql::blob(st.getColumn(1)), st.getColumn(2).getInt64(),
          sql::opt_int(st.getColumn(3)), sql::opt_int(st.getColumn(4))};
}
constexpr const char* kRegistrationTokenColumns =
    "SELECT token_id, token_hash, created_at, expires_at, revoked_at FROM registration_tokens";
}  // namespace

std::optional<RegistrationTokenRecord> Store::find_registration_token(const std::string& token_id) {
  return with_db("find_registration_token", [&](SQLite::Database& db) -> std::optional<RegistrationTokenRecord> {
    SQLite::Statement st(db, std::string(kRegistrationTokenColumns) + " WHERE token_id = ?");
    st.bind(1, token_id);
    if (!st.executeStep()) return std::nullopt;
    return read_registration_token(st);
  });
}

std::vector<RegistrationTokenRecord> Store::registration_tokens() {
  return with_db("registration_tokens", [&](SQLite::Database& db) {
    SQLite::Statement st(db, std::string(kRegistrationTokenColumns) + " ORDER BY created_at DESC");
    std::vector<RegistrationTokenRecord> out;
    while (st.executeStep()) out.push_back(read_registration_token(st));
    return out;
  });
}

bool Store::revoke_registration_token(const std::string& token_id, int64_t now) {
  return with_db("revoke_registration_token", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "UPDATE registration_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL");
    st.bind(1, now);
    st.bind(2, token_id);
    return st.exec() == 1;
  });
}

void Store::set_verification_token(const std::string& service, const std::string& token, int64_t now) {
  with_db("set_verification_token", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO verification_tokens (service, token, created_at) VALUES (?, ?, ?)"
                         " ON CONFLICT(service) DO UPDATE SET token = excluded.token, created_at = excluded.created_at");
    st.bind(1, service);
    st.bind(2, token);
    st.bind(3, now);
    st.exec();
  });
}

std::vector<VerificationToken> Store::verification_tokens() {
  return with_db("verification_tokens", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "SELECT service, token, created_at FROM verification_tokens ORDER BY service");
    std::vector<VerificationToken> out;
    while (st.executeStep())
      out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(), st.getColumn(2).getInt64()});
    return out;
  });
}

bool Store::remove_verification_token(const std::string& service) {
  return with_db("remove_verification_token", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "DELETE FROM verification_tokens WHERE service = ?");
    st.bind(1, service);
    return st.exec() == 1;
  });
}

}  // namespace plugauth::store
