// The cryptographic core (SPEC §5), all through libsodium:
//  - the 32-byte master key and the subkeys derived from it (crypto_kdf);
//  - keyed BLAKE2b hashes of secrets, which is all the database stores;
//  - XChaCha20-Poly1305 sealing of secrets the daemon must read back
//    (signing keys, HMAC keys, TOTP secrets);
//  - opaque tokens with a type prefix, a public id, 256 bits of secret and a
//    MAC, so a forged or mistyped token is refused before any database read.
//
// Thread safety: a CryptoKeys is immutable after construction and may be
// shared by any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace plugauth {

// Raw bytes (not text). std::string keeps conversions to SQLite blobs cheap.
using Bytes = std::string;

// Calls sodium_init(); safe to call many times. Returns false if libsodium
// cannot initialise (the process must not continue).
bool crypto_init();

// 32 secret bytes, wiped from memory when destroyed. Move-only.
class SecretKey {
 public:
  static constexpr size_t kSize = 32;
  SecretKey();
  explicit SecretKey(std::string_view bytes);  // must be kSize bytes
  SecretKey(SecretKey&&) noexcept;
  SecretKey& operator=(SecretKey&&) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();
  const unsigned char* data() const { return bytes_.data(); }
  unsigned char* data() { return bytes_.data(); }

 private:
  std::array<unsigned char, kSize> bytes_;
};

struct MasterKeyLocation {
  std::string credentials_directory;  // $CREDENTIALS_DIRECTORY or empty
  std::string key_file;               // $PLUGAUTH_MASTER_KEY_FILE or empty
  std::string data_dir;               // <data>; master.key lives here by default
};

struct LoadedMasterKey {
  SecretKey key;
  std::string path;   // where it was read from (or created)
  bool created = false;
};

// SPEC §5: $CREDENTIALS_DIRECTORY/master-key, else $PLUGAUTH_MASTER_KEY_FILE,
// else <data>/master.key, which is created with mode 0600 (O_EXCL) when
// missing. A key file readable by group or others is refused, naming the file
// and the fix (chmod 600). The file holds 32 raw bytes or 64 hex digits
// (optionally followed by a newline); anything else is an error.
Result<LoadedMasterKey> load_or_create_master_key(const MasterKeyLocation& where, Random& random);

// SPEC §5, §6: a file that holds secrets — the master key, the database,
// its -wal and -shm, every backup — is never readable or writable by group
// or others. One rule for all of them:
//
// The refusal for the file at `path` (called `what` in the message) whose
// st_mode is `mode`, naming the chmod that fixes it; nullopt when the mode
// is private (no group or other permission bit at all).
std::optional<std::string> exposed_file_refusal(const std::string& what, const std::string& path, unsigned mode);

// The rule applied to files on disk (following symlinks, as SQLite does):
// nullopt when each of `paths` is private or absent; else one refusal naming
// every exposed file and the one chmod that fixes them all. A file that
// exists but cannot be examined is refused too (fail closed).
std::optional<std::string> exposed_files_refusal(const std::string& what, const std::vector<std::string>& paths);

// An SQLite database's files: the database, its -wal and its -shm.
std::vector<std::string> database_files(const std::string& db_path);

enum class TokenType {
  ApiKey,             // "pak": a user's API key (user_http)
  ServiceToken,       // "pas": a service access token (service_http)
  ClientSecret,       // "pac"
  AuthorizationCode,  // "paa"
  RefreshToken,       // "par"
  RegistrationToken,  // "pag": RFC 7591 initial access token
  Session,            // "pax": browser session cookie
};

const char* token_prefix(TokenType type);

struct MintedToken {
  std::string token;  // the whole secret string, shown once
  std::string id;     // public id (16 lowercase hex digits), the storage key
  Bytes hash;         // keyed hash of `token`, what the database stores
};

struct ParsedToken {
  TokenType type;
  std::string id;
};

// Subkeys derived from the master key (crypto_kdf_derive_from_key, context
// "plugauth"), one per purpose, so that no key is used for two things.
class CryptoKeys {
 public:
  explicit CryptoKeys(const SecretKey& master);

  // Keyed BLAKE2b-256 of a secret: what the database stores.
  Bytes hash_secret(std::string_view secret) const;

  // XChaCha20-Poly1305: returns nonce || ciphertext || tag. `context` is bound
  // as associated data (e.g. "signing-key:<kid>"), so a sealed value cannot
  // be moved to another row.
  Bytes seal(std::string_view plaintext, std::string_view context, Random& random) const;
  std::optional<Bytes> open(std::string_view sealed, std::string_view context) const;

  // Token: "<prefix>_<id>_<base64url(secret32 || mac8)>".
  MintedToken mint_token(TokenType type, Random& random) const;
  // Checks prefix, shape, lengths and MAC, in constant time for the MAC. A
  // token that fails is rejected without a database read.
  std::optional<ParsedToken> parse_token(std::string_view token) const;

  // HMAC-SHA256-sized key for a named purpose (e.g. CSRF tokens). Derived
  // under a KDF context of its own, so no `subkey_id` yields one of the keys
  // above.
  SecretKey derive(uint64_t subkey_id) const;

 private:
  SecretKey hash_key_;
  SecretKey seal_key_;
  SecretKey mac_key_;
  SecretKey master_copy_;
};

// sodium_memcmp; false when the lengths differ (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace plugauth
