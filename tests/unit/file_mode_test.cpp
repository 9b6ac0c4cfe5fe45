// SPEC §5, §6: files that hold secrets — the master key, the database, its
// -wal and -shm, every backup — are never readable or writable by group or
// others, and a refusal names the chmod that fixes it. One rule for all.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "auth/crypto.h"
#include "temp_dir.h"

using namespace plugauth;
using plugauth::testing::TempDir;

namespace {

std::string make_file(const TempDir& dir, const std::string& name, mode_t mode) {
  const std::string path = dir.file(name);
  std::ofstream(path) << "x";
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a secret file's mode is private only with no group or other bit at all") {
  for (unsigned mode : {0600u, 0400u, 0200u, 0700u, 0100600u /* S_IFREG | 0600 */})
    CHECK_FALSE(exposed_file_refusal("database", "/d/plugauth.db", mode).has_value());
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u, 0602u, 0610u, 0601u, 0660u, 0666u, 0777u, 0100644u})
    CHECK(exposed_file_refusal("database", "/d/plugauth.db", mode).has_value());
}

TEST_CASE("the refusal names the file, its mode and the chmod that fixes it") {
  const auto refusal = exposed_file_refusal("database", "/d/plugauth.db", 0100644u);
  REQUIRE(refusal.has_value());
  CHECK(contains(*refusal, "database /d/plugauth.db"));
  CHECK(contains(*refusal, "mode 0644"));
  CHECK(contains(*refusal, "chmod 600 /d/plugauth.db"));
}

TEST_CASE("a database whose -wal others can read is refused, naming that file's chmod") {
  TempDir dir;
  const std::string db = make_file(dir, "plugauth.db", 0600);
  const std::string wal = make_file(dir, "plugauth.db-wal", 0644);
  const auto refusal = exposed_files_refusal("database", database_files(db));
  REQUIRE(refusal.has_value());
  CHECK(contains(*refusal, wal + " (mode 0644)"));
  CHECK(contains(*refusal, "Fix with: chmod 600 " + wal));
  CHECK_FALSE(contains(*refusal, db + " (mode"));  // the database itself is private
}

TEST_CASE("every exposed database file is named in one chmod") {
  TempDir dir;
  const std::string db = make_file(dir, "plugauth.db", 0644);
  make_file(dir, "plugauth.db-wal", 0600);
  const std::string shm = make_file(dir, "plugauth.db-shm", 0640);
  const auto refusal = exposed_files_refusal("database", database_files(db));
  REQUIRE(refusal.has_value());
  CHECK(contains(*refusal, "chmod 600 " + db + " " + shm));
}

TEST_CASE("private or absent database files pass") {
  TempDir dir;
  const std::string db = make_file(dir, "plugauth.db", 0600);
  CHECK_FALSE(exposed_files_refusal("database", database_files(db)).has_value());  // no -wal, no -shm
  make_file(dir, "plugauth.db-wal", 0600);
  make_file(dir, "plugauth.db-shm", 0600);
  CHECK_FALSE(exposed_files_refusal("database", database_files(db)).has_value());
  CHECK_FALSE(exposed_files_refusal("backup", {dir.file("absent.db")}).has_value());
}

TEST_CASE("the master key follows the same rule (refused with chmod 600 when others can read it)") {
  TempDir dir;
  const std::string key = make_file(dir, "master.key", 0644);
  std::ofstream(key) << std::string(64, 'a');
  MasterKeyLocation where;
  where.key_file = key;
  SystemRandom random;
  auto loaded = load_or_create_master_key(where, random);
  REQUIRE_FALSE(loaded.ok());
  CHECK(contains(loaded.error().message, "chmod 600 " + key));
}
