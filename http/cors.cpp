#include "http/cors.h"

#include <httplib.h>

#include <algorithm>

namespace plugauth::http {
namespace {

bool is_public_document(const std::string& path) { return path.rfind("/.well-known/", 0) == 0; }

bool is_cors_endpoint(const std::string& path) {
  return path == "/token" || path == "/register" || path == "/revoke";
}

}  // namespace

bool apply_cors(const httplib::Request& req, httplib::Response& res, const Config& config) {
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return false;
  std::string allow;
  if (is_public_document(req.path)) {
    allow = "*";
  } else if (is_cors_endpoint(req.path)) {
    const auto& list = config.cors_origins;
    if (std::find(list.begin(), list.end(), "*") != list.end()) allow = "*";
    else if (std::find(list.begin(), list.end(), origin) != list.end()) allow = origin;
  }
  if (allow.empty()) return false;
  res.set_header("Access-Control-Allow-Origin", allow);
  if (allow != "*") res.set_header("Vary", "Origin");
  res.set_header("Access-Control-Expose-Headers", "WWW-Authenticate");
  if (req.method != "OPTIONS") return false;
  res.status = 204;
  res.set_header("Access-Control-Allow-Methods", is_public_document(req.path) ? "GET, OPTIONS" : "POST, OPTIONS");
  res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version");
  res.set_header("Access-Control-Max-Age", "600");
  return true;
}

}  // namespace plugauth::http
