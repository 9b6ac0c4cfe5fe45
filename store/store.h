// The one place that talks SQL (STYLE.md: `store/` persists).
//
// A Store owns one SQLite connection to <data>/plugauth.db in WAL mode with
// synchronous=FULL, foreign keys on and a busy timeout, so the daemon and CLI
// commands can share the file. Every method is one statement or one
// transaction; multi-step changes never leave half a change behind.
//
// Thread safety: all methods may be called from any thread; writes and most
// reads are serialised on an internal mutex (SQLite serialises writers
// anyway). The hot single-row lookups (find_refresh_token, find_client,
// find_user_by_id, find_api_key, access_token_state) run on a pool of
// read-only connections instead, so they never wait behind a commit.
//
// Errors: outcomes a caller expects (not found, already exists) are values.
// A failure of the database itself (disk full, corruption, a lock held past
// the busy timeout) throws StoreError, which the HTTP layer turns into a
// generic 500/503 and the CLI into exit status 1.
#pragma once

#include <cstdint>
#include <functional>
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

class StatementCache;

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
  // How many identical events (every field above equal, so also the same
  // second) this row stands for: a flood of one refusal is one row, not
  // thousands, and nothing is lost but the order within that second.
  int64_t count = 1;

  bool same_event(const AuditEvent& o) const {
    return at == o.at && status == o.status && action == o.action && subject == o.subject &&
           client_id == o.client_id && key_id == o.key_id && api_path == o.api_path &&
           client_ip == o.client_ip && detail == o.detail;
  }
};

struct UserRecord {
  std::string id;    // the stable `sub`
  std::string name;
  std::string password_hash;
  std::vector<std::string> roles;
  bool mfa = false;
  int64_t created_at = 0;
  // When an operator last ran `user unlock`: sign-in failures before it
  // no longer count against the account.
  int64_t unlocked_at = 0;
  // Wrong authenticator codes sent with the right password since the last
  // successful sign-in, and when they locked the account's sign-in (SPEC
  // §8.9); both cleared by `user unlock` and `user passwd`.
  int wrong_codes = 0;
  std::optional<int64_t> code_locked_at{};
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

struct RegistrationTokenRecord {
  std::string token_id;
  std::string token_hash;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
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

struct ClientRecord {
  std::string client_id;
  std::string name;
  std::optional<std::string> secret_hash;  // nullopt for public clients
  bool is_public = false;
  std::vector<std::string> redirect_uris;
  std::optional<std::string> scope;  // nullopt: may request any known scope
  std::string grant_types = "authorization_code refresh_token";
  std::string registration = "cli";  // cli | dynamic | metadata_document
  std::string metadata_json;
  bool introspect = false;  // `client add --introspect`: a resource server (auth/introspection.h)
  int64_t created_at = 0;
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> expires_at;
};

struct SessionRecord {
  std::string session_id;
  std::string token_hash;
  std::string user_id;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  // When the password (and code) were last entered: at sign-in, or again on
  // an /account form (SPEC §8.16).
  int64_t authenticated_at = 0;
};

// One grant: a consent (or a client_credentials call) and everything issued
// from it. Revoking the family revokes them all (SPEC §8.13).
struct GrantFamily {
  std::string family_id;
  std::string client_id;
  std::string user_id;  // empty for client_credentials
  std::string scope;
  std::string resource;
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
};

struct AuthorizationCodeRecord {
  std::string code_id;
  std::string code_hash;
  std::string family_id;
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;
  std::string scope;
  std::string resource;
  std::string code_challenge;  // S256 challenge, empty if none
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> used_at;
};

struct RefreshTokenRecord {
  std::string token_id;
  std::string token_hash;
  std::string family_id;
  std::string scope;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> rotated_at;
  std::string successor_id;
  std::optional<int64_t> revoked_at;
  GrantFamily family;  // filled by find_refresh_token
};

struct AccessTokenRecord {
  std::string jti;
  std::string family_id;  // empty when not part of a family
  std::string client_id;
  std::string user_id;    // empty for client_credentials
  int64_t issued_at = 0;
  int64_t expires_at = 0;
};

// What /verify needs to know about a JWT beyond its signature.
struct AccessTokenState {
  bool revoked = false;  // the jti, or its family, was revoked
  std::string client_id;
  std::string user_id;
  bool client_exists = false;
  std::optional<std::string> client_scope;
  std::string client_grant_types;    // space-separated
  std::string client_registration;   // cli | dynamic | metadata_document
};

enum class CodeRedemption { Redeemed, AlreadyUsed };
enum class RefreshRotation { Rotated, AlreadyRotated };

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
  // One transaction: every key not yet retired (the current one and any
  // pending one) is retired at `retire_at` (it keeps verifying until
  // `retired_expire_at`), and `fresh` is inserted; it signs from its
  // created_at on (normally `retire_at`).
  void rotate_signing_key(const StoredSigningKey& fresh, int64_t retire_at, int64_t retired_expire_at);
  // Removes keys whose expires_at has passed.
  int delete_expired_signing_keys(int64_t now);

  // --- what `serve` runs with (store/store.cpp) ------------------------------
  // `serve` records the settings the CLI must follow rather than its own
  // config (e.g. "token_alg", "access_token_ttl" for `signing-key rotate`).
  void set_served_setting(const std::string& name, const std::string& value, int64_t now);
  std::optional<std::string> served_setting(const std::string& name);

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
  // Two-step sign-in. The secret is stored sealed (CryptoKeys::seal with the
  // context "totp:<user id>"); nullopt turns it off. Setting or clearing it
  // also forgets the last accepted step. False if there is no such user.
  bool set_user_totp(const std::string& user_id, const std::optional<std::string>& sealed_secret, int64_t now);
  std::optional<std::string> user_totp(const std::string& user_id);
  // Records `step` as the user's last accepted TOTP step, only if it is later
  // than the one stored: true for exactly one of two racing sign-ins with
  // the same code.
  bool advance_totp_step(const std::string& user_id, int64_t step);
  // `user unlock`: failures before `now` stop counting, and a lock after
  // wrong authenticator codes is lifted. False if no such user.
  bool unlock_user(const std::string& name, int64_t now);
  // Also lifts a lock after wrong authenticator codes (SPEC §8.9).
  bool set_password(const std::string& name, const std::string& password_hash, int64_t now);
  // One more wrong authenticator code sent with the user's right password;
  // when the count reaches `lock_at` the account's sign-in is locked
  // (code_locked_at = now). One transaction, so of parallel failures each
  // counts once and exactly one sees the count reach `lock_at`. Returns the
  // count after this one; 0 if there is no such user.
  int count_wrong_code(const std::string& user_id, int64_t now, int lock_at);
  // A successful sign-in: the consecutive count starts again.
  void clear_wrong_codes(const std::string& user_id);
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

  // --- OAuth clients (store/clients.cpp) ------------------------------------
  // False if the client_id is taken.
  bool insert_client(const ClientRecord& client);
  std::optional<ClientRecord> find_client(const std::string& client_id);
  std::vector<ClientRecord> clients();
  // Removes the client and every grant and token issued to it.
  bool remove_client(const std::string& client_id);
  bool set_client_scope(const std::string& client_id, const std::optional<std::string>& scope);
  // An operator's edit of a client's name and redirect URIs, made only if
  // the URIs are still `before` (two edits at once: the later one fails,
  // instead of one silently undoing the other).
  bool update_client(const std::string& client_id, const std::string& name, const std::vector<std::string>& before,
                     const std::vector<std::string>& after);
  bool set_client_secret(const std::string& client_id, const std::string& secret_hash);
  // Inserts a metadata-document client, or refreshes its name, redirect URIs,
  // scope and document if it is known (grants issued to it stay).
  void upsert_metadata_document_client(const ClientRecord& client);
  // A dynamically registered client was used: it lives on until `expires_at`.
  void extend_client(const std::string& client_id, int64_t now, int64_t expires_at);
  // Every scope named by any client, space-joined per client.
  std::vector<std::string> client_scopes();

  // --- browser sessions (store/oauth.cpp) -----------------------------------
  void insert_session(const SessionRecord& session);
  std::optional<SessionRecord> find_session(const std::string& session_id);
  void delete_session(const std::string& session_id);
  // The session's user entered the password again at `at` (SPEC §8.16).
  void set_session_authenticated(const std::string& session_id, int64_t at);

  // --- codes, refresh tokens, access tokens (store/oauth.cpp) ---------------
  // One transaction: the grant family and its first code.
  void insert_authorization_code(const AuthorizationCodeRecord& code, const GrantFamily& family);
  std::optional<AuthorizationCodeRecord> find_authorization_code(const std::string& code_id);
  // One transaction: burns the code and stores what it was exchanged for
  // (refresh may be null). If the code was already used, nothing is issued
  // and the code's whole family is revoked (RFC 6749 §4.1.2).
  CodeRedemption redeem_authorization_code(const std::string& code_id, int64_t now,
                                           const RefreshTokenRecord* refresh, const AccessTokenRecord& access);
  std::optional<RefreshTokenRecord> find_refresh_token(const std::string& token_id);
  // One transaction: marks `old_id` rotated with `successor`, stores the
  // successor and the new access token. AlreadyRotated (nothing written) if
  // another request rotated it first.
  RefreshRotation rotate_refresh_token(const std::string& old_id, int64_t now, const RefreshTokenRecord& successor,
                                       const AccessTokenRecord& access);
  void insert_access_token(const AccessTokenRecord& access);
  // Client-credentials grant: the family and its access token in one transaction.
  void insert_family_with_access_token(const GrantFamily& family, const AccessTokenRecord& access);
  std::optional<AccessTokenState> access_token_state(const std::string& jti);
  // Revokes the family and everything in it. Returns false if none.
  bool revoke_family(const std::string& family_id, int64_t now, const std::string& reason);
  // Revokes the access token and, if it has one, its family. Returns false
  // if nothing was left to revoke.
  bool revoke_access_token(const std::string& jti, int64_t now);
  // Every grant of a user or a client. Returns how many families.
  int revoke_user_grants(const std::string& user_id, int64_t now);
  // One transaction: every grant of the user is revoked (refresh families,
  // their codes and access tokens, and access tokens outside a family) and
  // every browser session of the user but `keep_session_id` is deleted.
  // API keys are untouched. Returns {families revoked, sessions deleted}.
  std::pair<int, int> end_user_sign_ins(const std::string& user_id, int64_t now,
                                        const std::optional<std::string>& keep_session_id);
  int revoke_client_grants(const std::string& client_id, int64_t now);
  // Drops codes, refresh tokens, access-token rows and sessions long expired.
  void delete_expired_oauth_rows(int64_t now);
  // Deletes the clients strangers made that nobody uses, none of which has
  // a grant left (revoked or not): dynamic registrations past expires_at
  // (each use moves it on), and metadata-document clients neither fetched
  // nor used in the last `metadata_retention` seconds. Operator clients are
  // never touched. Returns how many.
  int delete_unused_clients(int64_t now, int64_t metadata_retention);

  // --- RFC 7591 initial access tokens (store/keys.cpp) ----------------------
  void insert_registration_token(const RegistrationTokenRecord& token);
  std::optional<RegistrationTokenRecord> find_registration_token(const std::string& token_id);
  std::vector<RegistrationTokenRecord> registration_tokens();
  bool revoke_registration_token(const std::string& token_id, int64_t now);

  // --- verification tokens (store/keys.cpp) ---------------------------------
  void set_verification_token(const std::string& service, const std::string& token, int64_t now);
  std::vector<VerificationToken> verification_tokens();
  bool remove_verification_token(const std::string& service);

 private:
  explicit Store(std::string path);
  // Runs `body` with the connection, under mu_; SQLite errors become StoreError.
  template <typename F>
  auto with_db(const char* what, F&& body) -> decltype(body(std::declval<SQLite::Database&>()));
  // The same, with the connection's prepared-statement cache.
  template <typename F>
  auto with_sql(const char* what, F&& body) -> decltype(body(std::declval<StatementCache&>()));
  // For the hot single-row lookups: runs `body` on a read-only connection
  // of a pool, not under mu_, so a lookup never waits behind the writer's
  // commit and fsync. WAL gives it the last committed state (a group_write
  // that has returned is visible). Never for a read that must see the same
  // transaction as a write.
  template <typename F>
  auto with_reader(const char* what, F&& body) -> decltype(body(std::declval<StatementCache&>()));
  // Group commit: runs `work` inside a write transaction shared with the
  // other callers waiting at that moment, each in its own savepoint, so one
  // fsync covers them all. Returns once that transaction has committed; an
  // exception from `work` rolls back only its own savepoint and is rethrown
  // to its caller.
  void group_write(const char* what, const std::function<void(StatementCache&)>& work);

  struct PendingWrite;
  void run_write_batch(std::vector<PendingWrite*>& batch);

  struct Reader;
  class ReaderLease;

  std::string path_;
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;          // guarded by mu_
  std::unique_ptr<StatementCache> statements_;    // guarded by mu_

  std::mutex queue_mu_;
  std::vector<PendingWrite*> write_queue_;  // guarded by queue_mu_
  bool writer_active_ = false;              // guarded by queue_mu_

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;  // guarded by readers_mu_
};

}  // namespace plugauth::store
