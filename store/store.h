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

 private:
  explicit Store(std::string path);
  std::string path_;
  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;  // guarded by mu_
};

}  // namespace plugauth::store
