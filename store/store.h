// The one place that talks SQL (STYLE.md: `store/` persists).
//
// A Store owns one SQLite connection to <data>/plugauth.db in WAL mode with
// synchronous=FULL, foreign keys on and a busy timeout, so the daemon and CLI
// commands can share the file. Every method is one statement or one
// transaction; multi-step changes never leave half a change behind.
//
// Thread safety: all methods may be called from any thread; calls are
// serialised on an internal mutex (SQLite serialises writers anyway).
//
// Errors: outcomes a caller expects (not found, already exists) are values.
// A failure of the database itself (disk full, corruption, a lock held past
// the busy timeout) throws StoreError, which the HTTP layer turns into a
// generic 500/503 and the CLI into exit status 1.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace SQLite {
class Database;
}

namespace plugauth::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StoredSigningKey {
  std::string kid;
  std::string alg;            // "EdDSA" | "HS256"
  std::string public_key;     // raw Ed25519 public key; empty for HS256
  std::string secret_sealed;  // sealed private key / HMAC secret
  int64_t created_at = 0;
  std::optional<int64_t> retired_at;
  std::optional<int64_t> expires_at;
};

struct AuditEvent {
  int64_t at = 0;
  std::string action;
  std::string subject;
  std::string client_id;
  std::string key_id;
  std::string api_path;
  int status = 0;
  std::string client_ip;
  std::string detail;  // never a secret
};

struct UserRecord {
  std::string id;    // the stable `sub`
  std::string name;
  std::string password_hash;
  std::vector<std::string> roles;
  bool mfa = false;
  int64_t created_at = 0;
};

struct RoleRecord {
  std::string name;
  std::string scopes;  // space-separated; "*" means every known scope
};

struct ApiKeyRecord {
  std::string key_id;
  std::string kind;       // "user" | "service"
  std::string user_id;    // kind == "user"
  std::string user_name;  // kind == "user"
  std::string service;    // kind == "service"
  std::string name;
  std::string secret_hash;
  std::optional<std::string> scope;  // nullopt: what the user's roles allow
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> revoked_at;
};

struct VerificationToken {
  std::string service;
  std::string token;
  int64_t created_at = 0;
};

struct AuditQuery {
  std::optional<int64_t> since;
  std::string action;     // exact, or empty for all
  std::string client_id;  // matches client_id or key_id; empty for all
  int limit = 100;
};

class Store {
 public:
  // Opens (creating if needed) the database and applies pending migrations,
  // each in one transaction. Refuses a database whose schema is newer than
  // this binary knows, naming both versions.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  int schema_version();
  static int latest_schema_version();

  // True when the database answers a trivial query.
  bool ping() noexcept;
  // PRAGMA data_version: changes whenever another connection (a CLI command
  // while the daemon runs) commits. Cheap; poll it to refresh caches.
  int64_t data_version();
  // PRAGMA integrity_check; "ok" when healthy, else SQLite's report.
  std::string integrity_check();
  // SQLite online backup to `file` (overwritten), consistent while serving.
  Status backup_to(const std::string& file);

  // --- signing keys ---------------------------------------------------------
  // All keys not yet past expires_at, newest first.
  std::vector<StoredSigningKey> signing_keys(int64_t now);
  // One transaction: every current key is retired at `now` (it keeps
  // verifying until `retired_expire_at`), then `fresh` becomes current.
  void rotate_signing_key(const StoredSigningKey& fresh, int64_t now, int64_t retired_expire_at);
  // Removes keys whose expires_at has passed.
  int delete_expired_signing_keys(int64_t now);

  // --- audit ----------------------------------------------------------------
  // Appends a batch in one transaction (audit is written off the hot path).
  void append_audit_events(const std::vector<AuditEvent>& events);
  // Newest first.
  std::vector<AuditEvent> audit_events(const AuditQuery& query);
  // Retention: removes events older than `before`. Returns how many.
  int delete_audit_events_before(int64_t before);

  // --- users and roles (store/users.cpp) ------------------------------------
  // Creates the user with `roles` (which must exist). False if the name is taken.
  bool create_user(const UserRecord& user, int64_t now);
  std::optional<UserRecord> find_user_by_name(const std::string& name);
  std::optional<UserRecord> find_user_by_id(const std::string& id);
  std::vector<UserRecord> users();
  // Deletes the user and everything that belongs to them (keys, sessions,
  // grants); the id is kept in retired_user_ids so it is never reused.
  bool remove_user(const std::string& name, int64_t now);
  bool user_id_ever_used(const std::string& id);
  bool set_password(const std::string& name, const std::string& password_hash, int64_t now);
  // Creates the role or replaces its scopes.
  void upsert_role(const std::string& name, const std::string& scopes, int64_t now);
  std::vector<RoleRecord> roles();
  // False if there is no such role. The built-in role "user" cannot be removed.
  bool remove_role(const std::string& name);
  // Adds roles to a user (all must exist); false if the user or a role is missing.
  bool grant_roles(const std::string& user_name, const std::vector<std::string>& roles);

  // --- API keys and service tokens (store/keys.cpp) -------------------------
  void insert_api_key(const ApiKeyRecord& key);
  // With the owning user's name; nullopt if there is no such key.
  std::optional<ApiKeyRecord> find_api_key(const std::string& key_id);
  // All keys, or one user's; newest first.
  std::vector<ApiKeyRecord> api_keys(const std::optional<std::string>& user_name);
  // False if there is no such key or it was already revoked.
  bool revoke_api_key(const std::string& key_id, int64_t now);
  // Batched bookkeeping from the hot path: key_id → last use time.
  void touch_api_keys(const std::vector<std::pair<std::string, int64_t>>& last_used);

  // --- verification tokens (store/keys.cpp) ---------------------------------
  void set_verification_token(const std::string& service, const std::string& token, int64_t now);
  std::vector<VerificationToken> verification_tokens();
  bool remove_verification_token(const std::string& service);

 private:
  explicit Store(std::string path);
  template <typename F>
  auto with_db(const char* what, F&& body) -> decltype(body(std::declval<SQLite::Database&>()));

  std::string path_;
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;  // guarded by mu_
};

}  // namespace plugauth::store
