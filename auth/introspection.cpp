#include "auth/introspection.h"

namespace plugauth {

bool is_resource_server(const store::ClientRecord& client) {
  return client.introspect && client.registration == "cli" && !client.is_public && client.secret_hash.has_value();
}

bool may_introspect(const store::ClientRecord& caller, const IntrospectedToken& token) {
  if (is_resource_server(caller)) return true;
  switch (token.kind) {
    case IntrospectedKind::RefreshToken:
    case IntrospectedKind::AccessToken:
      return !token.client_id.empty() && token.client_id == caller.client_id;
    case IntrospectedKind::ApiKey:
    case IntrospectedKind::ServiceToken:
      return false;
  }
  return false;
}

}  // namespace plugauth
