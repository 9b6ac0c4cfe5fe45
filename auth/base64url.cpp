#include "auth/base64url.h"

#include <sodium.h>

namespace plugauth {

namespace {
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// libsodium 1.0.18 (Debian bookworm) reads every byte from 0x80 to 0xFF as
// the alphabet's last character ('_', or '/' in RFC 4648 §4's alphabet):
// found by tests/fuzz/fuzz_opaque_token, where a token with one '_' replaced
// by 0xA8 passed. A second spelling of a token, a JWT signature or Basic
// credentials is not accepted here: the decoders check the alphabet first.
// `padded`: RFC 4648 §4 with '=' padding, else §5 without.
std::optional<std::string> decode(std::string_view text, bool padded) {
  for (char c : text) {
    const bool ok = padded ? is_alnum(c) || c == '+' || c == '/' || c == '=' : is_alnum(c) || c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  std::string out(text.size() * 3 / 4 + 1, '\0');
  size_t decoded_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &decoded_len, &end, padded ? sodium_base64_VARIANT_ORIGINAL : kVariant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(decoded_len);
  return out;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  // sodium_base64_ENCODED_LEN counts the terminating NUL.
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);
  return out;
}

// libsodium stops at the first character outside the alphabet ('=' included)
// and reports success for what came before it, so a decode only counts when
// it consumed the whole input. It already refuses non-zero trailing bits and
// a dangling single character; ignore=nullptr makes whitespace an error too.
std::optional<std::string> base64url_decode(std::string_view text) { return decode(text, false); }

std::optional<std::string> base64_decode(std::string_view text) { return decode(text, true); }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

}  // namespace plugauth
