// Shared by the store/*.cpp files that implement Store; not for callers.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <optional>
#include <unordered_map>
#include <string>

#include "store/store.h"

namespace plugauth::store {

// Prepared statements kept for the connection's life: preparing (parsing
// SQL) costs more than running the small statements of the hot paths.
// Each use gets the statement reset and unbound, and resets it again when
// done, so no SELECT keeps a WAL read snapshot open.
class StatementCache {
 public:
  class Use {
   public:
    explicit Use(SQLite::Statement& st) : st_(st) {}
    ~Use() { st_.tryReset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    SQLite::Statement* operator->() { return &st_; }
    SQLite::Statement& operator*() { return st_; }

   private:
    SQLite::Statement& st_;
  };

  explicit StatementCache(SQLite::Database& db) : db_(db) {}
  SQLite::Database& db() { return db_; }

  Use operator()(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
    it->second->tryReset();
    it->second->clearBindings();
    return Use(*it->second);
  }

 private:
  SQLite::Database& db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> cache_;
};

template <typename F>
auto Store::with_sql(const char* what, F&& body) -> decltype(body(std::declval<StatementCache&>())) {
  std::lock_guard lock(mu_);
  try {
    return body(*statements_);
  } catch (const SQLite::Exception& e) {
    throw StoreError(std::string(what) + ": " + e.what());
  }
}

// A read-only connection of the pool behind with_reader.
struct Store::Reader {
  explicit Reader(const std::string& path);
  SQLite::Database db;
  StatementCache sql;
};

// Takes an idle Reader from the pool (or opens one) and gives it back.
class Store::ReaderLease {
 public:
  explicit ReaderLease(Store& store);
  ~ReaderLease();
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  StatementCache& sql() { return reader_->sql; }

 private:
  Store& store_;
  std::unique_ptr<Reader> reader_;
};

template <typename F>
auto Store::with_reader(const char* what, F&& body) -> decltype(body(std::declval<StatementCache&>())) {
  if (path_ == ":memory:") return with_sql(what, std::forward<F>(body));  // another connection would see another database
  try {
    ReaderLease reader(*this);
    return body(reader.sql());
  } catch (const SQLite::Exception& e) {
    throw StoreError(std::string(what) + ": " + e.what());
  }
}

template <typename F>
auto Store::with_db(const char* what, F&& body) -> decltype(body(std::declval<SQLite::Database&>())) {
  std::lock_guard lock(mu_);
  try {
    return body(*db_);
  } catch (const SQLite::Exception& e) {
    throw StoreError(std::string(what) + ": " + e.what());
  }
}

namespace sql {

inline std::optional<int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

inline std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}

inline std::string blob(const SQLite::Column& c) {
  if (c.isNull()) return {};
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<size_t>(c.getBytes()));
}

inline void bind_blob(SQLite::Statement& st, int index, const std::string& bytes) {
  st.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

inline void bind_opt(SQLite::Statement& st, int index, const std::optional<int64_t>& v) {
  if (v) st.bind(index, *v);
  else st.bind(index);
}

inline void bind_opt(SQLite::Statement& st, int index, const std::optional<std::string>& v) {
  if (v) st.bind(index, *v);
  else st.bind(index);
}

}  // namespace sql
}  // namespace plugauth::store
