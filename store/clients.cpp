// OAuth clients.
#include <picojson.h>

#include <algorithm>

#include "store/store_internal.h"

namespace plugauth::store {
namespace {

std::string uris_to_json(const std::vector<std::string>& uris) {
  picojson::array a;
  for (const auto& u : uris) a.emplace_back(u);
  return picojson::value(a).serialize();
}

std::vector<std::string> uris_from_json(const std::string& text) {
  picojson::value v;
  std::vector<std::string> out;
  if (!picojson::parse(v, text).empty() || !v.is<picojson::array>()) return out;
  for (const auto& u : v.get<picojson::array>())
    if (u.is<std::string>()) out.push_back(u.get<std::string>());
  return out;
}

constexpr const char* kClientColumns =
    "SELECT client_id, name, secret_hash, is_public, redirect_uris, scope, grant_types, registration,"
     " COALESCE(metadata_json, ''), created_at, last_used_at, expires_at, introspect FROM clients";

ClientRecord read_client(SQLite::Statement& st) {
  ClientRecord c;
  c.client_id = st.getColumn(0).getString();
  c.name = st.getColumn(1).getString();
  if (!st.getColumn(2).isNull()) c.secret_hash = sql::blob(st.getColumn(2));
  c.is_public = st.getColumn(3).getInt() != 0;
  c.redirect_uris = uris_from_json(st.getColumn(4).getString());
  c.scope = sql::opt_text(st.getColumn(5));
  c.grant_types = st.getColumn(6).getString();
  c.registration = st.getColumn(7).getString();
  c.metadata_json = st.getColumn(8).getString();
  c.created_at = st.getColumn(9).getInt64();
  c.last_used_at = sql::opt_int(st.getColumn(10));
  c.expires_at = sql::opt_int(st.getColumn(11));
  c.introspect = st.getColumn(12).getInt() != 0;
  return c;
}

}  // namespace

bool Store::insert_client(const ClientRecord& c) {
  return with_db("insert_client", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT OR IGNORE INTO clients (client_id, name, secret_hash, is_public, redirect_uris, scope,"
                         " grant_types, registration, metadata_json, created_at, updated_at, expires_at,"
                         " introspect)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, c.client_id);
    st.bind(2, c.name);
    if (c.secret_hash) sql::bind_blob(st, 3, *c.secret_hash);
    else st.bind(3);
    st.bind(4, c.is_public ? 1 : 0);
    st.bind(5, uris_to_json(c.redirect_uris));
    sql::bind_opt(st, 6, c.scope);
    st.bind(7, c.grant_types);
    st.bind(8, c.registration);
    st.bind(9, c.metadata_json);
    st.bind(10, c.created_at);
    st.bind(11, c.created_at);
    sql::bind_opt(st, 12, c.expires_at);
    st.bind(13, c.introspect ? 1 : 0);
    return st.exec() == 1;
  });
}

std::optional<ClientRecord> Store::find_client(const std::string& client_id) {
  return with_reader("find_client", [&](StatementCache& sql) -> std::optional<ClientRecord> {
    auto use = sql(std::string(kClientColumns) + " WHERE client_id = ?");
    SQLite::Statement& st = *use;
    st.bind(1, client_id);
    if (!st.executeStep()) return std::nullopt;
    return read_client(st);
  });
}

std::vector<ClientRecord> Store::clients() {
  return with_db("clients", [&](SQLite::Database& db) {
    SQLite::Statement st(db, std::string(kClientColumns) + " ORDER BY created_at, client_id");
    std::vector<ClientRecord> out;
    while (st.executeStep()) out.push_back(read_client(st));
    return out;
  });
}

bool Store::remove_client(const std::string& client_id) {
  return with_db("remove_client", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Codes and access-token rows are reached through their families (ON
    // DELETE CASCADE); those without a family are removed here.
    SQLite::Statement access(db, "DELETE FROM access_tokens WHERE client_id = ?");
    access.bind(1, client_id);
    access.exec();
    SQLite::Statement del(db, "DELETE FROM clients WHERE client_id = ?");
    del.bind(1, client_id);
    bool removed = del.exec() == 1;
    tx.commit();
    return removed;
  });
}

bool Store::set_client_scope(const std::string& client_id, const std::optional<std::string>& scope) {
  return with_db("set_client_scope", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "UPDATE clients SET scope = ?, updated_at = strftime('%s','now') WHERE client_id = ?");
    sql::bind_opt(st, 1, scope);
    st.bind(2, client_id);
    return st.exec() == 1;
  });
}

bool Store::update_client(const std::string& client_id, const std::string& name, const std::vector<std::string>& before,
                          const std::vector<std::string>& after) {
  return with_db("update_client", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(db,
                         "UPDATE clients SET name = ?, redirect_uris = ?, updated_at = strftime('%s','now')"
                         " WHERE client_id = ? AND redirect_uris = ?");
    st.bind(1, name);
    st.bind(2, uris_to_json(after));
    st.bind(3, client_id);
    st.bind(4, uris_to_json(before));
    if (st.exec() != 1) return false;
    // A code whose request named no redirect_uri went to the client's only
    // URI then, which its row does not record: when a URI goes, the unused
    // ones go too (those that named a URI are checked at /token).
    const bool removes = std::any_of(before.begin(), before.end(), [&](const std::string& u) {
      return std::find(after.begin(), after.end(), u) == after.end();
    });
    if (removes) {
      SQLite::Statement codes(
          db, "DELETE FROM authorization_codes WHERE client_id = ? AND redirect_uri = '' AND used_at IS NULL");
      codes.bind(1, client_id);
      codes.exec();
    }
    tx.commit();
    return true;
  });
}

bool Store::set_client_secret(const std::string& client_id, const std::string& secret_hash) {
  return with_db("set_client_secret", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "UPDATE clients SET secret_hash = ?, updated_at = strftime('%s','now')"
                         " WHERE client_id = ? AND is_public = 0");
    sql::bind_blob(st, 1, secret_hash);
    st.bind(2, client_id);
    return st.exec() == 1;
  });
}

void Store::upsert_metadata_document_client(const ClientRecord& c) {
  with_db("upsert_metadata_document_client", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO clients (client_id, name, secret_hash, is_public, redirect_uris, scope,"
                         " grant_types, registration, metadata_json, created_at, updated_at)"
                         " VALUES (?1, ?2, NULL, 1, ?3, ?4, ?5, 'metadata_document', ?6, ?7, ?7)"
                         " ON CONFLICT(client_id) DO UPDATE SET name = excluded.name,"
                         " redirect_uris = excluded.redirect_uris, scope = excluded.scope,"
                         " grant_types = excluded.grant_types,"
                         " metadata_json = excluded.metadata_json, updated_at = excluded.updated_at"
                         " WHERE clients.registration = 'metadata_document'");
    st.bind(1, c.client_id);
    st.bind(2, c.name);
    st.bind(3, uris_to_json(c.redirect_uris));
    sql::bind_opt(st, 4, c.scope);
    st.bind(5, c.grant_types);
    st.bind(6, c.metadata_json);
    st.bind(7, c.created_at);
    st.exec();
  });
}

void Store::extend_client(const std::string& client_id, int64_t now, int64_t expires_at) {
  with_db("extend_client", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "UPDATE clients SET last_used_at = ?, expires_at = ? WHERE client_id = ?"
                         " AND expires_at IS NOT NULL");
    st.bind(1, now);
    st.bind(2, expires_at);
    st.bind(3, client_id);
    st.exec();
  });
}

std::vector<std::string> Store::client_scopes() {
  // The verifier's scope policy is rebuilt from this after every change: on
  // the read pool, so event loops never wait behind the writer's fsync.
  return with_reader("client_scopes", [&](StatementCache& sql) {
    auto use = sql("SELECT scope FROM clients WHERE scope IS NOT NULL");
    SQLite::Statement& st = *use;
    std::vector<std::string> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getString());
    return out;
  });
}

}  // namespace plugauth::store
