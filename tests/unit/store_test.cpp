// Store against real SQLite files in a fresh temporary directory per test.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/temp_dir.h"
#include "store/migrations.h"
#include "store/store.h"

using plugauth::store::AuditEvent;
using plugauth::store::Store;
using plugauth::store::StoredSigningKey;
using plugauth::store::StoreError;

namespace {

using plugauth::testing::TempDir;

std::unique_ptr<Store> open_store(const std::string& path) {
  auto s = Store::open(path);
  INFO((s ? std::string() : s.error().message));
  REQUIRE(s.ok());
  return std::move(s.value());
}

int64_t count_rows(const std::string& db_path, const std::string& table) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT COUNT(*) FROM " + table).getInt64();
}

StoredSigningKey key_row(const std::string& kid, int64_t created_at, const std::string& alg = "EdDSA") {
  StoredSigningKey k;
  k.kid = kid;
  k.alg = alg;
  k.public_key = alg == "EdDSA" ? std::string(32, 'p') : std::string();
  k.secret_sealed = std::string("sealed\0bytes-", 13) + kid;  // embedded NUL: stored as a blob
  k.created_at = created_at;
  return k;
}

AuditEvent audit_event(int64_t at, const std::string& action, int status = 200) {
  AuditEvent e;
  e.at = at;
  e.action = action;
  e.subject = "user-1";
  e.client_id = "client-1";
  e.key_id = "key-1";
  e.api_path = "/token";
  e.status = status;
  e.client_ip = "127.0.0.1";
  e.detail = "detail";
  return e;
}

// SQLite calls an auto-extension for every connection it opens; this one
// remembers the handle, so a test can look at the Store's own connection
// (per-connection pragmas are invisible from a second connection).
sqlite3* g_last_connection = nullptr;
int remember_connection(sqlite3* db, char**, const sqlite3_api_routines*) {
  g_last_connection = db;
  return SQLITE_OK;
}

std::string pragma_on(sqlite3* db, const std::string& pragma) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string value = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return value;
}

}  // namespace

TEST_CASE("a fresh database gets every migration, from 1, each recorded in schema_migrations") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  auto store = open_store(path);

  const auto& all = plugauth::store::migrations();
  REQUIRE(!all.empty());
  REQUIRE(all.front().version == 1);
  REQUIRE(Store::latest_schema_version() == all.back().version);
  CHECK(store->schema_version() == Store::latest_schema_version());
  CHECK(store->path() == path);

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "SELECT version, description, applied_at FROM schema_migrations ORDER BY version");
  for (size_t i = 0; i < all.size(); ++i) {
    REQUIRE(st.executeStep());
    CHECK(st.getColumn(0).getInt() == static_cast<int>(i) + 1);  // no gaps
    CHECK(st.getColumn(0).getInt() == all[i].version);
    CHECK(st.getColumn(1).getString() == all[i].description);
    CHECK(st.getColumn(2).getInt64() > 0);
  }
  CHECK_FALSE(st.executeStep());
  CHECK(all.front().description == "initial schema");

  // The whole product schema exists, with the built-in role.
  for (const char* table : {"users", "retired_user_ids", "roles", "user_roles", "clients", "api_keys",
                            "grant_families", "authorization_codes", "refresh_tokens", "access_tokens",
                            "signing_keys", "verification_tokens", "registration_tokens", "sessions",
                            "audit_events"}) {
    INFO(table);
    CHECK(db.tableExists(table));
  }
  CHECK(db.execAndGet("SELECT scopes FROM roles WHERE name = 'user'").getString() == "*");
}

TEST_CASE("the database is in WAL mode, and the Store's connection enforces foreign keys with synchronous=FULL") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");

  g_last_connection = nullptr;
  REQUIRE(sqlite3_auto_extension(reinterpret_cast<void (*)()>(remember_connection)) == SQLITE_OK);
  auto opened = Store::open(path);
  sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(remember_connection));
  REQUIRE(opened.ok());
  auto store = std::move(opened.value());
  REQUIRE(g_last_connection != nullptr);

  // WAL is a property of the file: a second connection sees it.
  {
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    CHECK(other.execAndGet("PRAGMA journal_mode").getString() == "wal");
  }
  // foreign_keys, synchronous and busy_timeout are per connection: ask the Store's.
  CHECK(pragma_on(g_last_connection, "foreign_keys") == "1");
  CHECK(pragma_on(g_last_connection, "synchronous") == "2");  // FULL
  CHECK(std::stoi(pragma_on(g_last_connection, "busy_timeout")) > 0);

  // And a violation through that connection is refused.
  char* message = nullptr;
  int rc = sqlite3_exec(g_last_connection, "INSERT INTO user_roles (user_id, role) VALUES ('no-such-user', 'user')",
                        nullptr, nullptr, &message);
  CHECK(rc == SQLITE_CONSTRAINT);
  REQUIRE(message != nullptr);
  CHECK(std::string(message).find("FOREIGN KEY") != std::string::npos);
  sqlite3_free(message);
  CHECK(count_rows(path, "user_roles") == 0);
}

TEST_CASE("reopening a migrated database applies nothing twice and keeps its rows") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  {
    auto store = open_store(path);
    store->rotate_signing_key(key_row("k1", 100), 100, 1000);
  }
  for (int i = 0; i < 3; ++i) {
    auto store = open_store(path);
    CHECK(store->schema_version() == Store::latest_schema_version());
    CHECK(store->signing_keys(100).size() == 1);
  }
  CHECK(count_rows(path, "schema_migrations") == static_cast<int64_t>(plugauth::store::migrations().size()));
  CHECK(count_rows(path, "roles WHERE name = 'user'") == 1);
}

TEST_CASE("a database from a newer schema version is refused with both versions named") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  { auto store = open_store(path); }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (999, 'from the future', 0)");
  }
  auto refused = Store::open(path);
  REQUIRE_FALSE(refused.ok());
  const auto& message = refused.error().message;
  INFO(message);
  CHECK(message.find("999") != std::string::npos);
  CHECK(message.find("(" + std::to_string(Store::latest_schema_version()) + ")") != std::string::npos);
  CHECK(message.find("newer") != std::string::npos);
  // Nothing was applied or removed.
  CHECK(count_rows(path, "schema_migrations") == static_cast<int64_t>(plugauth::store::migrations().size()) + 1);
}

TEST_CASE("a database that cannot be created is an error naming the path") {
  TempDir dir;
  const auto path = dir.file("missing-dir/plugauth.db");
  auto refused = Store::open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find(path) != std::string::npos);
}

TEST_CASE("a file that is not a SQLite database is refused naming the path") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const std::string junk(8192, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  auto refused = Store::open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find(path) != std::string::npos);
}

TEST_CASE("Stores opening the same new file at once apply each migration exactly once") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  constexpr int kOpeners = 4;
  std::vector<std::string> errors(kOpeners);
  std::vector<std::unique_ptr<Store>> stores(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      auto s = Store::open(path);
      if (s) stores[i] = std::move(s.value());
      else errors[i] = s.error().message;
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kOpeners; ++i) {
    INFO(errors[i]);
    REQUIRE(stores[i] != nullptr);
    CHECK(stores[i]->schema_version() == Store::latest_schema_version());
  }
  CHECK(count_rows(path, "schema_migrations") == static_cast<int64_t>(plugauth::store::migrations().size()));
  CHECK(count_rows(path, "roles WHERE name = 'user'") == 1);
}

TEST_CASE("rotate_signing_key retires the current key with an expiry and inserts the new one") {
  TempDir dir;
  auto store = open_store(dir.file("plugauth.db"));

  store->rotate_signing_key(key_row("k1", 1000), 1000, 1960);  // nothing to retire yet
  auto keys = store->signing_keys(1000);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].kid == "k1");
  CHECK(keys[0].alg == "EdDSA");
  CHECK(keys[0].public_key == std::string(32, 'p'));
  CHECK(keys[0].secret_sealed == key_row("k1", 1000).secret_sealed);
  CHECK_FALSE(keys[0].retired_at);
  CHECK_FALSE(keys[0].expires_at);

  store->rotate_signing_key(key_row("k2", 2000, "HS256"), 2000, 2960);
  keys = store->signing_keys(2000);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].kid == "k2");  // newest first
  CHECK(keys[0].alg == "HS256");
  CHECK(keys[0].public_key.empty());
  CHECK_FALSE(keys[0].retired_at);
  CHECK(keys[1].kid == "k1");
  CHECK(keys[1].retired_at == 2000);
  CHECK(keys[1].expires_at == 2960);

  // A later rotation leaves an already-retired key's expiry alone.
  store->rotate_signing_key(key_row("k3", 2500), 2500, 3460);
  keys = store->signing_keys(2500);
  REQUIRE(keys.size() == 3);
  CHECK(keys[1].kid == "k2");
  CHECK(keys[1].retired_at == 2500);
  CHECK(keys[2].kid == "k1");
  CHECK(keys[2].retired_at == 2000);
  CHECK(keys[2].expires_at == 2960);
}

TEST_CASE("a rotation whose new key cannot be stored leaves the current key current (one transaction)") {
  TempDir dir;
  auto store = open_store(dir.file("plugauth.db"));
  store->rotate_signing_key(key_row("k1", 1000), 1000, 1960);

  SECTION("duplicate kid") {
    CHECK_THROWS_AS(store->rotate_signing_key(key_row("k1", 2000), 2000, 2960), StoreError);
  }
  SECTION("alg the schema refuses") {
    CHECK_THROWS_AS(store->rotate_signing_key(key_row("k2", 2000, "RS256"), 2000, 2960), StoreError);
  }
  auto keys = store->signing_keys(2000);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].kid == "k1");
  CHECK_FALSE(keys[0].retired_at);
  CHECK_FALSE(keys[0].expires_at);

  // The connection is usable afterwards (no transaction left open).
  store->rotate_signing_key(key_row("k2", 2000), 2000, 2960);
  CHECK(store->signing_keys(2000).size() == 2);
}

TEST_CASE("signing_keys(now) hides keys whose expires_at has passed") {
  TempDir dir;
  auto store = open_store(dir.file("plugauth.db"));
  store->rotate_signing_key(key_row("k1", 1000), 1000, 1960);
  store->rotate_signing_key(key_row("k2", 2000), 2000, 2960);

  CHECK(store->signing_keys(2959).size() == 2);
  auto keys = store->signing_keys(2960);  // expires_at is exclusive
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].kid == "k2");
  CHECK(store->signing_keys(1'000'000).size() == 1);  // the current key never expires
}

TEST_CASE("delete_expired_signing_keys removes only keys past expires_at") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  auto store = open_store(path);
  store->rotate_signing_key(key_row("k1", 1000), 1000, 1960);
  store->rotate_signing_key(key_row("k2", 2000), 2000, 2960);
  store->rotate_signing_key(key_row("k3", 3000), 3000, 3960);

  // Retired by the next rotation: k1 expires at 2960, k2 at 3960; k3 is current.
  CHECK(store->delete_expired_signing_keys(2959) == 0);
  CHECK(store->delete_expired_signing_keys(2960) == 1);
  CHECK(store->delete_expired_signing_keys(2960) == 0);
  CHECK(count_rows(path, "signing_keys") == 2);
  CHECK(store->delete_expired_signing_keys(1'000'000) == 1);
  auto keys = store->signing_keys(0);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].kid == "k3");
}

TEST_CASE("append_audit_events writes a whole batch, field for field") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  auto store = open_store(path);

  store->append_audit_events({});  // an empty batch is a no-op
  CHECK(count_rows(path, "audit_events") == 0);

  std::vector<AuditEvent> batch = {audit_event(10, "token.issued"), audit_event(11, "login.failed", 401),
                                   audit_event(12, "key.revoked")};
  batch[1].count = 42;  // 42 identical refusals in that second
  store->append_audit_events(batch);
  CHECK(count_rows(path, "audit_events") == 3);

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement st(db,
                       "SELECT at, action, subject, client_id, key_id, api_path, status, client_ip, detail, count"
                       " FROM audit_events ORDER BY id");
  for (const auto& e : batch) {
    REQUIRE(st.executeStep());
    CHECK(st.getColumn(0).getInt64() == e.at);
    CHECK(st.getColumn(1).getString() == e.action);
    CHECK(st.getColumn(2).getString() == e.subject);
    CHECK(st.getColumn(3).getString() == e.client_id);
    CHECK(st.getColumn(4).getString() == e.key_id);
    CHECK(st.getColumn(5).getString() == e.api_path);
    CHECK(st.getColumn(6).getInt() == e.status);
    CHECK(st.getColumn(7).getString() == e.client_ip);
    CHECK(st.getColumn(8).getString() == e.detail);
    CHECK(st.getColumn(9).getInt64() == e.count);
  }
  CHECK_FALSE(st.executeStep());

  // audit_events reads every field back, the count included.
  auto read = store->audit_events({});
  REQUIRE(read.size() == 3);
  CHECK(read[1].same_event(batch[1]));
  CHECK(read[1].count == 42);
  CHECK(read[0].count == 1);
}

TEST_CASE("backup_to writes an openable copy with the same rows") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  const auto copy = dir.file("backup.db");
  auto store = open_store(path);
  store->rotate_signing_key(key_row("k1", 1000), 1000, 1960);
  store->rotate_signing_key(key_row("k2", 2000), 2000, 2960);
  store->append_audit_events({audit_event(1, "a"), audit_event(2, "b")});

  auto st = store->backup_to(copy);
  INFO((st ? std::string() : st.error().message));
  REQUIRE(st.ok());

  auto restored = open_store(copy);
  CHECK(restored->schema_version() == Store::latest_schema_version());
  CHECK(restored->integrity_check() == "ok");
  auto original_keys = store->signing_keys(0);
  auto copied_keys = restored->signing_keys(0);
  REQUIRE(copied_keys.size() == original_keys.size());
  for (size_t i = 0; i < copied_keys.size(); ++i) {
    CHECK(copied_keys[i].kid == original_keys[i].kid);
    CHECK(copied_keys[i].secret_sealed == original_keys[i].secret_sealed);
    CHECK(copied_keys[i].public_key == original_keys[i].public_key);
    CHECK(copied_keys[i].retired_at == original_keys[i].retired_at);
    CHECK(copied_keys[i].expires_at == original_keys[i].expires_at);
  }
  CHECK(count_rows(copy, "audit_events") == 2);

  // A second backup overwrites the first.
  store->append_audit_events({audit_event(3, "c")});
  REQUIRE(store->backup_to(copy).ok());
  CHECK(count_rows(copy, "audit_events") == 3);
}

TEST_CASE("backup_to a path that cannot be written is an error naming it") {
  TempDir dir;
  auto store = open_store(dir.file("plugauth.db"));
  const auto target = dir.file("no-such-dir/backup.db");
  auto st = store->backup_to(target);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find(target) != std::string::npos);
}

TEST_CASE("data_version changes after another connection commits, not after our own reads") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  auto daemon = open_store(path);
  auto cli = open_store(path);

  const int64_t before = daemon->data_version();
  (void)daemon->signing_keys(0);
  (void)daemon->schema_version();
  (void)daemon->integrity_check();
  CHECK(daemon->data_version() == before);

  cli->rotate_signing_key(key_row("k1", 1000), 1000, 1960);
  const int64_t after = daemon->data_version();
  CHECK(after != before);
  CHECK(daemon->signing_keys(1000).size() == 1);  // and the change is visible

  (void)daemon->signing_keys(0);
  CHECK(daemon->data_version() == after);
  cli->append_audit_events({audit_event(1, "x")});
  CHECK(daemon->data_version() != after);
}

TEST_CASE("two Stores on one file writing from several threads lose no audit event") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  auto daemon = open_store(path);
  auto cli = open_store(path);

  constexpr int kThreads = 4;
  constexpr int kBatches = 50;
  constexpr int kPerBatch = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store& target = t % 2 == 0 ? *daemon : *cli;
    threads.emplace_back([&target, &failures, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<AuditEvent> batch;
        for (int i = 0; i < kPerBatch; ++i)
          batch.push_back(audit_event(t * 1'000'000 + b * 100 + i, "thread-" + std::to_string(t)));
        try {
          target.append_audit_events(batch);
        } catch (const StoreError&) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(failures == 0);
  CHECK(count_rows(path, "audit_events") == kThreads * kBatches * kPerBatch);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(DISTINCT at) FROM audit_events").getInt() == kThreads * kBatches * kPerBatch);
  CHECK(daemon->integrity_check() == "ok");
}

TEST_CASE("a healthy database passes integrity_check and answers ping") {
  TempDir dir;
  auto store = open_store(dir.file("plugauth.db"));
  store->append_audit_events({audit_event(1, "a")});
  CHECK(store->integrity_check() == "ok");
  CHECK(store->ping());
}

namespace {

using plugauth::store::AccessTokenRecord;
using plugauth::store::RefreshRotation;
using plugauth::store::RefreshTokenRecord;

// A client, a family and the family's first refresh token `<family>-0`.
void seed_refresh_chain(Store& store, const std::string& family_id, int64_t now) {
  plugauth::store::AuthorizationCodeRecord code;
  code.code_id = "code-" + family_id;
  code.code_hash = "h";
  code.family_id = family_id;
  code.client_id = "c1";
  code.user_id = "";
  code.redirect_uri = "http://127.0.0.1/cb";
  code.scope = "read";
  code.created_at = now;
  code.expires_at = now + 60;
  plugauth::store::GrantFamily family{family_id, "c1", "", "read", "", now, {}};
  store.insert_authorization_code(code, family);
  RefreshTokenRecord first{family_id + "-0", "h0", family_id, "read", now, now + 3600, {}, "", {}, {}};
  REQUIRE(store.redeem_authorization_code(code.code_id, now, &first,
                                          AccessTokenRecord{"jti-" + family_id + "-0", family_id, "c1", "", now,
                                                            now + 900}) == plugauth::store::CodeRedemption::Redeemed);
}

std::string family_of_thread(int t) {
  std::string id = "f";
  id += std::to_string(t);  // not "f" + …: GCC 12 warns -Wrestrict there (a known false positive)
  return id;
}

Store& store_with_client(std::unique_ptr<Store>& store) {
  plugauth::store::ClientRecord client;
  client.client_id = "c1";
  client.name = "test";
  client.secret_hash = std::string("s");
  REQUIRE(store->insert_client(client));
  return *store;
}

}  // namespace

TEST_CASE("group commit: rotations from many threads each return only once committed, and lookups see them") {
  TempDir dir;
  const std::string path = dir.file("plugauth.db");
  auto opened = open_store(path);
  Store& store = store_with_client(opened);
  constexpr int kThreads = 16;
  constexpr int kRotations = 40;
  const int64_t now = 1'700'000'000;
  for (int t = 0; t < kThreads; ++t) seed_refresh_chain(store, family_of_thread(t), now);

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string family = family_of_thread(t);
      for (int i = 0; i < kRotations; ++i) {
        const std::string old_id = family + "-" + std::to_string(i);
        const std::string next_id = family + "-" + std::to_string(i + 1);
        RefreshTokenRecord next{next_id, "h", family, "read", now, now + 3600, {}, "", {}, {}};
        AccessTokenRecord access{"jti-" + next_id, family, "c1", "", now, now + 900};
        if (store.rotate_refresh_token(old_id, now, next, access) != RefreshRotation::Rotated) ++failures;
        auto old_row = store.find_refresh_token(old_id);
        auto new_row = store.find_refresh_token(next_id);
        if (!old_row || !old_row->rotated_at || old_row->successor_id != next_id || !new_row || new_row->rotated_at)
          ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(failures == 0);
  opened.reset();  // what a restart finds on disk
  CHECK(count_rows(path, "refresh_tokens") == kThreads * (kRotations + 1));
  CHECK(count_rows(path, "access_tokens") == kThreads * (kRotations + 1));
}

TEST_CASE("one refresh token rotated by many threads at once is rotated exactly once (SPEC §8.3)") {
  TempDir dir;
  auto opened = open_store(dir.file("plugauth.db"));
  Store& store = store_with_client(opened);
  const int64_t now = 1'700'000'000;
  seed_refresh_chain(store, "f", now);

  constexpr int kThreads = 16;
  std::atomic<int> rotated{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string next_id = "f-next-" + std::to_string(t);
      RefreshTokenRecord next{next_id, "h", "f", "read", now, now + 3600, {}, "", {}, {}};
      AccessTokenRecord access{"jti-" + next_id, "f", "c1", "", now, now + 900};
      if (store.rotate_refresh_token("f-0", now, next, access) == RefreshRotation::Rotated) ++rotated;
      else ++refused;
    });
  }
  for (auto& th : threads) th.join();

  CHECK(rotated == 1);
  CHECK(refused == kThreads - 1);
  auto first = store.find_refresh_token("f-0");
  REQUIRE(first);
  REQUIRE(first->rotated_at);
  CHECK(store.find_refresh_token(first->successor_id));
  CHECK(count_rows(dir.file("plugauth.db"), "refresh_tokens") == 2);
}

namespace {

// A database as a plugauth of schema version `version` left it: the
// migrations up to it, applied the way Store::open applies them.
void build_database_at(const std::string& path, int version) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE schema_migrations ("
          " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  for (const auto& m : plugauth::store::migrations()) {
    if (m.version > version) break;
    db.exec(m.sql);
    SQLite::Statement ins(db, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, 1)");
    ins.bind(1, m.version);
    ins.bind(2, m.description);
    ins.exec();
  }
}

void insert_old_client(SQLite::Database& db, const std::string& id, const char* registration, const char* scope,
                       const char* grant_types, bool is_public = false) {
  SQLite::Statement st(db,
                       "INSERT INTO clients (client_id, name, secret_hash, is_public, redirect_uris, scope, grant_types,"
                       " registration, created_at, updated_at) VALUES (?, ?, x'00', ?, '[\"https://a.test/cb\"]', ?, ?,"
                       " ?, 1, 1)");
  st.bind(1, id);
  st.bind(2, id);
  st.bind(3, is_public ? 1 : 0);
  if (scope) st.bind(4, scope);
  else st.bind(4);
  st.bind(5, grant_types);
  st.bind(6, registration);
  st.exec();
}

// A client_credentials grant as an old plugauth issued it: a family without
// a user and its access token.
void insert_old_client_credentials_token(SQLite::Database& db, const std::string& client_id) {
  SQLite::Statement fam(db,
                        "INSERT INTO grant_families (family_id, client_id, user_id, scope, created_at)"
                        " VALUES (?, ?, NULL, 'admin read', 1)");
  fam.bind(1, "fam-" + client_id);
  fam.bind(2, client_id);
  fam.exec();
  SQLite::Statement at(db,
                       "INSERT INTO access_tokens (jti, family_id, client_id, user_id, issued_at, expires_at)"
                       " VALUES (?, ?, ?, NULL, 1, 4102444800)");
  at.bind(1, "jti-" + client_id);
  at.bind(2, "fam-" + client_id);
  at.bind(3, client_id);
  at.exec();
}

std::string grant_types_of(const std::string& path, const std::string& client_id) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "SELECT grant_types FROM clients WHERE client_id = ?");
  st.bind(1, client_id);
  REQUIRE(st.executeStep());
  return st.getColumn(0).getString();
}

// Captures what this process writes to file descriptor 2 (the log) while
// alive; text() stops the capture.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& file) : file_(file) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::ifstream in(file_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::string file_;
  int saved_ = -1;
};

}  // namespace

TEST_CASE("migration 5 keeps client_credentials only for operator clients with an explicit scope, and logs each loss") {
  TempDir dir;
  const auto path = dir.file("plugauth.db");
  build_database_at(path, 4);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    // What plugauth before schema 5 stored: every confidential client got the grant.
    insert_old_client(db, "cl_scoped", "cli", "read", "authorization_code refresh_token client_credentials");
    insert_old_client(db, "cl_unscoped", "cli", nullptr, "authorization_code refresh_token client_credentials");
    insert_old_client(db, "cl_blank_scope", "cli", " ", "authorization_code client_credentials refresh_token");
    insert_old_client(db, "cl_public", "cli", "read", "authorization_code refresh_token client_credentials", true);
    insert_old_client(db, "cl_code_only", "cli", nullptr, "authorization_code refresh_token");
    insert_old_client(db, "dcr_attacker", "dynamic", nullptr, "client_credentials");
    insert_old_client(db, "dcr_scoped", "dynamic", "read", "authorization_code client_credentials refresh_token");
    insert_old_client(db, "https://evil.test/client\nplugauth[info]: forged", "metadata_document", nullptr,
                      "authorization_code refresh_token client_credentials", true);
    for (const char* id : {"cl_scoped", "cl_unscoped", "dcr_attacker"}) insert_old_client_credentials_token(db, id);
  }

  std::string log;
  {
    StderrCapture capture(dir.file("stderr.log"));
    auto store = open_store(path);
    log = capture.text();
    CHECK(store->schema_version() == Store::latest_schema_version());
  }

  CHECK(grant_types_of(path, "cl_scoped") == "authorization_code refresh_token client_credentials");
  CHECK(grant_types_of(path, "cl_unscoped") == "authorization_code refresh_token");
  CHECK(grant_types_of(path, "cl_blank_scope") == "authorization_code refresh_token");
  CHECK(grant_types_of(path, "cl_public") == "authorization_code refresh_token");
  CHECK(grant_types_of(path, "cl_code_only") == "authorization_code refresh_token");
  CHECK(grant_types_of(path, "dcr_attacker").empty());
  CHECK(grant_types_of(path, "dcr_scoped") == "authorization_code refresh_token");
  CHECK(grant_types_of(path, "https://evil.test/client\nplugauth[info]: forged") ==
        "authorization_code refresh_token");

  // Tokens minted through the old hole are revoked with it; the kept grant's stay.
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  auto revoked = [&](const std::string& client_id) {
    SQLite::Statement st(db,
                         "SELECT a.revoked_at IS NOT NULL, f.revoked_at IS NOT NULL FROM access_tokens a"
                         " JOIN grant_families f ON f.family_id = a.family_id WHERE a.client_id = ?");
    st.bind(1, client_id);
    REQUIRE(st.executeStep());
    CHECK(st.getColumn(0).getInt() == st.getColumn(1).getInt());
    return st.getColumn(0).getInt() != 0;
  };
  CHECK_FALSE(revoked("cl_scoped"));
  CHECK(revoked("cl_unscoped"));
  CHECK(revoked("dcr_attacker"));

  // One log line per client that lost the grant, naming it; none for the others.
  INFO(log);
  for (const char* id : {"cl_unscoped", "cl_blank_scope", "cl_public", "dcr_attacker", "dcr_scoped"})
    CHECK(log.find(std::string("client ") + id + " (registration ") != std::string::npos);
  CHECK(log.find("client https://evil.test/client\\x0aplugauth[info]: forged (registration metadata_document) lost the "
                 "client_credentials grant") != std::string::npos);
  CHECK(log.find("cl_scoped") == std::string::npos);
  CHECK(log.find("cl_code_only") == std::string::npos);
  CHECK(log.find("\nplugauth[info]: forged") == std::string::npos);
  size_t lines = 0;
  for (size_t at = log.find("lost the client_credentials grant"); at != std::string::npos;
       at = log.find("lost the client_credentials grant", at + 1))
    ++lines;
  CHECK(lines == 6);
  CHECK(log.find("dcr_attacker (registration dynamic) lost the client_credentials grant: only `plugauth client add "
                 "--grant client_credentials` gives it") != std::string::npos);
  CHECK(log.find("cl_unscoped (registration cli) lost the client_credentials grant: it has no explicit scope") !=
        std::string::npos);

  // Opening again changes and logs nothing more.
  StderrCapture again(dir.file("stderr2.log"));
  open_store(path);
  CHECK(again.text().find("lost the client_credentials grant") == std::string::npos);
}

namespace {

// alice with two browser sessions, one grant (code, refresh token, access
// token), an access token outside any family and an API key; bob with a
// session and a grant of his own.
void seed_signed_in_users(Store& store, int64_t now) {
  for (const char* id : {"u-alice", "u-bob"}) {
    plugauth::store::UserRecord u;
    u.id = id;
    u.name = std::string(id).substr(2);
    u.password_hash = "argon2id-hash";
    u.roles = {"user"};
    REQUIRE(store.create_user(u, now));
  }
  for (const auto& [sid, uid] : {std::pair{"s-alice-1", "u-alice"}, {"s-alice-2", "u-alice"}, {"s-bob", "u-bob"}})
    store.insert_session({sid, "h", uid, now, now + 3600});
  for (const auto& [fid, uid] : {std::pair{"f-alice", "u-alice"}, {"f-bob", "u-bob"}}) {
    plugauth::store::AuthorizationCodeRecord code;
    code.code_id = std::string("code-") + fid;
    code.code_hash = "h";
    code.family_id = fid;
    code.client_id = "c1";
    code.user_id = uid;
    code.redirect_uri = "http://127.0.0.1/cb";
    code.scope = "read";
    code.created_at = now;
    code.expires_at = now + 60;
    store.insert_authorization_code(code, plugauth::store::GrantFamily{fid, "c1", uid, "read", "", now, {}});
    RefreshTokenRecord refresh{std::string("r-") + fid, "h", fid, "read", now, now + 3600, {}, "", {}, {}};
    REQUIRE(store.redeem_authorization_code(code.code_id, now, &refresh,
                                            AccessTokenRecord{std::string("jti-") + fid, fid, "c1", uid, now,
                                                              now + 900}) ==
            plugauth::store::CodeRedemption::Redeemed);
  }
  store.insert_access_token(AccessTokenRecord{"jti-alice-loose", "", "c1", "u-alice", now, now + 900});
  plugauth::store::ApiKeyRecord key;
  key.key_id = "k-alice";
  key.kind = "user";
  key.user_id = "u-alice";
  key.secret_hash = "h";
  key.created_at = now;
  store.insert_api_key(key);
}

}  // namespace

TEST_CASE("end_user_sign_ins ends the user's sessions and grants, keeps API keys and other users (SPEC §8.15)") {
  TempDir dir;
  auto opened = open_store(dir.file("plugauth.db"));
  Store& store = store_with_client(opened);
  const int64_t now = 1'700'000'000;
  seed_signed_in_users(store, now);

  const auto [families, sessions] = store.end_user_sign_ins("u-alice", now + 5, std::nullopt);
  CHECK(families == 1);
  CHECK(sessions == 2);
  CHECK_FALSE(store.find_session("s-alice-1"));
  CHECK_FALSE(store.find_session("s-alice-2"));
  auto refresh = store.find_refresh_token("r-f-alice");
  REQUIRE(refresh);
  CHECK(refresh->revoked_at == now + 5);
  CHECK(refresh->family.revoked_at == now + 5);
  CHECK(store.access_token_state("jti-f-alice")->revoked);
  CHECK(store.access_token_state("jti-alice-loose")->revoked);
  // API keys stay.
  auto key = store.find_api_key("k-alice");
  REQUIRE(key);
  CHECK_FALSE(key->revoked_at);
  // bob is untouched.
  CHECK(store.find_session("s-bob"));
  CHECK_FALSE(store.find_refresh_token("r-f-bob")->family.revoked_at);
  CHECK_FALSE(store.access_token_state("jti-f-bob")->revoked);
}

TEST_CASE("end_user_sign_ins keeps the one session it is told to keep (the /account session that turned two-step on)") {
  TempDir dir;
  auto opened = open_store(dir.file("plugauth.db"));
  Store& store = store_with_client(opened);
  const int64_t now = 1'700'000'000;
  seed_signed_in_users(store, now);

  const auto [families, sessions] = store.end_user_sign_ins("u-alice", now, std::string("s-alice-2"));
  CHECK(families == 1);
  CHECK(sessions == 1);
  CHECK_FALSE(store.find_session("s-alice-1"));
  CHECK(store.find_session("s-alice-2"));
  // Another user's session id to keep keeps nothing of alice's and ends nothing of bob's.
  store.end_user_sign_ins("u-alice", now, std::string("s-bob"));
  CHECK_FALSE(store.find_session("s-alice-2"));
  CHECK(store.find_session("s-bob"));
}

TEST_CASE("delete_unused_clients removes expired unused registrations and idle metadata-document clients only") {
  TempDir dir;
  const std::string path = dir.file("plugauth.db");
  auto opened = open_store(path);
  Store& store = store_with_client(opened);  // c1: an operator client
  const int64_t now = 1'700'000'000;
  auto client = [&](const std::string& id, const std::string& registration, std::optional<int64_t> expires_at) {
    plugauth::store::ClientRecord c;
    c.client_id = id;
    c.name = id;
    c.is_public = true;
    c.redirect_uris = {"http://127.0.0.1/cb"};
    c.registration = registration;
    c.created_at = now;
    c.expires_at = expires_at;
    if (registration == "metadata_document") store.upsert_metadata_document_client(c);
    else REQUIRE(store.insert_client(c));
  };
  client("dyn-expired", "dynamic", now + 100);
  client("dyn-live", "dynamic", now + 100'000);
  client("dyn-expired-with-grant", "dynamic", now + 100);
  client("https://idle.example/doc", "metadata_document", std::nullopt);
  client("https://granted.example/doc", "metadata_document", std::nullopt);
  store.insert_family_with_access_token(
      plugauth::store::GrantFamily{"f1", "dyn-expired-with-grant", "", "read", "", now, {}},
      AccessTokenRecord{"jti-1", "f1", "dyn-expired-with-grant", "", now, now + 900});
  store.insert_family_with_access_token(
      plugauth::store::GrantFamily{"f2", "https://granted.example/doc", "", "read", "", now, {}},
      AccessTokenRecord{"jti-2", "f2", "https://granted.example/doc", "", now, now + 900});

  // Within the retention nothing goes.
  CHECK(store.delete_unused_clients(now + 99, 86400) == 0);
  CHECK(store.delete_unused_clients(now + 100, 86400) == 1);  // dyn-expired
  CHECK_FALSE(store.find_client("dyn-expired"));
  CHECK(store.delete_unused_clients(now + 86400, 86400) == 1);  // the idle document client
  CHECK_FALSE(store.find_client("https://idle.example/doc"));
  for (const char* kept : {"c1", "dyn-live", "dyn-expired-with-grant", "https://granted.example/doc"}) {
    INFO(kept);
    CHECK(store.find_client(kept));
  }
}
