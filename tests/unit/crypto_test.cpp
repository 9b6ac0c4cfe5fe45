#include "tests/unit/temp_dir.h"
#include "auth/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "auth/base64url.h"
#include "common/clock.h"

using namespace plugauth;

namespace {

using plugauth::testing::TempDir;

void write_file(const std::string& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

mode_t file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string key_bytes(const SecretKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), SecretKey::kSize);
}

SecretKey random_master_key() {
  SystemRandom random;
  return SecretKey(random.bytes(SecretKey::kSize));
}

// Same bytes every time it is asked, so tests can compare keys.
class CountingRandom final : public Random {
 public:
  void fill(void* buf, size_t len) override {
    auto* bytes = static_cast<unsigned char*>(buf);
    for (size_t i = 0; i < len; ++i) bytes[i] = static_cast<unsigned char>(next_++);
  }

 private:
  unsigned next_ = 1;
};

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

}  // namespace

TEST_CASE("the master key is created as <data>/master.key with mode 0600 on first start (SPEC §5)") {
  REQUIRE(crypto_init());
  TempDir dir;
  SystemRandom random;
  // Even with a permissive umask the file must come out 0600.
  mode_t old_umask = ::umask(0);
  auto loaded = load_or_create_master_key({"", "", dir.path()}, random);
  ::umask(old_umask);
  REQUIRE(loaded.ok());
  CHECK(loaded->created);
  CHECK(loaded->path == dir.file("master.key"));
  CHECK(file_mode(dir.file("master.key")) == 0600);

  std::string content = read_file(dir.file("master.key"));
  REQUIRE(content.size() == 65);
  CHECK(content.back() == '\n');
  CHECK(content.substr(0, 64) == hex_encode(key_bytes(loaded->key)));
}

TEST_CASE("the master key created on first start is read back, unchanged, on the next") {
  TempDir dir;
  SystemRandom random;
  auto first = load_or_create_master_key({"", "", dir.path()}, random);
  REQUIRE(first.ok());
  auto second = load_or_create_master_key({"", "", dir.path()}, random);
  REQUIRE(second.ok());
  CHECK_FALSE(second->created);
  CHECK(key_bytes(second->key) == key_bytes(first->key));
}

TEST_CASE("the data directory is created if missing, then holds master.key") {
  TempDir dir;
  SystemRandom random;
  auto loaded = load_or_create_master_key({"", "", dir.file("data")}, random);
  REQUIRE(loaded.ok());
  CHECK(loaded->path == dir.file("data/master.key"));
  CHECK(file_mode(dir.file("data/master.key")) == 0600);
}

TEST_CASE("a master key file readable by group or others is refused, naming the file and the fix (SPEC §5)") {
  TempDir dir;
  SystemRandom random;
  write_file(dir.file("master.key"), kHexKey + "\n", 0644);
  auto loaded = load_or_create_master_key({"", "", dir.path()}, random);
  REQUIRE_FALSE(loaded.ok());
  const std::string& message = loaded.error().message;
  CHECK(message.find(dir.file("master.key")) != std::string::npos);
  CHECK(message.find("chmod 600 " + dir.file("master.key")) != std::string::npos);
  // Refused, not replaced.
  CHECK(read_file(dir.file("master.key")) == kHexKey + "\n");

  write_file(dir.file("master.key"), kHexKey + "\n", 0640);
  CHECK_FALSE(load_or_create_master_key({"", "", dir.path()}, random).ok());
  write_file(dir.file("master.key"), kHexKey + "\n", 0604);
  CHECK_FALSE(load_or_create_master_key({"", "", dir.path()}, random).ok());
  write_file(dir.file("master.key"), kHexKey + "\n", 0400);
  CHECK(load_or_create_master_key({"", "", dir.path()}, random).ok());
}

TEST_CASE("PLUGAUTH_MASTER_KEY_FILE is used before <data>/master.key") {
  TempDir dir;
  SystemRandom random;
  write_file(dir.file("other.key"), kHexKey + "\n", 0600);
  auto loaded = load_or_create_master_key({"", dir.file("other.key"), dir.path()}, random);
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->created);
  CHECK(loaded->path == dir.file("other.key"));
  CHECK(hex_encode(key_bytes(loaded->key)) == kHexKey);
  CHECK(::access(dir.file("master.key").c_str(), F_OK) != 0);
}

TEST_CASE("a missing PLUGAUTH_MASTER_KEY_FILE is an error, not a reason to make a new key") {
  TempDir dir;
  SystemRandom random;
  auto loaded = load_or_create_master_key({"", dir.file("other.key"), dir.path()}, random);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.find(dir.file("other.key")) != std::string::npos);
  CHECK(::access(dir.file("other.key").c_str(), F_OK) != 0);
}

TEST_CASE("$CREDENTIALS_DIRECTORY/master-key comes first (systemd LoadCredential=)") {
  TempDir dir;
  SystemRandom random;
  std::string raw(SecretKey::kSize, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(0xA0 + i);
  write_file(dir.file("master-key"), raw, 0400);
  write_file(dir.file("other.key"), kHexKey + "\n", 0600);
  auto loaded = load_or_create_master_key({dir.path(), dir.file("other.key"), dir.path()}, random);
  REQUIRE(loaded.ok());
  CHECK(loaded->path == dir.file("master-key"));
  CHECK(key_bytes(loaded->key) == raw);
}

TEST_CASE("a credentials directory without master-key falls through to the next source") {
  TempDir dir;
  SystemRandom random;
  REQUIRE(::mkdir(dir.file("creds").c_str(), 0700) == 0);
  write_file(dir.file("other.key"), kHexKey, 0600);
  auto loaded = load_or_create_master_key({dir.file("creds"), dir.file("other.key"), ""}, random);
  REQUIRE(loaded.ok());
  CHECK(loaded->path == dir.file("other.key"));
}

TEST_CASE("a master key file holds 32 raw bytes or 64 hex digits, with optional trailing whitespace") {
  TempDir dir;
  SystemRandom random;
  const std::string path = dir.file("other.key");
  auto load = [&] { return load_or_create_master_key({"", path, ""}, random); };

  for (const std::string& content : {kHexKey, kHexKey + "\n", kHexKey + "\r\n", kHexKey + "  \n"}) {
    write_file(path, content, 0600);
    auto loaded = load();
    REQUIRE(loaded.ok());
    CHECK(hex_encode(key_bytes(loaded->key)) == kHexKey);
  }
  std::string upper = kHexKey;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_file(path, upper, 0600);
  CHECK(load().ok());

  std::string raw(SecretKey::kSize, '\x01');
  raw[5] = '\n';
  write_file(path, raw, 0600);
  auto loaded = load();
  REQUIRE(loaded.ok());
  CHECK(key_bytes(loaded->key) == raw);
}

TEST_CASE("a master key file with anything else in it is refused") {
  TempDir dir;
  SystemRandom random;
  const std::string path = dir.file("other.key");
  auto load = [&] { return load_or_create_master_key({"", path, ""}, random); };
  for (const std::string& content : {std::string(), std::string("\n"), kHexKey.substr(0, 63), kHexKey + "0",
                                     " " + kHexKey, kHexKey.substr(0, 62) + "zz", kHexKey.substr(0, 32),
                                     std::string(31, 'x'), std::string(33, 'x'), kHexKey + "\nextra"}) {
    write_file(path, content, 0600);
    auto loaded = load();
    CHECK_FALSE(loaded.ok());
    if (!loaded.ok()) CHECK(loaded.error().message.find(path) != std::string::npos);
  }
}

TEST_CASE("SecretKey takes exactly 32 bytes and is wiped when moved from") {
  CHECK_THROWS(SecretKey(std::string(31, 'a')));
  CHECK_THROWS(SecretKey(std::string(33, 'a')));
  SecretKey key(std::string(32, 'k'));
  SecretKey moved(std::move(key));
  CHECK(key_bytes(moved) == std::string(32, 'k'));
  CHECK(key_bytes(key) == std::string(32, '\0'));  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("hash_secret is a keyed 32-byte BLAKE2b: stable for one master key, different for another") {
  SecretKey master = random_master_key();
  CryptoKeys keys(master);
  CryptoKeys other(random_master_key());
  Bytes hash = keys.hash_secret("pak_secret");
  CHECK(hash.size() == 32);
  CHECK(keys.hash_secret("pak_secret") == hash);
  CHECK(keys.hash_secret("pak_secreT") != hash);
  CHECK(other.hash_secret("pak_secret") != hash);

  unsigned char unkeyed[32];
  crypto_generichash(unkeyed, sizeof unkeyed, reinterpret_cast<const unsigned char*>("pak_secret"), 10,
                     nullptr, 0);
  CHECK(hash != std::string(reinterpret_cast<const char*>(unkeyed), sizeof unkeyed));
  // Keyed with a subkey, never with the master key itself.
  unsigned char with_master[32];
  crypto_generichash(with_master, sizeof with_master, reinterpret_cast<const unsigned char*>("pak_secret"),
                     10, master.data(), SecretKey::kSize);
  CHECK(hash != std::string(reinterpret_cast<const char*>(with_master), sizeof with_master));
}

TEST_CASE("derive gives one stable key per purpose, none equal to the hashing key") {
  CryptoKeys keys(random_master_key());
  CHECK(key_bytes(keys.derive(7)) == key_bytes(keys.derive(7)));
  std::set<std::string> seen;
  for (uint64_t id = 0; id < 8; ++id) seen.insert(key_bytes(keys.derive(id)));
  CHECK(seen.size() == 8);
  for (uint64_t id = 0; id < 8; ++id) {
    SecretKey candidate = keys.derive(id);
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>("s"), 1, candidate.data(),
                       SecretKey::kSize);
    CHECK(keys.hash_secret("s") != std::string(reinterpret_cast<const char*>(hash), sizeof hash));
  }
}

TEST_CASE("a sealed value opens with the same context and is nonce || ciphertext || tag") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  Bytes sealed = keys.seal("ed25519 private key", "signing-key:k1", random);
  CHECK(sealed.size() == 24 + 19 + 16);
  CHECK(sealed.find("ed25519 private key") == std::string::npos);
  auto opened = keys.open(sealed, "signing-key:k1");
  REQUIRE(opened);
  CHECK(*opened == "ed25519 private key");

  auto empty = keys.open(keys.seal("", "ctx", random), "ctx");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("a sealed value does not open under another context, so it cannot move to another row") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  Bytes sealed = keys.seal("hmac key", "signing-key:k1", random);
  CHECK_FALSE(keys.open(sealed, "signing-key:k2"));
  CHECK_FALSE(keys.open(sealed, ""));
}

TEST_CASE(
    "a sealed value that was tampered with, truncated, or sealed under another master key does not open") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  Bytes sealed = keys.seal("totp secret", "totp:user-1", random);
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    CHECK_FALSE(keys.open(tampered, "totp:user-1"));
  }
  CHECK_FALSE(keys.open(sealed.substr(0, sealed.size() - 1), "totp:user-1"));
  CHECK_FALSE(keys.open(sealed.substr(0, 39), "totp:user-1"));
  CHECK_FALSE(keys.open("", "totp:user-1"));
  CryptoKeys other(random_master_key());
  CHECK_FALSE(other.open(sealed, "totp:user-1"));
}

TEST_CASE("sealing the same value twice gives different ciphertexts (random 192-bit nonce)") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  CHECK(keys.seal("same", "ctx", random) != keys.seal("same", "ctx", random));
}

TEST_CASE(
    "a minted token is '<prefix>_<16 hex id>_<54 base64url chars>' and parses back to its type and id") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  for (TokenType type :
       {TokenType::ApiKey, TokenType::ServiceToken, TokenType::ClientSecret, TokenType::AuthorizationCode,
        TokenType::RefreshToken, TokenType::RegistrationToken, TokenType::Session}) {
    MintedToken minted = keys.mint_token(type, random);
    std::string prefix = token_prefix(type);
    CHECK(minted.token.size() == 3 + 1 + 16 + 1 + 54);
    CHECK(minted.token.rfind(prefix + "_" + minted.id + "_", 0) == 0);
    CHECK(minted.id.size() == 16);
    CHECK(minted.id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(minted.hash == keys.hash_secret(minted.token));

    auto parsed = keys.parse_token(minted.token);
    REQUIRE(parsed);
    CHECK(parsed->type == type);
    CHECK(parsed->id == minted.id);
  }
}

TEST_CASE("token prefixes are distinct") {
  std::set<std::string> prefixes;
  for (TokenType type :
       {TokenType::ApiKey, TokenType::ServiceToken, TokenType::ClientSecret, TokenType::AuthorizationCode,
        TokenType::RefreshToken, TokenType::RegistrationToken, TokenType::Session}) {
    prefixes.insert(token_prefix(type));
  }
  CHECK(prefixes.size() == 7);
  CHECK(std::string(token_prefix(TokenType::ApiKey)) == "pak");
  CHECK(std::string(token_prefix(TokenType::RefreshToken)) == "par");
}

TEST_CASE("two minted tokens share neither id nor secret") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  MintedToken a = keys.mint_token(TokenType::RefreshToken, random);
  MintedToken b = keys.mint_token(TokenType::RefreshToken, random);
  CHECK(a.id != b.id);
  CHECK(a.token.substr(21) != b.token.substr(21));
  CHECK(a.hash != b.hash);
}

TEST_CASE("a token whose MAC or secret was altered is rejected before any database read (SPEC §5)") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  MintedToken minted = keys.mint_token(TokenType::ApiKey, random);
  std::string head = minted.token.substr(0, 21);
  Bytes body = *base64url_decode(minted.token.substr(21));
  REQUIRE(body.size() == 40);
  for (size_t i = 0; i < body.size(); ++i) {
    Bytes forged = body;
    forged[i] = static_cast<char>(forged[i] ^ 0x80);
    CHECK_FALSE(keys.parse_token(head + base64url_encode(forged)));
  }
}

TEST_CASE("a token is bound to its id: the same secret and MAC under another id is rejected") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  MintedToken minted = keys.mint_token(TokenType::ApiKey, random);
  std::string other_id = minted.token;
  other_id[4] = other_id[4] == '0' ? '1' : '0';
  CHECK_FALSE(keys.parse_token(other_id));
}

TEST_CASE("a token is bound to its prefix: a valid API key relabelled as another type is rejected") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  MintedToken minted = keys.mint_token(TokenType::ApiKey, random);
  CHECK_FALSE(keys.parse_token("pas" + minted.token.substr(3)));
  CHECK_FALSE(keys.parse_token("par" + minted.token.substr(3)));
  CHECK_FALSE(keys.parse_token("xyz" + minted.token.substr(3)));
  CHECK_FALSE(keys.parse_token("PAK" + minted.token.substr(3)));
}

TEST_CASE("a truncated, extended or reshaped token is rejected") {
  CryptoKeys keys(random_master_key());
  SystemRandom random;
  std::string token = keys.mint_token(TokenType::ClientSecret, random).token;
  CHECK_FALSE(keys.parse_token(""));
  CHECK_FALSE(keys.parse_token(token.substr(0, token.size() - 1)));
  CHECK_FALSE(keys.parse_token(token.substr(0, 21)));
  CHECK_FALSE(keys.parse_token(token + "A"));
  CHECK_FALSE(keys.parse_token(token + "\n"));

  std::string dash = token;
  dash[3] = '-';
  CHECK_FALSE(keys.parse_token(dash));
  std::string upper_id = token;
  for (size_t i = 4; i < 20; ++i) upper_id[i] = static_cast<char>(std::toupper(upper_id[i]));
  if (upper_id != token) CHECK_FALSE(keys.parse_token(upper_id));
  std::string padded = token;
  padded.back() = '=';
  CHECK_FALSE(keys.parse_token(padded));
}

TEST_CASE("a token minted under one master key is rejected under another") {
  SystemRandom random;
  CryptoKeys keys(random_master_key());
  CryptoKeys other(random_master_key());
  CHECK_FALSE(other.parse_token(keys.mint_token(TokenType::RefreshToken, random).token));
}

TEST_CASE("minting uses only the injected randomness") {
  CryptoKeys keys(SecretKey(std::string(32, 'm')));
  CountingRandom first;
  CountingRandom second;
  CHECK(keys.mint_token(TokenType::Session, first).token ==
        keys.mint_token(TokenType::Session, second).token);
}

TEST_CASE("constant_time_equal compares contents and lengths") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret "));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}
