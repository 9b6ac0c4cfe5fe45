// Shared by the store/*.cpp files that implement Store; not for callers.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
#include <string>

#include "store/store.h"

namespace plugauth::store {

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
