// The log and terminal escaper (common/escape.h, SPEC §9 "Logs"): one test
// per class of character it must neutralise, and what it must leave alone.
#include "common/escape.h"

#include <catch2/catch.hpp>
#include <string>

using plugauth::escape_for_log;
using namespace std::string_literals;

TEST_CASE("the escaper turns CR and LF into hex escapes, so one event is one line") {
  CHECK(escape_for_log("zed\n2026-12-03T08:00:00Z  login  subject=u_1  status=200") ==
        "zed\\x0a2026-12-03T08:00:00Z  login  subject=u_1  status=200");
  CHECK(escape_for_log("a\rb\r\n") == "a\\x0db\\x0d\\x0a");
}

TEST_CASE("the escaper neutralises ESC and BEL: no retitle, no clear screen, no line erase") {
  CHECK(escape_for_log("\x1b]0;owned\x07\x1b[2J") == "\\x1b]0;owned\\x07\\x1b[2J");
  CHECK(escape_for_log("\r\x1b[2Kalice  login  status=200") == "\\x0d\\x1b[2Kalice  login  status=200");
}

TEST_CASE("the escaper escapes every C0 control, NUL and DEL") {
  for (int c = 0; c < 0x20; ++c) {
    const std::string out = escape_for_log(std::string(1, static_cast<char>(c)));
    CHECK(out.size() == 4);
    CHECK(out.substr(0, 2) == "\\x");
  }
  CHECK(escape_for_log("\0"s) == "\\x00");
  CHECK(escape_for_log("\x7f") == "\\x7f");
}

TEST_CASE("the escaper escapes C1 controls written as UTF-8") {
  CHECK(escape_for_log("a\xc2\x9b" "2Jb") == "a\\u{9b}2Jb");  // U+009B CSI
  CHECK(escape_for_log("\xc2\x85") == "\\u{85}");               // U+0085 NEL
}

TEST_CASE("the escaper escapes bidirectional overrides, isolates, marks and line separators") {
  CHECK(escape_for_log("evil\xe2\x80\xaegnp.exe") == "evil\\u{202e}gnp.exe");  // U+202E RLO
  CHECK(escape_for_log("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u{2066}x\\u{2069}");
  CHECK(escape_for_log("\xe2\x80\x8f") == "\\u{200f}");
  CHECK(escape_for_log("\xd8\x9c") == "\\u{61c}");
  CHECK(escape_for_log("a\xe2\x80\xa8" "b") == "a\\u{2028}b");
}

TEST_CASE("the escaper escapes bytes that are not valid UTF-8") {
  CHECK(escape_for_log("\xff") == "\\xff");
  CHECK(escape_for_log("\xc0\xaf") == "\\xc0\\xaf");            // overlong "/"
  CHECK(escape_for_log("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  CHECK(escape_for_log("\xe2\x80") == "\\xe2\\x80");            // truncated
}

TEST_CASE("the escaper doubles a backslash, so an escape always means one in the input") {
  CHECK(escape_for_log("zed\\x0a") == "zed\\\\x0a");
}

TEST_CASE("the escaper leaves printable ASCII and ordinary UTF-8 alone") {
  CHECK(escape_for_log("GET /admin/users 403 client=127.0.0.1") == "GET /admin/users 403 client=127.0.0.1");
  CHECK(escape_for_log("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91") == "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
  CHECK(escape_for_log("ch\xd0\xb0tgpt.com") == "ch\xd0\xb0tgpt.com");  // a look-alike letter is still a letter
}

TEST_CASE("a stranger's name is plain text only without controls, bidi overrides or broken UTF-8") {
  using plugauth::is_plain_text;
  CHECK(is_plain_text("My GPT"));
  CHECK(is_plain_text("Café Notes \xe6\x97\xa5\xe6\x9c\xac"));  // accents and CJK are fine
  CHECK(is_plain_text("back\\slash"));
  CHECK_FALSE(is_plain_text("Notes\xe2\x80\xae" "ppa"));  // U+202E RLO
  CHECK_FALSE(is_plain_text("\xe2\x81\xa6x"));            // U+2066 isolate
  CHECK_FALSE(is_plain_text("a\x1b[2Kb"));
  CHECK_FALSE(is_plain_text("a\nb"));
  CHECK_FALSE(is_plain_text("a\x7f"));
  CHECK_FALSE(is_plain_text("\xc2\x9b"));                // C1 CSI
  CHECK_FALSE(is_plain_text("\xff"));                    // not UTF-8
  CHECK_FALSE(is_plain_text("\xe2\x80"));                // cut sequence
}

TEST_CASE("a name is cut at a byte limit without splitting a UTF-8 sequence") {
  using plugauth::utf8_prefix;
  CHECK(utf8_prefix("abc", 10) == "abc");
  CHECK(utf8_prefix("abcdef", 3) == "abc");
  CHECK(utf8_prefix("ab\xe6\x97\xa5", 4) == "ab");       // the 3-byte character would be cut
  CHECK(utf8_prefix("ab\xe6\x97\xa5", 5) == "ab\xe6\x97\xa5");
  CHECK(plugauth::is_plain_text(utf8_prefix("\xe6\x97\xa5\xe6\x97\xa5", 4)));
}
