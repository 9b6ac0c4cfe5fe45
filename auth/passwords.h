// Passwords: argon2id through libsodium's crypto_pwhash_str (SPEC §5).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace plugauth {

constexpr size_t kMaxPasswordBytes = 1024;

// The encoded hash ("$argon2id$v=19$m=…"), with libsodium's interactive limits.
Result<std::string> hash_password(std::string_view password);
// Constant time in the password; false for any malformed hash.
bool verify_password(std::string_view password, const std::string& encoded_hash);
// Same cost as a real check, for unknown user names (no timing oracle).
void burn_password_check(std::string_view password);

}  // namespace plugauth
