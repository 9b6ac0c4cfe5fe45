// Opaque token parsing (auth/crypto.h CryptoKeys::parse_token): API keys,
// refresh tokens, codes, sessions. Only the holder of the master key can
// make a token it accepts, so an accepted input is byte for byte a token
// minted here (the seed corpus holds them), with the type and id it was
// minted with.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto.h"

using namespace plugauth;

namespace {

// A deterministic source of "random" bytes, so the minted tokens (and the
// seeds) are the same on every run.
class CountingRandom final : public Random {
 public:
  void fill(void* buf, size_t n) override {
    auto* out = static_cast<unsigned char*>(buf);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(next_++ * 31 + 7);
  }

 private:
  unsigned next_ = 0;
};

struct Fixture {
  CryptoKeys keys{SecretKey(std::string(32, '\x42'))};
  std::vector<std::pair<MintedToken, TokenType>> minted;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    if (sodium_init() < 0) std::abort();
    Fixture out;
    CountingRandom random;
    for (TokenType t : {TokenType::ApiKey, TokenType::ServiceToken, TokenType::ClientSecret,
                        TokenType::AuthorizationCode, TokenType::RefreshToken, TokenType::RegistrationToken,
                        TokenType::Session})
      out.minted.emplace_back(out.keys.mint_token(t, random), t);
    return out;
  }();
  return f;
}

}  // namespace

// FUZZ_TOKEN_WRITE_SEEDS=DIR: writes the minted tokens as seeds.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("FUZZ_TOKEN_WRITE_SEEDS")) {
    int i = 0;
    for (const auto& [m, t] : fixture().minted)
      std::ofstream(std::string(dir) + "/minted-" + std::to_string(i++), std::ios::binary) << m.token;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = f.keys.parse_token(text);
  if (!parsed) return 0;
  for (const auto& [m, t] : f.minted)
    if (m.token == text) {
      if (parsed->type != t || parsed->id != m.id) std::abort();
      return 0;
    }
  std::abort();  // accepted a token nobody minted
}
