// Who may introspect what (SPEC §3 /introspect, RFC 7662 §2.2 and §4;
// auth/introspection.h), each case named for the rule.
#include <catch2/catch.hpp>

#include "auth/introspection.h"

using namespace plugauth;

namespace {

store::ClientRecord operator_client(const std::string& id, bool introspect = false) {
  store::ClientRecord c;
  c.client_id = id;
  c.registration = "cli";
  c.secret_hash = std::string(32, 's');
  c.introspect = introspect;
  return c;
}

store::ClientRecord self_registered(const std::string& id) {
  store::ClientRecord c = operator_client(id);
  c.registration = "dynamic";
  return c;
}

const IntrospectedToken kRefreshOfApp{IntrospectedKind::RefreshToken, "cl_app"};
const IntrospectedToken kAccessOfApp{IntrospectedKind::AccessToken, "cl_app"};
const IntrospectedToken kApiKey{IntrospectedKind::ApiKey, ""};
const IntrospectedToken kServiceToken{IntrospectedKind::ServiceToken, ""};

}  // namespace

TEST_CASE("a client learns about the refresh and access tokens issued to it") {
  const auto app = operator_client("cl_app");
  CHECK(may_introspect(app, kRefreshOfApp));
  CHECK(may_introspect(app, kAccessOfApp));
}

TEST_CASE("a self-registered client learns nothing from introspection about other clients' tokens") {
  const auto stranger = self_registered("cl_stranger");
  for (const auto& token : {kRefreshOfApp, kAccessOfApp, kApiKey, kServiceToken}) CHECK_FALSE(may_introspect(stranger, token));
  // Its own tokens, yes (RFC 7662 §4 allows the token's own client).
  CHECK(may_introspect(stranger, {IntrospectedKind::AccessToken, "cl_stranger"}));
}

TEST_CASE("an operator client without --introspect learns nothing about other clients' tokens") {
  const auto other = operator_client("cl_other");
  CHECK_FALSE(may_introspect(other, kRefreshOfApp));
  CHECK_FALSE(may_introspect(other, kAccessOfApp));
}

TEST_CASE("API keys and service tokens are introspected only by resource servers") {
  CHECK_FALSE(may_introspect(operator_client("cl_app"), kApiKey));
  CHECK_FALSE(may_introspect(operator_client("cl_app"), kServiceToken));
  const auto rs = operator_client("cl_rs", true);
  CHECK(may_introspect(rs, kApiKey));
  CHECK(may_introspect(rs, kServiceToken));
}

TEST_CASE("a resource server created with --introspect introspects every token") {
  const auto rs = operator_client("cl_rs", true);
  CHECK(is_resource_server(rs));
  for (const auto& token : {kRefreshOfApp, kAccessOfApp, kApiKey, kServiceToken}) CHECK(may_introspect(rs, token));
}

TEST_CASE("the introspect flag counts only on a confidential client the operator created") {
  // However the flag got there (a hand-edited row, a future code path), a
  // client that registered itself, a metadata document or a public client is
  // never a resource server.
  auto dynamic = self_registered("cl_dyn");
  dynamic.introspect = true;
  auto document = operator_client("https://evil.example/client.json", true);
  document.registration = "metadata_document";
  auto public_client = operator_client("cl_pub", true);
  public_client.is_public = true;
  auto no_secret = operator_client("cl_nosecret", true);
  no_secret.secret_hash.reset();
  for (const auto& c : {dynamic, document, public_client, no_secret}) {
    INFO(c.client_id);
    CHECK_FALSE(is_resource_server(c));
    CHECK_FALSE(may_introspect(c, kApiKey));
    CHECK_FALSE(may_introspect(c, kAccessOfApp));
  }
}

TEST_CASE("a token with no client is nobody's own token") {
  // An empty client id on both sides must not read as "the same client".
  auto nameless = operator_client("");
  CHECK_FALSE(may_introspect(nameless, {IntrospectedKind::AccessToken, ""}));
  CHECK_FALSE(may_introspect(nameless, {IntrospectedKind::RefreshToken, ""}));
}

TEST_CASE("client ids compare exactly") {
  const auto app = operator_client("cl_app");
  CHECK_FALSE(may_introspect(app, {IntrospectedKind::AccessToken, "CL_APP"}));
  CHECK_FALSE(may_introspect(app, {IntrospectedKind::AccessToken, "cl_app "}));
  CHECK_FALSE(may_introspect(app, {IntrospectedKind::AccessToken, "cl_ap"}));
}
