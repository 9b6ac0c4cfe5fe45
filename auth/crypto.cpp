#include "auth/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "auth/base64url.h"

namespace plugauth {

namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "plugauth";
// derive() hands out keys for callers' own purposes under a context of their
// own, so that no subkey id a caller picks can collide with the ones below.
constexpr char kPurposeKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "plugpurp";
constexpr uint64_t kHashSubkeyId = 1;
constexpr uint64_t kSealSubkeyId = 2;
constexpr uint64_t kTokenMacSubkeyId = 3;

constexpr size_t kTokenIdBytes = 8;
constexpr size_t kTokenSecretBytes = 32;
constexpr size_t kTokenMacBytes = 8;
constexpr size_t kPrefixLength = 3;
// "<prefix>_<16 hex>_<base64url of 40 bytes, 54 characters>"
constexpr size_t kTokenIdLength = 2 * kTokenIdBytes;
constexpr size_t kTokenBodyLength = ((kTokenSecretBytes + kTokenMacBytes) * 4 + 2) / 3;
constexpr size_t kTokenLength = kPrefixLength + 1 + kTokenIdLength + 1 + kTokenBodyLength;

constexpr size_t kMaxKeyFileBytes = 4096;

const unsigned char* as_uchars(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

SecretKey derive_subkey(const SecretKey& master, uint64_t id, const char* context) {
  SecretKey subkey;
  crypto_kdf_derive_from_key(subkey.data(), SecretKey::kSize, id, context, master.data());
  return subkey;
}

// Keyed BLAKE2b with an output length of `length` bytes (8 for a token MAC,
// which is a checksum against forgery before the database read, not the
// stored credential: that is hash_secret's 32 bytes).
Bytes keyed_blake2b(const SecretKey& key, std::string_view message, size_t length) {
  Bytes out(length, '\0');
  if (crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), length, as_uchars(message),
                         message.size(), key.data(), SecretKey::kSize) != 0) {
    throw std::logic_error("crypto_generichash refused its parameters");
  }
  return out;
}

std::string token_mac_input(std::string_view prefix, std::string_view id, std::string_view secret) {
  std::string input;
  input.reserve(prefix.size() + id.size() + secret.size() + 2);
  input.append(prefix).append("_").append(id).append("_").append(secret);
  return input;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::string errno_text(int error) {
  return std::strerror(error);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// 32 raw bytes, or 64 hex digits optionally followed by whitespace.
Result<SecretKey> parse_master_key(std::string_view content, const std::string& path) {
  if (content.size() == SecretKey::kSize) {
    // 32 hex digits are far likelier a hex key cut in half than raw bytes.
    if (is_hex(content)) {
      return make_error("master key file " + path +
                        " holds 32 hex digits; a key is 64 hex digits or 32 raw bytes");
    }
    return SecretKey(content);
  }
  std::string_view text = content;
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (text.size() != 2 * SecretKey::kSize || !is_hex(text)) {
    return make_error("master key file " + path +
                      " must hold 64 hex digits (optionally followed by a newline) or 32 raw bytes");
  }
  SecretKey key;
  size_t decoded = 0;
  int rc = sodium_hex2bin(key.data(), SecretKey::kSize, text.data(), text.size(), nullptr, &decoded, nullptr);
  if (rc != 0 || decoded != SecretKey::kSize) {
    return make_error("master key file " + path + " is not valid hex");
  }
  return key;
}

std::string octal_mode(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

}  // namespace

std::optional<std::string> exposed_file_refusal(const std::string& what, const std::string& path, unsigned mode) {
  if ((mode & (S_IRWXG | S_IRWXO)) == 0) return std::nullopt;
  return what + " " + path + " is accessible by group or others (mode " + octal_mode(mode) +
         "); refusing to use it. Fix with: chmod 600 " + path;
}

std::optional<std::string> exposed_files_refusal(const std::string& what, const std::vector<std::string>& paths) {
  std::string exposed;  // "a (mode 0644), b (mode 0640)"
  std::string fix;      // "a b"
  int count = 0;
  for (const auto& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return "cannot examine " + what + " " + path + ": " + errno_text(errno) + "; refusing to use it";
    }
    if (!exposed_file_refusal(what, path, st.st_mode)) continue;
    exposed += (exposed.empty() ? "" : ", ") + path + " (mode " + octal_mode(st.st_mode) + ")";
    fix += " " + path;
    ++count;
  }
  if (exposed.empty()) return std::nullopt;
  return what + " " + exposed + (count == 1 ? " is" : " are") +
         " accessible by group or others; refusing to use it. Fix with: chmod 600" + fix;
}

std::vector<std::string> database_files(const std::string& db_path) {
  return {db_path, db_path + "-wal", db_path + "-shm"};
}

namespace {

// Ok(nullopt) when the file does not exist.
Result<std::optional<SecretKey>> read_master_key_file(const std::string& path) {
  int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (raw_fd < 0) {
    if (errno == ENOENT) return std::optional<SecretKey>();
    return make_error("cannot open master key file " + path + ": " + errno_text(errno));
  }
  FileDescriptor fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_error("cannot stat master key file " + path + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error("master key file " + path + " is not a regular file");
  // SPEC §5: a key others can read is a key others may have copied.
  if (auto refusal = exposed_file_refusal("master key file", path, st.st_mode)) return make_error(*refusal);
  std::string content(kMaxKeyFileBytes + 1, '\0');
  size_t filled = 0;
  while (filled < content.size()) {
    ssize_t n = ::read(fd.get(), content.data() + filled, content.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sodium_memzero(content.data(), content.size());
      return make_error("cannot read master key file " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  auto key = parse_master_key(std::string_view(content.data(), filled), path);
  sodium_memzero(content.data(), content.size());
  if (!key.ok()) return key.error();
  return std::optional<SecretKey>(std::move(key.value()));
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Creates `path` with mode 0600 and a fresh key, durably. Ok(nullopt) if the
// file appeared in the meantime (another process won the race).
Result<std::optional<SecretKey>> create_master_key_file(const std::string& path, Random& random) {
  int raw_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw_fd < 0) {
    if (errno == EEXIST) return std::optional<SecretKey>();
    return make_error("cannot create master key file " + path + ": " + errno_text(errno));
  }
  FileDescriptor fd(raw_fd);
  SecretKey key;
  random.fill(key.data(), SecretKey::kSize);
  std::string text(2 * SecretKey::kSize + 1, '\0');
  sodium_bin2hex(text.data(), text.size(), key.data(), SecretKey::kSize);
  text.back() = '\n';
  // umask can only clear bits; fchmod makes 0600 hold whatever it is.
  bool written = ::fchmod(fd.get(), 0600) == 0 && write_all(fd.get(), text) && ::fsync(fd.get()) == 0;
  int write_errno = errno;
  sodium_memzero(text.data(), text.size());
  if (!written) {
    ::unlink(path.c_str());
    return make_error("cannot write master key file " + path + ": " + errno_text(write_errno));
  }
  return std::optional<SecretKey>(std::move(key));
}

void fsync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

bool crypto_init() {
  return sodium_init() >= 0;
}

SecretKey::SecretKey() {
  bytes_.fill(0);
}

SecretKey::SecretKey(std::string_view bytes) {
  if (bytes.size() != kSize) throw std::invalid_argument("SecretKey needs exactly 32 bytes");
  std::memcpy(bytes_.data(), bytes.data(), kSize);
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), kSize);
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), kSize);
  }
  return *this;
}

SecretKey::~SecretKey() {
  sodium_memzero(bytes_.data(), kSize);
}

Result<LoadedMasterKey> load_or_create_master_key(const MasterKeyLocation& where, Random& random) {
  // $CREDENTIALS_DIRECTORY may be set for other credentials only, so a
  // missing master-key there falls through to the next source.
  if (!where.credentials_directory.empty()) {
    std::string path = where.credentials_directory + "/master-key";
    auto key = read_master_key_file(path);
    if (!key.ok()) return key.error();
    if (key.value()) return LoadedMasterKey{std::move(*key.value()), path, false};
  }
  if (!where.key_file.empty()) {
    // Named explicitly by the operator: missing is an error, never a new key.
    auto key = read_master_key_file(where.key_file);
    if (!key.ok()) return key.error();
    if (!key.value()) return make_error("master key file " + where.key_file + " does not exist");
    return LoadedMasterKey{std::move(*key.value()), where.key_file, false};
  }
  if (where.data_dir.empty()) return make_error("no data directory for master.key");
  if (::mkdir(where.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("cannot create data directory " + where.data_dir + ": " + errno_text(errno));
  }
  std::string path = where.data_dir + "/master.key";
  // Two attempts: a concurrent first start may create the file between our
  // read and our O_EXCL create, in which case we read theirs.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto existing = read_master_key_file(path);
    if (!existing.ok()) return existing.error();
    if (existing.value()) return LoadedMasterKey{std::move(*existing.value()), path, false};
    auto created = create_master_key_file(path, random);
    if (!created.ok()) return created.error();
    if (created.value()) {
      fsync_directory(where.data_dir);
      return LoadedMasterKey{std::move(*created.value()), path, true};
    }
  }
  return make_error("master key file " + path + " keeps appearing and disappearing");
}

const char* token_prefix(TokenType type) {
  switch (type) {
    case TokenType::ApiKey:
      return "pak";
    case TokenType::ServiceToken:
      return "pas";
    case TokenType::ClientSecret:
      return "pac";
    case TokenType::AuthorizationCode:
      return "paa";
    case TokenType::RefreshToken:
      return "par";
    case TokenType::RegistrationToken:
      return "pag";
    case TokenType::Session:
      return "pax";
  }
  return "";
}

namespace {
constexpr TokenType kAllTokenTypes[] = {
    TokenType::ApiKey,       TokenType::ServiceToken,
    TokenType::ClientSecret, TokenType::AuthorizationCode,
    TokenType::RefreshToken, TokenType::RegistrationToken,
    TokenType::Session,
};
}  // namespace

CryptoKeys::CryptoKeys(const SecretKey& master)
    : hash_key_(derive_subkey(master, kHashSubkeyId, kKdfContext)),
      seal_key_(derive_subkey(master, kSealSubkeyId, kKdfContext)),
      mac_key_(derive_subkey(master, kTokenMacSubkeyId, kKdfContext)) {
  std::memcpy(master_copy_.data(), master.data(), SecretKey::kSize);
}

Bytes CryptoKeys::hash_secret(std::string_view secret) const {
  return keyed_blake2b(hash_key_, secret, crypto_generichash_BYTES);
}

Bytes CryptoKeys::seal(std::string_view plaintext, std::string_view context, Random& random) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  Bytes sealed(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  random.fill(out, kNonce);
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + kNonce, &ciphertext_len, as_uchars(plaintext),
                                             plaintext.size(), as_uchars(context), context.size(), nullptr,
                                             out, seal_key_.data());
  sealed.resize(kNonce + ciphertext_len);
  return sealed;
}

std::optional<Bytes> CryptoKeys::open(std::string_view sealed, std::string_view context) const {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  Bytes plaintext(sealed.size() - kNonce - kTag, '\0');
  unsigned long long plaintext_len = 0;
  const unsigned char* in = as_uchars(sealed);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plaintext.data()), &plaintext_len, nullptr, in + kNonce,
          sealed.size() - kNonce, as_uchars(context), context.size(), in, seal_key_.data()) != 0) {
    return std::nullopt;
  }
  plaintext.resize(plaintext_len);
  return plaintext;
}

MintedToken CryptoKeys::mint_token(TokenType type, Random& random) const {
  std::string prefix = token_prefix(type);
  std::string id = hex_encode(random.bytes(kTokenIdBytes));
  Bytes secret = random.bytes(kTokenSecretBytes);
  std::string mac_input = token_mac_input(prefix, id, secret);
  Bytes body = secret + keyed_blake2b(mac_key_, mac_input, kTokenMacBytes);
  MintedToken minted;
  minted.token = prefix + "_" + id + "_" + base64url_encode(body);
  minted.id = id;
  minted.hash = hash_secret(minted.token);
  sodium_memzero(secret.data(), secret.size());
  sodium_memzero(mac_input.data(), mac_input.size());
  sodium_memzero(body.data(), body.size());
  return minted;
}

std::optional<ParsedToken> CryptoKeys::parse_token(std::string_view token) const {
  if (token.size() != kTokenLength) return std::nullopt;
  std::string_view prefix = token.substr(0, kPrefixLength);
  std::string_view id = token.substr(kPrefixLength + 1, kTokenIdLength);
  std::string_view body = token.substr(kPrefixLength + 1 + kTokenIdLength + 1);
  if (token[kPrefixLength] != '_' || token[kPrefixLength + 1 + kTokenIdLength] != '_' || !is_lower_hex(id)) {
    return std::nullopt;
  }
  std::optional<TokenType> type;
  for (TokenType candidate : kAllTokenTypes) {
    if (prefix == token_prefix(candidate)) type = candidate;
  }
  if (!type) return std::nullopt;
  auto decoded = base64url_decode(body);
  if (!decoded || decoded->size() != kTokenSecretBytes + kTokenMacBytes) return std::nullopt;
  std::string_view secret = std::string_view(*decoded).substr(0, kTokenSecretBytes);
  std::string_view mac = std::string_view(*decoded).substr(kTokenSecretBytes);
  std::string mac_input = token_mac_input(prefix, id, secret);
  Bytes expected = keyed_blake2b(mac_key_, mac_input, kTokenMacBytes);
  bool genuine = constant_time_equal(expected, mac);
  sodium_memzero(mac_input.data(), mac_input.size());
  sodium_memzero(decoded->data(), decoded->size());
  if (!genuine) return std::nullopt;
  return ParsedToken{*type, std::string(id)};
}

SecretKey CryptoKeys::derive(uint64_t subkey_id) const {
  return derive_subkey(master_copy_, subkey_id, kPurposeKdfContext);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace plugauth
