// OAuth Client ID Metadata Documents (MCP 2025-11-25): a client_id that is
// an https URL names a JSON document describing the client. Its client_id
// must equal the URL and its redirect_uris are the only ones accepted. The
// client is kept in the store (registration "metadata_document", public) so
// grants can refer to it; every fetch refreshes its redirect URIs. Like a
// self-registered client it holds authorization_code and refresh_token only
// (SPEC §8.14); a document whose grant_types names anything else is refused.
#pragma once

#include <functional>
#include <string>

#include "auth/oauth_context.h"
#include "common/result.h"

namespace plugauth {

using DocumentFetcher = std::function<Result<std::string>(const std::string& url)>;

bool is_metadata_document_client_id(const std::string& client_id);

// Fetches (through `fetch`), validates and stores the client.
Result<store::ClientRecord> resolve_metadata_document_client(const std::string& url, const DocumentFetcher& fetch,
                                                             OAuthContext& ctx);

}  // namespace plugauth
