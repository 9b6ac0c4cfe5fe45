#include "http/request_framing.h"

#include <algorithm>

namespace plugauth::http {

bool served_on_loop(std::string_view head, const BodyFraming& body) {
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.substr(0, target.find('?')) != "/verify") return false;
  return !body.chunked && body.length == 0 && !body.expect;
}

Framing RequestFramer::next(std::string_view in) {
  Framing out;
  const size_t from = scanned_ > 3 ? scanned_ - 3 : 0;
  const size_t found = in.find("\r\n\r\n", from);
  if (found == std::string_view::npos) {
    // A refusal of a partial head is final: no bytes that follow make it
    // acceptable (a bare LF stays bare, a long line stays long).
    const std::string_view fresh = in.substr(std::min(scanned_, in.size()));
    if (in.size() >= scanned_ + kRecheckBytes || fresh.find_first_of("\r\n") != std::string_view::npos ||
        scanned_ == 0) {
      if (const HeadRefusal refusal = head_refusal(in)) {
        out.kind = Framing::Kind::Refuse;
        out.refusal = refusal;
        return out;
      }
      scanned_ = in.size();
    }
    return out;
  }
  const std::string_view head = in.substr(0, found + 4);
  // A head two parsers could read differently is refused here, on every
  // path, before the loop or httplib acts on it.
  if (const HeadRefusal refusal = head_refusal(head)) {
    out.kind = Framing::Kind::Refuse;
    out.refusal = refusal;
    return out;
  }
  out.head_end = head.size();
  const BodyFraming body = body_framing(head);
  if (served_on_loop(head, body)) {
    out.kind = Framing::Kind::Request;
    out.request_end = head.size();
    out.on_loop = true;
    return out;
  }
  // The whole request, body included, arrives on the loop, so a worker
  // never waits for a client.
  if (body.chunked) {
    out.kind = Framing::Kind::Refuse;
    out.refusal = {411, "a request body needs a Content-Length"};
    return out;
  }
  if (body.length > kMaxBodyBytes) {
    out.kind = Framing::Kind::Refuse;
    out.refusal = {413, "request body larger than 64 KiB"};
    return out;
  }
  if (in.size() - head.size() < body.length) {
    out.expects_continue = body.expects_continue;
    return out;
  }
  out.kind = Framing::Kind::Request;
  out.request_end = head.size() + body.length;
  return out;
}

}  // namespace plugauth::http
