// RFC 4226 / RFC 6238 test vectors and the acceptance rules of auth/totp.
#include "auth/totp.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace plugauth;

namespace {
const std::string kRfcSecret = "12345678901234567890";  // RFC 4226 Appendix D, RFC 6238 Appendix B (SHA1)
}

TEST_CASE("HOTP matches RFC 4226 Appendix D") {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) {
    INFO("counter " << i);
    CHECK(totp::hotp(kRfcSecret, i) == expected[i]);
  }
}

TEST_CASE("TOTP matches RFC 6238 Appendix B (SHA1, 8 digits)") {
  const std::pair<int64_t, const char*> vectors[] = {{59, "94287082"},          {1111111109, "07081804"},
                                                     {1111111111, "14050471"},  {1234567890, "89005924"},
                                                     {2000000000, "69279037"},  {20000000000, "65353130"}};
  for (const auto& [t, code] : vectors) {
    INFO("T = " << t);
    CHECK(totp::hotp(kRfcSecret, static_cast<uint64_t>(t / totp::kStepSeconds), 8) == code);
    // The 6-digit code an app shows is the same value mod 10^6.
    CHECK(totp::hotp(kRfcSecret, static_cast<uint64_t>(t / totp::kStepSeconds)) == std::string(code).substr(2));
  }
}

TEST_CASE("base32 matches RFC 4648 §10") {
  CHECK(totp::base32("") == "");
  CHECK(totp::base32("f") == "MY");
  CHECK(totp::base32("fo") == "MZXQ");
  CHECK(totp::base32("foo") == "MZXW6");
  CHECK(totp::base32("foob") == "MZXW6YQ");
  CHECK(totp::base32("fooba") == "MZXW6YTB");
  CHECK(totp::base32("foobar") == "MZXW6YTBOI");
  CHECK(totp::base32(kRfcSecret) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST_CASE("a code counts for its step and one either side, later than the last used, and only as 6 digits") {
  const int64_t now = 1111111111;  // step 37037037
  const int64_t step = now / totp::kStepSeconds;
  const std::string current = totp::hotp(kRfcSecret, static_cast<uint64_t>(step));
  CHECK(totp::accepted_step(kRfcSecret, current, now, -1) == step);
  CHECK(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step - 1), now, -1) == step - 1);
  CHECK(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step + 1), now, -1) == step + 1);
  CHECK_FALSE(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step - 2), now, -1));
  CHECK_FALSE(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step + 2), now, -1));
  // Used once: the same step, or an earlier one, no longer counts.
  CHECK_FALSE(totp::accepted_step(kRfcSecret, current, now, step));
  CHECK_FALSE(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step - 1), now, step - 1));
  CHECK(totp::accepted_step(kRfcSecret, totp::hotp(kRfcSecret, step + 1), now, step) == step + 1);
  // Wrong shapes never match.
  for (const std::string& bad : std::vector<std::string>{"", "12345", "1234567", current + " ", " " + current, "12345a", "-12345"})
    CHECK_FALSE(totp::accepted_step(kRfcSecret, bad, now, -1));
  // Another secret's code does not work.
  CHECK_FALSE(totp::accepted_step("abcdefghijabcdefghij", current, now, -1));
}

TEST_CASE("otpauth URI in the Key Uri Format, with the label escaped") {
  CHECK(totp::otpauth_uri("auth.example.com", "alice", kRfcSecret) ==
        "otpauth://totp/auth.example.com:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=auth.example.com"
        "&algorithm=SHA1&digits=6&period=30");
  // Apps split the label at its first colon, escaped or not: none inside a name.
  CHECK(totp::otpauth_uri("127.0.0.1:7070", "bob smith&co:1", "x").find("otpauth://totp/127.0.0.1-7070:bob%20smith%26co-1?") ==
        0);
}
