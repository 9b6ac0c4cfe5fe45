// Users and roles.
#include "store/store_internal.h"

namespace plugauth::store {
namespace {

std::vector<std::string> roles_of(StatementCache& sql, const std::string& user_id) {
  auto use = sql("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role");
  SQLite::Statement& st = *use;
  st.bind(1, user_id);
  std::vector<std::string> out;
  while (st.executeStep()) out.push_back(st.getColumn(0).getString());
  return out;
}

std::optional<UserRecord> read_user(StatementCache& sql, const char* where, const std::string& value) {
  UserRecord u;
  {
    auto use = sql(std::string("SELECT id, name, password_hash, totp_sealed IS NOT NULL, created_at, unlocked_at,"
                               " wrong_codes, code_locked_at FROM users WHERE ") + where + " = ?");
    SQLite::Statement& st = *use;
    st.bind(1, value);
    if (!st.executeStep()) return std::nullopt;
    u.id = st.getColumn(0).getString();
    u.name = st.getColumn(1).getString();
    u.password_hash = st.getColumn(2).getString();
    u.mfa = st.getColumn(3).getInt() != 0;
    u.created_at = st.getColumn(4).getInt64();
    u.unlocked_at = st.getColumn(5).getInt64();
    u.wrong_codes = st.getColumn(6).getInt();
    if (!st.getColumn(7).isNull()) u.code_locked_at = st.getColumn(7).getInt64();
  }
  u.roles = roles_of(sql, u.id);
  return u;
}

}  // namespace

bool Store::create_user(const UserRecord& user, int64_t now) {
  return with_db("create_user", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement exists(db, "SELECT 1 FROM users WHERE name = ?");
    exists.bind(1, user.name);
    if (exists.executeStep()) return false;
    SQLite::Statement ins(db,
                          "INSERT INTO users (id, name, password_hash, created_at, updated_at)"
                          " VALUES (?, ?, ?, ?, ?)");
    ins.bind(1, user.id);
    ins.bind(2, user.name);
    ins.bind(3, user.password_hash);
    ins.bind(4, now);
    ins.bind(5, now);
    ins.exec();
    SQLite::Statement role(db, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)");
    for (const auto& r : user.roles) {
      role.bind(1, user.id);
      role.bind(2, r);
      role.exec();
      role.reset();
    }
    tx.commit();
    return true;
  });
}

std::optional<UserRecord> Store::find_user_by_name(const std::string& name) {
  return with_sql("find_user_by_name", [&](StatementCache& sql) { return read_user(sql, "name", name); });
}

std::optional<UserRecord> Store::find_user_by_id(const std::string& id) {
  return with_reader("find_user_by_id", [&](StatementCache& sql) { return read_user(sql, "id", id); });
}

std::vector<UserRecord> Store::users() {
  return with_sql("users", [&](StatementCache& sql) {
    std::vector<UserRecord> out;
    {
      auto use = sql("SELECT id, name, totp_sealed IS NOT NULL, created_at FROM users ORDER BY name");
      SQLite::Statement& st = *use;
      while (st.executeStep()) {
        UserRecord u;
        u.id = st.getColumn(0).getString();
        u.name = st.getColumn(1).getString();
        u.mfa = st.getColumn(2).getInt() != 0;
        u.created_at = st.getColumn(3).getInt64();
        out.push_back(std::move(u));
      }
    }
    for (auto& u : out) u.roles = roles_of(sql, u.id);
    return out;
  });
}

bool Store::remove_user(const std::string& name, int64_t now) {
  return with_db("remove_user", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement find(db, "SELECT id FROM users WHERE name = ?");
    find.bind(1, name);
    if (!find.executeStep()) return false;
    std::string id = find.getColumn(0).getString();
    SQLite::Statement retire(db, "INSERT OR IGNORE INTO retired_user_ids (id, removed_at) VALUES (?, ?)");
    retire.bind(1, id);
    retire.bind(2, now);
    retire.exec();
    // Keys, roles, sessions and grant families go by ON DELETE CASCADE.
    SQLite::Statement del(db, "DELETE FROM users WHERE id = ?");
    del.bind(1, id);
    del.exec();
    tx.commit();
    return true;
  });
}

bool Store::user_id_ever_used(const std::string& id) {
  return with_db("user_id_ever_used", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "SELECT 1 FROM users WHERE id = ?1 UNION ALL SELECT 1 FROM retired_user_ids WHERE id = ?1");
    st.bind(1, id);
    return st.executeStep();
  });
}

bool Store::set_user_totp(const std::string& user_id, const std::optional<std::string>& sealed_secret,
                          int64_t now) {
  return with_db("set_user_totp", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE users SET totp_sealed = ?, totp_last_step = 0, updated_at = ? WHERE id = ?");
    if (sealed_secret) st.bind(1, sealed_secret->data(), static_cast<int>(sealed_secret->size()));
    else st.bind(1);
    st.bind(2, now);
    st.bind(3, user_id);
    return st.exec() == 1;
  });
}

std::optional<std::string> Store::user_totp(const std::string& user_id) {
  return with_db("user_totp", [&](SQLite::Database& db) -> std::optional<std::string> {
    SQLite::Statement st(db, "SELECT totp_sealed FROM users WHERE id = ? AND totp_sealed IS NOT NULL");
    st.bind(1, user_id);
    if (!st.executeStep()) return std::nullopt;
    const SQLite::Column c = st.getColumn(0);
    return std::string(static_cast<const char*>(c.getBlob()), static_cast<size_t>(c.getBytes()));
  });
}

bool Store::advance_totp_step(const std::string& user_id, int64_t step) {
  return with_db("advance_totp_step", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE users SET totp_last_step = ?1 WHERE id = ?2 AND totp_last_step < ?1");
    st.bind(1, step);
    st.bind(2, user_id);
    return st.exec() == 1;
  });
}

bool Store::unlock_user(const std::string& name, int64_t now) {
  return with_db("unlock_user", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE users SET unlocked_at = ?, updated_at = ?, wrong_codes = 0, code_locked_at = NULL"
                             " WHERE name = ?");
    st.bind(1, now);
    st.bind(2, now);
    st.bind(3, name);
    return st.exec() == 1;
  });
}

bool Store::set_password(const std::string& name, const std::string& password_hash, int64_t now) {
  return with_db("set_password", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE users SET password_hash = ?, updated_at = ?, wrong_codes = 0,"
                             " code_locked_at = NULL WHERE name = ?");
    st.bind(1, password_hash);
    st.bind(2, now);
    st.bind(3, name);
    return st.exec() == 1;
  });
}

int Store::count_wrong_code(const std::string& user_id, int64_t now, int lock_at) {
  return with_db("count_wrong_code", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement up(db,
                         "UPDATE users SET wrong_codes = wrong_codes + 1, code_locked_at = CASE"
                         " WHEN code_locked_at IS NULL AND wrong_codes + 1 >= ?1 THEN ?2 ELSE code_locked_at END"
                         " WHERE id = ?3");
    up.bind(1, lock_at);
    up.bind(2, now);
    up.bind(3, user_id);
    if (up.exec() != 1) return 0;
    SQLite::Statement count(db, "SELECT wrong_codes FROM users WHERE id = ?");
    count.bind(1, user_id);
    const int n = count.executeStep() ? count.getColumn(0).getInt() : 0;
    tx.commit();
    return n;
  });
}

void Store::clear_wrong_codes(const std::string& user_id) {
  with_db("clear_wrong_codes", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE users SET wrong_codes = 0 WHERE id = ? AND wrong_codes != 0");
    st.bind(1, user_id);
    st.exec();
  });
}

void Store::upsert_role(const std::string& name, const std::string& scopes, int64_t now) {
  with_db("upsert_role", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO roles (name, scopes, created_at) VALUES (?, ?, ?)"
                         " ON CONFLICT(name) DO UPDATE SET scopes = excluded.scopes");
    st.bind(1, name);
    st.bind(2, scopes);
    st.bind(3, now);
    st.exec();
  });
}

std::vector<RoleRecord> Store::roles() {
  // Read pool: see client_scopes().
  return with_reader("roles", [&](StatementCache& sql) {
    auto use = sql("SELECT name, scopes FROM roles ORDER BY name");
    SQLite::Statement& st = *use;
    std::vector<RoleRecord> out;
    while (st.executeStep()) out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString()});
    return out;
  });
}

bool Store::remove_role(const std::string& name) {
  if (name == "user") return false;
  return with_db("remove_role", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "DELETE FROM roles WHERE name = ?");
    st.bind(1, name);
    return st.exec() == 1;
  });
}

bool Store::grant_roles(const std::string& user_name, const std::vector<std::string>& roles) {
  return with_db("grant_roles", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement find(db, "SELECT id FROM users WHERE name = ?");
    find.bind(1, user_name);
    if (!find.executeStep()) return false;
    std::string id = find.getColumn(0).getString();
    SQLite::Statement role_exists(db, "SELECT 1 FROM roles WHERE name = ?");
    SQLite::Statement ins(db, "INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?, ?)");
    for (const auto& r : roles) {
      role_exists.bind(1, r);
      bool exists = role_exists.executeStep();
      role_exists.reset();
      if (!exists) return false;  // rolls back
      ins.bind(1, id);
      ins.bind(2, r);
      ins.exec();
      ins.reset();
    }
    tx.commit();
    return true;
  });
}

}  // namespace plugauth::store
