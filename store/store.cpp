#include "store/store.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "common/log.h"
#include "store/migrations.h"
#include "store/store_internal.h"

namespace plugauth::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;

std::string newer_schema_message(int current, int latest) {
  return "database schema version " + std::to_string(current) +
         " is newer than this plugauth understands (" + std::to_string(latest) +
         "); run a newer plugauth, or restore a backup made by this version";
}


int current_version(SQLite::Database& db) {
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
}

Status apply_migrations(SQLite::Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const int latest = Store::latest_schema_version();
  if (int current = current_version(db); current > latest) return make_error(newer_schema_message(current, latest));
  for (const auto& m : migrations()) {
    // IMMEDIATE, and the version read again inside: a CLI command and the
    // daemon opening the same new file at once must not both apply it.
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (m.version <= current_version(db)) continue;
    std::vector<std::string> losses;
    if (!m.losses_sql.empty()) {
      SQLite::Statement report(db, m.losses_sql);
      while (report.executeStep()) losses.push_back(report.getColumn(0).getString());  // log_line escapes it
    }
    db.exec(m.sql);
    SQLite::Statement ins(db,
                          "INSERT INTO schema_migrations (version, description, applied_at)"
                          " VALUES (?, ?, strftime('%s','now'))");
    ins.bind(1, m.version);
    ins.bind(2, m.description);
    ins.exec();
    tx.commit();
    for (const auto& line : losses)
      log_warn("database migration " + std::to_string(m.version) + ": " + line);
  }
  return ok_status();
}

}  // namespace

Store::Store(std::string path) : path_(std::move(path)) {}
Store::~Store() {
  {
    std::lock_guard lock(readers_mu_);
    idle_readers_.clear();  // readers before the writer, whose close checkpoints and removes the WAL
  }
  std::lock_guard lock(mu_);
  statements_.reset();  // statements before their connection
}

Store::Reader::Reader(const std::string& path)
    : db(path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs), sql(db) {}

Store::ReaderLease::ReaderLease(Store& store) : store_(store) {
  {
    std::lock_guard lock(store_.readers_mu_);
    if (!store_.idle_readers_.empty()) {
      reader_ = std::move(store_.idle_readers_.back());
      store_.idle_readers_.pop_back();
      return;
    }
  }
  reader_ = std::make_unique<Reader>(store_.path_);  // the pool grows to the number of concurrent readers
}

Store::ReaderLease::~ReaderLease() {
  std::lock_guard lock(store_.readers_mu_);
  store_.idle_readers_.push_back(std::move(reader_));
}

// A one-shot wakeup for one sleeping thread, on a bare futex. Not
// std::binary_semaphore: libstdc++'s wait spins and calls sched_yield first,
// and with many request threads on few cores each yield is a context switch.
class Wakeup {
 public:
  enum Reason : uint32_t { kNone = 0, kCommitted = 1, kLead = 2 };

  Reason wait() {
    uint32_t r;
    while ((r = state_.load(std::memory_order_acquire)) == kNone)
      syscall(SYS_futex, &state_, FUTEX_WAIT_PRIVATE, kNone, nullptr, nullptr, 0);
    return static_cast<Reason>(r);
  }
  // The waiter may return, and its Wakeup be gone, as soon as the store is
  // done; a FUTEX_WAKE on the stale address wakes no one that would not
  // check its own state again.
  void set(Reason r) {
    state_.store(r, std::memory_order_release);
    syscall(SYS_futex, &state_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }

 private:
  std::atomic<uint32_t> state_{kNone};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
};

struct Store::PendingWrite {
  const char* what;
  const std::function<void(StatementCache&)>* work;
  std::exception_ptr error;
  Wakeup woken;  // set once: committed, or made leader
};

void Store::group_write(const char* what, const std::function<void(StatementCache&)>& work) {
  PendingWrite self{what, &work, nullptr, {}};
  bool lead = false;
  {
    std::lock_guard lock(queue_mu_);
    write_queue_.push_back(&self);
    if (!writer_active_) writer_active_ = lead = true;
  }
  // Leader/follower: the leader commits everything queued so far; the others
  // sleep until the commit that includes them, or until the leader hands
  // the lead on to them. Each waiter has its own Wakeup: a commit wakes
  // exactly the writers it made durable, and no one else.
  if (!lead) lead = self.woken.wait() == Wakeup::kLead;
  if (lead) {
    std::vector<PendingWrite*> batch;
    {
      std::lock_guard lock(queue_mu_);
      batch.swap(write_queue_);
    }
    run_write_batch(batch);
    PendingWrite* next = nullptr;
    {
      std::lock_guard lock(queue_mu_);
      if (write_queue_.empty()) writer_active_ = false;
      else next = write_queue_.front();
    }
    if (next) next->woken.set(Wakeup::kLead);  // first the next commit, then the wakeups
    for (auto* p : batch)
      if (p != &self) p->woken.set(Wakeup::kCommitted);  // after this, *p may be gone
  }
  if (self.error) std::rethrow_exception(self.error);
}

void Store::run_write_batch(std::vector<PendingWrite*>& batch) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    StatementCache& sql = *statements_;
    for (auto* p : batch) {
      sql("SAVEPOINT one_write")->exec();
      try {
        (*p->work)(sql);
        sql("RELEASE one_write")->exec();
      } catch (...) {
        sql("ROLLBACK TO one_write")->exec();
        sql("RELEASE one_write")->exec();
        try {
          throw;
        } catch (const SQLite::Exception& e) {
          p->error = std::make_exception_ptr(StoreError(std::string(p->what) + ": " + e.what()));
        } catch (...) {
          p->error = std::current_exception();
        }
      }
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    // The transaction itself failed (busy past the timeout, disk full):
    // nothing of the batch is durable, so every caller gets the error.
    for (auto* p : batch)
      if (!p->error) p->error = std::make_exception_ptr(StoreError(std::string(p->what) + ": " + e.what()));
  } catch (...) {
    for (auto* p : batch)
      if (!p->error) p->error = std::current_exception();
  }
}

int Store::latest_schema_version() {
  const auto& all = migrations();
  return all.empty() ? 0 : all.back().version;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  // SQLite's allocation statistics take one process-wide mutex on every
  // allocation of every connection, which the writer and the readers then
  // contend for; plugauth never reads them. Only possible before SQLite is
  // initialised (else SQLITE_MISUSE, and the statistics stay: harmless).
  static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)no_memstatus;
  std::unique_ptr<Store> s(new Store(path));
  try {
    s->db_ = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    s->db_->setBusyTimeout(kBusyTimeoutMs);
    auto mode = s->db_->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal") return make_error("could not switch " + path + " to WAL mode (got " + mode + ")");
    s->db_->exec("PRAGMA synchronous=FULL");
    s->db_->exec("PRAGMA foreign_keys=ON");
    // group_write's savepoints journal the pages they change again; in
    // memory, not in a temp file past 64 KiB (a batch of rotations is more).
    s->db_->exec("PRAGMA temp_store=MEMORY");
    auto migrated = apply_migrations(*s->db_);
    if (!migrated) return migrated.error();
    s->statements_ = std::make_unique<StatementCache>(*s->db_);
  } catch (const SQLite::Exception& e) {
    return make_error("cannot open database " + path + ": " + e.what());
  }
  return s;
}

int Store::schema_version() {
  return with_db("schema_version", [&](SQLite::Database& db) { return current_version(db); });
}

bool Store::ping() noexcept {
  try {
    std::lock_guard lock(mu_);
    return db_->execAndGet("SELECT 1").getInt() == 1;
  } catch (...) {
    return false;
  }
}

int64_t Store::data_version() {
  return with_db("data_version", [&](SQLite::Database& db) { return db.execAndGet("PRAGMA data_version").getInt64(); });
}

std::string Store::integrity_check() {
  return with_db("integrity_check", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "PRAGMA integrity_check");
    std::string report;
    while (st.executeStep()) {
      if (!report.empty()) report += "\n";
      report += st.getColumn(0).getString();
    }
    return report;
  });
}

Status Store::backup_to(const std::string& file) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Database dest(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Backup backup(dest, *db_);
    backup.executeStep(-1);  // all pages in one step: consistent snapshot
    if (backup.getRemainingPageCount() != 0) return make_error("backup incomplete");
  } catch (const SQLite::Exception& e) {
    return make_error("backup to " + file + " failed: " + e.what());
  }
  return ok_status();
}

std::vector<StoredSigningKey> Store::signing_keys(int64_t now) {
  return with_db("signing_keys", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "SELECT kid, alg, public_key, secret_sealed, created_at, retired_at, expires_at"
                         " FROM signing_keys WHERE expires_at IS NULL OR expires_at > ?"
                         " ORDER BY created_at DESC, rowid DESC");
    st.bind(1, now);
    std::vector<StoredSigningKey> out;
    while (st.executeStep()) {
      StoredSigningKey k;
      k.kid = st.getColumn(0).getString();
      k.alg = st.getColumn(1).getString();
      k.public_key = sql::blob(st.getColumn(2));
      k.secret_sealed = sql::blob(st.getColumn(3));
      k.created_at = st.getColumn(4).getInt64();
      k.retired_at = sql::opt_int(st.getColumn(5));
      k.expires_at = sql::opt_int(st.getColumn(6));
      out.push_back(std::move(k));
    }
    return out;
  });
}

void Store::rotate_signing_key(const StoredSigningKey& fresh, int64_t retire_at, int64_t retired_expire_at) {
  with_db("rotate_signing_key", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement retire(db,
                             "UPDATE signing_keys SET retired_at = ?, expires_at = ?"
                             " WHERE retired_at IS NULL");
    retire.bind(1, retire_at);
    retire.bind(2, retired_expire_at);
    retire.exec();
    SQLite::Statement ins(db,
                          "INSERT INTO signing_keys (kid, alg, public_key, secret_sealed, created_at,"
                          " retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, fresh.kid);
    ins.bind(2, fresh.alg);
    if (fresh.public_key.empty()) ins.bind(3);
    else ins.bind(3, fresh.public_key.data(), static_cast<int>(fresh.public_key.size()));
    ins.bind(4, fresh.secret_sealed.data(), static_cast<int>(fresh.secret_sealed.size()));
    ins.bind(5, fresh.created_at);
    sql::bind_opt(ins, 6, fresh.retired_at);
    sql::bind_opt(ins, 7, fresh.expires_at);
    ins.exec();
    tx.commit();
  });
}

void Store::set_served_setting(const std::string& name, const std::string& value, int64_t now) {
  with_db("set_served_setting", [&](SQLite::Database& db) {
    SQLite::Statement st(db,
                         "INSERT INTO served_settings (name, value, updated_at) VALUES (?, ?, ?)"
                         " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                         " WHERE value IS NOT excluded.value");
    st.bind(1, name);
    st.bind(2, value);
    st.bind(3, now);
    st.exec();
  });
}

std::optional<std::string> Store::served_setting(const std::string& name) {
  return with_db("served_setting", [&](SQLite::Database& db) -> std::optional<std::string> {
    SQLite::Statement st(db, "SELECT value FROM served_settings WHERE name = ?");
    st.bind(1, name);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getString();
  });
}

int Store::delete_expired_signing_keys(int64_t now) {
  return with_db("delete_expired_signing_keys", [&](SQLite::Database& db) {
    SQLite::Statement st(db, "DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at <= ?");
    st.bind(1, now);
    return st.exec();
  });
}

void Store::append_audit_events(const std::vector<AuditEvent>& events) {
  if (events.empty()) return;
  with_db("append_audit_events", [&](SQLite::Database& db) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(db,
                         "INSERT INTO audit_events (at, action, subject, client_id, key_id, api_path,"
                         " status, client_ip, detail, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& e : events) {
      st.bind(1, e.at);
      st.bind(2, e.action);
      st.bind(3, e.subject);
      st.bind(4, e.client_id);
      st.bind(5, e.key_id);
      st.bind(6, e.api_path);
      st.bind(7, e.status);
      st.bind(8, e.client_ip);
      st.bind(9, e.detail);
      st.bind(10, e.count);
      st.exec();
      st.reset();
    }
    tx.commit();
  });
}

}  // namespace plugauth::store
