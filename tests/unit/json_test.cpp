#include "common/json.h"

#include <catch2/catch.hpp>
#include <string>

using plugauth::is_valid_utf8;
using plugauth::parse_json_strict;

namespace {

std::string nested_arrays(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

}  // namespace

TEST_CASE("a well-formed JSON object parses, with surrounding whitespace allowed") {
  auto parsed = parse_json_strict(" \n{\"alg\": \"EdDSA\", \"n\": [1, 2.5, true, null]}\t ");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->is<picojson::object>());
  const auto& object = parsed->get<picojson::object>();
  CHECK(object.at("alg").get<std::string>() == "EdDSA");
  CHECK(object.at("n").get<picojson::array>().size() == 4);
}

TEST_CASE("an object that repeats a member name is rejected (RFC 7515 §5.2, RFC 8259 §4)") {
  auto parsed = parse_json_strict(R"({"alg":"EdDSA","alg":"none"})");
  REQUIRE_FALSE(parsed.ok());
  // auth/jwt.cpp tells a duplicate member from other syntax errors by this text.
  CHECK(parsed.error().message.find("duplicate key") != std::string::npos);
}

TEST_CASE("a duplicate member in a nested object is rejected too") {
  auto parsed = parse_json_strict(R"({"a":[{"b":1,"b":2}]})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.find("duplicate key") != std::string::npos);
}

TEST_CASE("the same member name in two different objects is allowed") {
  CHECK(parse_json_strict(R"({"a":{"b":1},"c":{"b":2}})").ok());
}

TEST_CASE("JSON that is not valid UTF-8 is rejected (RFC 8259 §8.1)") {
  CHECK_FALSE(parse_json_strict("{\"a\":\"\xff\"}").ok());
  CHECK_FALSE(parse_json_strict("{\"a\":\"\xc3\"}").ok());      // truncated sequence
  CHECK_FALSE(parse_json_strict("{\"a\":\"\x80\"}").ok());      // lone continuation byte
  CHECK_FALSE(parse_json_strict("{\"\xed\xa0\x80\":1}").ok());  // UTF-16 surrogate
  CHECK(parse_json_strict("{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}").ok());
}

TEST_CASE("overlong UTF-8 encodings are rejected, so '/' cannot hide as C0 AF") {
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));
  CHECK_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));
  CHECK_FALSE(parse_json_strict("\"\xc0\xaf\"").ok());
  CHECK(is_valid_utf8("/"));
}

TEST_CASE("code points beyond U+10FFFF are not UTF-8") {
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));
}

TEST_CASE("data after the JSON value is rejected") {
  CHECK_FALSE(parse_json_strict("{} x").ok());
  CHECK_FALSE(parse_json_strict("{}{}").ok());
  CHECK_FALSE(parse_json_strict("1 2").ok());
  auto parsed = parse_json_strict("{\"a\":1},");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.find("trailing") != std::string::npos);
}

TEST_CASE("empty input and syntax errors are rejected") {
  CHECK_FALSE(parse_json_strict("").ok());
  CHECK_FALSE(parse_json_strict("   ").ok());
  CHECK_FALSE(parse_json_strict("{\"a\":}").ok());
  CHECK_FALSE(parse_json_strict("{'a':1}").ok());
  CHECK_FALSE(parse_json_strict("[1,]").ok());
}

TEST_CASE("nesting up to 32 levels parses and deeper nesting is rejected") {
  CHECK(parse_json_strict(nested_arrays(32)).ok());
  CHECK(parse_json_strict(nested_objects(32)).ok());
  auto arrays = parse_json_strict(nested_arrays(33));
  REQUIRE_FALSE(arrays.ok());
  CHECK(arrays.error().message.find("deeply") != std::string::npos);
  CHECK_FALSE(parse_json_strict(nested_objects(33)).ok());
}

TEST_CASE("64 KiB of opening brackets is rejected without exhausting the stack") {
  auto parsed = parse_json_strict(std::string(64 * 1024, '['));
  CHECK_FALSE(parsed.ok());
  auto objects = parse_json_strict(std::string(64 * 1024 / 5, ' ') + nested_objects(64 * 1024 / 5));
  CHECK_FALSE(objects.ok());
}

TEST_CASE("a number too large for a double is rejected instead of throwing") {
  CHECK_FALSE(parse_json_strict("1e400").ok());
  CHECK_FALSE(parse_json_strict("[1, -1e999]").ok());
  CHECK_FALSE(parse_json_strict(R"({"exp":1e400})").ok());
  CHECK(parse_json_strict("1e300").ok());
}
